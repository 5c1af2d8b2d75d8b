/**
 * The live view of `ringrift-coord run` on a terminal: the daemons (lifecycle state, what their
 * machine is doing, restarts, rejections) and each config's place in the pipeline, redrawn in
 * place a few times a second. `renderLiveView` is pure (a frame from a state) so that it can be
 * tested; `LiveView` gathers the state from the router and the supervisor and draws it.
 */

import type { DaemonStatus, Envelope, StorageHealth } from '../index.js';

/** Where a config's current chain is, by the last event of it that was seen. */
export const STAGE_OF: Readonly<Record<string, string>> = {
  SELFPLAY_TARGET_UPDATED: 'selfplay requested',
  SELFPLAY_COMPLETE: 'selfplay done',
  DATA_SYNC_COMPLETED: 'synced',
  NPZ_EXPORT_STARTED: 'exporting',
  NEW_GAMES_AVAILABLE: 'exported',
  TRAINING_THRESHOLD_PENDING: 'collecting games',
  TRAINING_THRESHOLD_REACHED: 'training requested',
  TRAINING_STARTED: 'training',
  TRAINING_COMPLETED: 'trained',
  EVALUATION_STARTED: 'evaluating',
  EVALUATION_COMPLETED: 'evaluated',
  MODEL_PROMOTED: 'promoted',
  PROMOTION_REJECTED: 'rejected',
  MODEL_DISTRIBUTION_COMPLETE: 'distributed',
  TASK_FAILED: 'selfplay failed',
  DATA_SYNC_FAILED: 'sync failed',
  EXPORT_VALIDATION_FAILED: 'export failed',
  TRAINING_FAILED: 'training failed',
  EVALUATION_FAILED: 'evaluation failed',
  PROMOTION_FAILED: 'promotion failed',
  MODEL_DISTRIBUTION_FAILED: 'distribution failed',
};

export interface ConfigProgress {
  iteration: number;
  stage: string;
  promotions: number;
  rejections: number;
  failures: number;
  /** Its share of selfplay (SELFPLAY_ALLOCATION_UPDATED), once the curriculum has set one. */
  share?: number;
}

export interface DaemonRow
  extends Pick<DaemonStatus, 'daemon' | 'state' | 'restarts' | 'rejections'> {
  /** The state of the daemon's machine (`working`, `backingOff`), when it runs. */
  readonly activity: string | null;
}

export interface LiveState {
  readonly profile: string;
  readonly elapsedMs: number;
  /** Done so far and asked for (0 = forever); null on a profile that does not drive iterations. */
  readonly iterations: { readonly done: number; readonly of: number } | null;
  readonly events: number;
  readonly daemons: readonly DaemonRow[];
  readonly configs: Readonly<Record<string, ConfigProgress>>;
  /** The event log, when it is not ok (a full disk, a held lock): shown under the title. */
  readonly storage?: StorageHealth | null;
  /** The most recent alerts, oldest first. */
  readonly alerts?: readonly { readonly severity: string; readonly message: string }[];
}

/** Alerts the live view shows. */
const SHOWN_ALERTS = 3;

/** One line on a file that refuses writes, for the live view and the log. */
export function describeStorage(storage: StorageHealth, nowMs = Date.now()): string {
  const since =
    storage.since === null ? '' : ` for ${((nowMs - storage.since) / 1000).toFixed(0)} s`;
  return storage.state === 'failed'
    ? `event log FAILED: ${storage.reason ?? storage.code ?? 'damaged'}`
    : `event log DEGRADED${since} (${storage.code ?? 'unknown'}): ${storage.queuedEvents} events queued in memory; waiting: ${storage.waiting.join(', ')}`;
}

/** One frame, as lines (no colours: it must read the same in a log capture). */
export function renderLiveView(state: LiveState): string[] {
  const seconds = (state.elapsedMs / 1000).toFixed(1);
  const iterations = state.iterations
    ? `  iteration ${state.iterations.done}/${state.iterations.of === 0 ? '∞' : state.iterations.of}`
    : '';
  // Columns as wide as their longest value (waiting_for_dependencies is long), never narrower.
  const width = (values: readonly string[], least: number) =>
    Math.max(least, ...values.map((v) => v.length + 2));
  const stateWidth = width(
    state.daemons.map((d) => d.state),
    10,
  );
  const doingWidth = width(
    state.daemons.map((d) => d.activity ?? '-'),
    12,
  );
  const lines = [
    `ringrift-coord run · profile ${state.profile} · ${seconds} s · ${state.events} events${iterations}`,
    ...(state.storage && state.storage.state !== 'ok'
      ? [`  ${describeStorage(state.storage)}`]
      : []),
    '',
    `  ${'daemon'.padEnd(26)}${'state'.padEnd(stateWidth)}${'doing'.padEnd(doingWidth)}restarts  rejected`,
  ];
  for (const d of state.daemons) {
    lines.push(
      `  ${d.daemon.padEnd(26)}${d.state.padEnd(stateWidth)}${(d.activity ?? '-').padEnd(doingWidth)}${String(d.restarts).padStart(8)}  ${String(d.rejections).padStart(8)}`,
    );
  }
  const configs = Object.entries(state.configs);
  if (configs.length > 0) {
    lines.push(
      '',
      `  ${'config'.padEnd(16)}${'iteration'.padStart(9)}  ${'stage'.padEnd(20)}promoted  rejected  failed  selfplay`,
    );
    for (const [config, p] of configs.sort(([a], [b]) => a.localeCompare(b))) {
      const share = p.share === undefined ? '-' : `${(p.share * 100).toFixed(0)}%`;
      lines.push(
        `  ${config.padEnd(16)}${String(p.iteration).padStart(9)}  ${p.stage.padEnd(20)}${String(p.promotions).padStart(8)}  ${String(p.rejections).padStart(8)}  ${String(p.failures).padStart(6)}  ${share.padStart(8)}`,
      );
    }
  }
  const alerts = state.alerts ?? [];
  if (alerts.length > 0) {
    lines.push(
      '',
      `  alerts (${alerts.length}; the last ${Math.min(alerts.length, SHOWN_ALERTS)}):`,
    );
    for (const a of alerts.slice(-SHOWN_ALERTS))
      lines.push(`    ${a.severity.padEnd(8)} ${a.message}`);
  }
  return lines;
}

/** Folds one pipeline event into the per-config progress (in place; returns it). */
export function trackProgress(
  configs: Record<string, ConfigProgress>,
  envelope: Pick<Envelope, 'type' | 'payload' | 'correlationId'>,
): Record<string, ConfigProgress> {
  if (envelope.type === 'SELFPLAY_ALLOCATION_UPDATED') {
    const shares = envelope.payload.allocation_weights as Record<string, number> | undefined;
    for (const [config, share] of Object.entries(shares ?? {})) {
      configs[config] ??= { iteration: 0, stage: '-', promotions: 0, rejections: 0, failures: 0 };
      configs[config].share = share;
    }
    return configs;
  }
  const stage = STAGE_OF[envelope.type];
  // The MasterLoop names each chain `iteration-N:config`; events without a config_key (the
  // distribution's) are placed by it.
  const chain = /^iteration-(\d+):(.+)$/.exec(envelope.correlationId ?? '');
  const config =
    typeof envelope.payload.config_key === 'string' ? envelope.payload.config_key : chain?.[2];
  if (!stage || !config) return configs;
  configs[config] ??= { iteration: 0, stage, promotions: 0, rejections: 0, failures: 0 };
  const progress = configs[config];
  progress.stage = stage;
  if (chain) progress.iteration = Math.max(progress.iteration, Number(chain[1]));
  if (envelope.type === 'MODEL_PROMOTED') progress.promotions++;
  if (envelope.type === 'PROMOTION_REJECTED') progress.rejections++;
  if (stage.endsWith('failed')) progress.failures++;
  return configs;
}

export interface LiveViewSource {
  readonly profile: string;
  readonly iterationsAsked: number | null;
  daemons(): readonly DaemonRow[];
  storage?(): StorageHealth | null;
  alerts?(): readonly { readonly severity: string; readonly message: string }[];
}

/** Redraws the frame in place on `out` (a terminal) every `intervalMs`, and once at the end. */
export class LiveView {
  private readonly configs: Record<string, ConfigProgress> = {};
  private events = 0;
  private iterationsDone = 0;
  private drawn = 0;
  private readonly started = performance.now();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly source: LiveViewSource,
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs = 250,
  ) {}

  /** Feed every event the run sees. */
  observe(envelope: Envelope): void {
    this.events++;
    if (envelope.type === 'ITERATION_COMPLETE') this.iterationsDone++;
    trackProgress(this.configs, envelope);
  }

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    // The view must not be what keeps a finished run alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.draw();
  }

  private draw(): void {
    const frame = renderLiveView({
      profile: this.source.profile,
      elapsedMs: performance.now() - this.started,
      iterations:
        this.source.iterationsAsked === null
          ? null
          : { done: this.iterationsDone, of: this.source.iterationsAsked },
      events: this.events,
      daemons: this.source.daemons(),
      configs: this.configs,
      storage: this.source.storage?.(),
      alerts: this.source.alerts?.(),
    });
    // Up over the previous frame, then each line cleared and rewritten; lines left over from a
    // longer previous frame are cleared below.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    const body = frame.map((l) => `\x1b[2K${l}`).join('\n');
    const rest = this.drawn > frame.length ? '\x1b[0J' : '';
    this.out.write(`${up}${body}\n${rest}`);
    this.drawn = frame.length;
  }
}
