/**
 * `ringrift-coord run`: the pipeline daemons under the supervisor, driven by the MasterLoop, with
 * the simulated worker (or configured commands), until the iterations are done or Ctrl-C; then a
 * summary. Progress goes to the log: pretty on a TTY, JSON lines otherwise.
 */
import { hostname } from 'node:os';
import { GUIDE_ROWS } from '../events/guide-tables.js';
import {
  busyConsumers,
  type CommandConfig,
  ConsumerBusyError,
  clusterFromFlags,
  createCommandWorker,
  createLogger,
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  type Envelope,
  InvalidOptionError,
  inspectEventLog,
  loadRingriftConfig,
  PIPELINE_PROFILES,
  type PipelineProfile,
  type Runtime,
  resolveCluster,
  statePath,
  unimplementedOfOriginalProfile,
  WORK_KINDS,
  type Worker,
} from '../index.js';
import { type InFlight, InFlightWork } from './in-flight.js';
import { type DaemonRow, LiveView } from './live-view.js';

export interface RunOptions {
  /** Which pipeline daemons this process runs; standalone (all of them). */
  readonly profile?: PipelineProfile;
  readonly configs: readonly string[];
  /** 0 = forever. */
  readonly iterations: number;
  readonly dbPath: string | false;
  readonly configFile?: string;
  readonly inspect?: 'stately' | 'local';
  /** The inspector's port on 127.0.0.1; 8080. */
  readonly inspectPort?: number;
  /** The local inspector's page may send events. */
  readonly inspectAllowSend?: boolean;
  readonly seed?: number;
  /**
   * Simulated training hosts that join, drop out and come back (presence only; see
   * `LocalPresence`); 2 with the simulated worker and no cluster, else 0.
   */
  readonly simulatedHosts?: number;
  readonly gamesPerBatch?: number;
  /** `live`: the live view on `out` (the default on a terminal); `log`: log lines only. */
  readonly view?: 'live' | 'log';
  /**
   * Join a cluster on NATS JetStream: `--nats`, `--host`, `--cluster` (and the environment),
   * over the `cluster` of the config file.
   */
  readonly clusterFlags?: {
    readonly nats?: string;
    readonly host?: string;
    readonly cluster?: string;
  };
}

export interface RunSummary {
  readonly profile: PipelineProfile;
  readonly iterations: number;
  /** TRAINING_COMPLETED events seen (from this process or, split, the other one). */
  readonly trainings: number;
  readonly durationMs: number;
  readonly promotions: number;
  readonly rejections: number;
  readonly failures: number;
  readonly eventsByType: Readonly<Record<string, number>>;
  readonly interrupted: boolean;
  /** Daemons that failed for good (the run ended because of them), with their last error. */
  readonly failedDaemons: readonly { readonly daemon: string; readonly error: string | null }[];
  /** Set when the run stopped because its event log's file is damaged: one line, naming the file. */
  readonly fatal: string | null;
  /** Accepted cross-process events the file never took (it refused writes until the end). */
  readonly unwrittenEvents: number;
  /**
   * Work begun and not ended when the run stopped (stopped with the daemons: an idle-GPU batch's
   * training, say). The counts above are of completed work only.
   */
  readonly inFlight: readonly InFlight[];
  /** Each chain that ended in a failure event of this run: what failed, for which config, why. */
  readonly failed: readonly {
    readonly type: string;
    readonly config: string;
    readonly reason: string;
  }[];
}

/** The exit codes of `ringrift-coord` (documented in its usage and the README). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/**
 * 1 when something failed (the event log's file is damaged, a daemon failed for good, a chain
 * ended in failure, fewer iterations than asked), 130 when a signal stopped a run before its
 * iterations were done, else 0.
 */
export function runExitCode(summary: RunSummary, iterationsAsked: number): number {
  if (summary.fatal || summary.failedDaemons.length > 0) return EXIT.failure;
  const drives = PIPELINE_PROFILES[summary.profile].includes('MASTER_LOOP');
  const unfinished = drives && iterationsAsked > 0 && summary.iterations < iterationsAsked;
  // A training node serves until a signal: that is its normal end. A run that drives iterations
  // and was stopped before they were done (forever never is) did not do what it was asked.
  if (summary.interrupted)
    return drives && (unfinished || iterationsAsked === 0) ? EXIT.interrupted : EXIT.ok;
  if (summary.failed.length > 0 || unfinished) return EXIT.failure;
  return EXIT.ok;
}

const FAILURES = new Set([
  'TRAINING_FAILED',
  'EVALUATION_FAILED',
  'PROMOTION_FAILED',
  'DATA_SYNC_FAILED',
  'MODEL_DISTRIBUTION_FAILED',
  'TASK_FAILED',
  'EXPORT_VALIDATION_FAILED',
]);
const MILESTONES = new Set([
  'ITERATION_COMPLETE',
  'MODEL_PROMOTED',
  'PROMOTION_REJECTED',
  'ALL_CRITICAL_DAEMONS_READY',
  ...FAILURES,
]);

export async function runPipeline(
  options: RunOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<RunSummary> {
  if (options.configs.length === 0)
    throw new InvalidOptionError('--configs', 'at least one config key', '');
  const liveMode =
    (options.view ?? ((out as { isTTY?: boolean }).isTTY ? 'live' : 'log')) === 'live';
  // Info lines would scroll the live view away: it shows what they say. Asked-for levels stand.
  const logger = createLogger({
    name: 'run',
    level: liveMode && process.env.RINGRIFT_LOG_LEVEL === undefined ? 'warn' : undefined,
  });
  const file = options.configFile ? await loadRingriftConfig(options.configFile) : null;
  const cluster = clusterFromFlags(options.clusterFlags ?? {}, process.env, file?.cluster);
  if (cluster) resolveCluster(cluster); // every cluster option checked before anything opens
  if (cluster && options.dbPath === false)
    throw new InvalidOptionError(
      '--no-db',
      'left out with --nats (the host file is the cluster outbox)',
      true,
    );
  const worker = await workerFor(file?.workers ?? null, logger, options.seed, cluster === null);
  const games = options.gamesPerBatch ?? 100;
  const profile = options.profile ?? 'standalone';
  const members: readonly string[] = PIPELINE_PROFILES[profile];
  const drivesIterations = members.includes('MASTER_LOOP');
  if (profile !== 'standalone' && options.dbPath === false)
    throw new InvalidOptionError(
      '--db',
      `a SQLite file for the ${profile} profile (its other half is another process)`,
      'none',
    );
  const simulatedWorld = !file?.workers;
  if (options.simulatedHosts && cluster)
    throw new InvalidOptionError(
      '--simulated-hosts',
      'left out with --nats (the cluster has real hosts)',
      options.simulatedHosts,
    );
  const daemons = createPipelineDaemons({
    worker,
    trainingThreshold: games,
    durable: options.dbPath !== false,
    cluster: cluster ? { host: cluster.host } : undefined,
    masterLoop: { configs: options.configs, iterations: options.iterations, gamesPerBatch: games },
    // The simulated world runs a thousand times faster than a real one: its recovery retries, its
    // job retries, its idle GPU and its longest pause go at the same pace (30 s and 120 s would never come in a run;
    // a 1 s retry of a 15 ms sync made an outage's iterations 100 times longer than the others).
    // Only in one process: split or in a cluster, waiting on another process looks like an idle
    // GPU.
    ...(simulatedWorld && profile === 'standalone' && !cluster
      ? {
          recovery: { baseDelayMs: 200 },
          idleSeconds: 0.15,
          maxPauseMs: 1_800,
          jobRetryDelayMs: (attempt: number) => 100 * 2 ** (attempt - 1),
        }
      : {}),
  }).filter((d) => members.includes(d.type));
  const unimplemented = unimplementedOfOriginalProfile(profile);
  if (unimplemented.length > 0)
    logger.warn(
      { profile, daemons: unimplemented },
      `the original's ${profile} profile also lists ${unimplemented.length} daemons that have no machine here; they do not run`,
    );
  if (options.dbPath) {
    // Another process serving the same durable daemons on this file (a second training node)
    // would be refused them at start and retried until it gives up: say so now instead.
    const busy = busyConsumers(
      options.dbPath,
      daemons.filter((d) => d.durable).map((d) => d.type),
    );
    if (busy[0]) throw new ConsumerBusyError(busy[0].name, busy[0].owner);
  }
  const runtime = createRuntime({
    profile: members,
    profileName: profile,
    daemons,
    // A training node keeps one name per host, so that after a crash it resumes the training it
    // was running from its snapshot. A run that drives iterations starts afresh each time (its
    // MasterLoop must not resume a finished run), so it takes a new name.
    runtimeId: drivesIterations ? undefined : `${profile}@${cluster?.host ?? hostname()}`,
    dbPath: options.dbPath,
    cluster: cluster ?? undefined,
    // Without a cluster the host itself is the cluster (its presence and lead), with simulated
    // hosts coming and going in a simulated world; the process that drives iterations says so.
    localPresence:
      !cluster && drivesIterations
        ? {
            host: 'localhost',
            simulatedHosts: options.simulatedHosts ?? (simulatedWorld ? 2 : 0),
            seed: options.seed ?? 1,
          }
        : undefined,
    logger,
    inspect: options.inspect,
    inspectPort: options.inspectPort,
    inspectAllowSend: options.inspectAllowSend,
  });
  const counts: Record<string, number> = {};
  const live = liveMode
    ? new LiveView(
        {
          profile,
          iterationsAsked: drivesIterations ? options.iterations : null,
          daemons: () => daemonRows(runtime),
          storage: () => runtime.eventLog?.health() ?? null,
          alerts: () => runtime.alerts(),
        },
        out,
      )
    : null;
  const failed: { type: string; config: string; reason: string }[] = [];
  const inFlight = new InFlightWork();
  runtime.router.subscribe('*', (e: Envelope) => {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    inFlight.observe(e);
    if (FAILURES.has(e.type))
      failed.push({
        type: e.type,
        config: String(e.payload.config_key ?? e.correlationId ?? '-'),
        reason: String(
          e.payload.error ?? e.payload.reason ?? e.payload.errors ?? 'no reason given',
        ),
      });
    live?.observe(e);
    // The live view shows the milestones; log lines would scroll it away.
    if (!live && MILESTONES.has(e.type))
      logger.info(
        { type: e.type, config_key: e.payload.config_key, correlation: e.correlationId },
        e.type,
      );
  });
  const started = performance.now();
  let interrupted = false;
  let fatal: string | null = null;
  const failedDaemons: { daemon: string; error: string | null }[] = [];
  const finished = new Promise<void>((resolve) => {
    // A damaged file: the runtime stops itself; the run ends with the reason (exit 1).
    runtime.onFatal((error) => {
      fatal = error.message;
      resolve();
    });
    // A daemon that failed for good will not come back by itself (restart intensity exceeded, or
    // another process holds what it needs): waiting on would hide it, so the run ends, failed.
    onDaemonFailedForGood(runtime, (daemon, error) => {
      failedDaemons.push({ daemon, error });
      logger.error({ daemon, error }, 'a daemon failed for good; stopping the run');
      resolve();
    });
    const onSignal = () => {
      interrupted = true;
      logger.info('interrupted; stopping the daemons');
      resolve();
    };
    // SIGHUP too: the terminal went away, which is a stop like any other, not a crash.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
    // Status changes of other processes on the same event log arrive here too: only ours count.
    if (drivesIterations)
      runtime.router.subscribe('DAEMON_STATUS_CHANGED', (e) => {
        if (
          e.origin.runtimeId === runtime.runtimeId &&
          e.payload.daemon_name === 'MASTER_LOOP' &&
          e.payload.new_status === 'stopped' &&
          // In a cluster a MasterLoop also stops when this runtime loses the lead: it waits then.
          (runtime.cluster === null || runtime.cluster.health().leading)
        )
          resolve();
      });
  });
  await runtime.start();
  live?.start();
  logger.info(
    { profile, daemons: members },
    drivesIterations
      ? `running ${options.iterations === 0 ? 'forever' : `${options.iterations} iterations`} over ${options.configs.join(', ')}`
      : 'serving the coordinator until SIGINT or SIGTERM',
  );
  // Printed, not only logged: the live view holds info lines back, and the URL carries the token.
  if (runtime.inspectorUrl)
    out.write(
      options.inspect === 'local'
        ? `inspector: ${runtime.inspectorUrl}\n`
        : `Stately inspector (needs internet in the browser): ${runtime.inspectorUrl}\n`,
    );
  await finished;
  const clean = !interrupted && fatal === null && failedDaemons.length === 0;
  // The iterations are done; work still running (an idle-GPU batch's training, say) may end in a
  // moment, and is then counted rather than stopped. Work begun after this (AUTO_SYNC's catch-up
  // when a host came back in the last moments) is not waited for: the summary names it.
  if (clean && inFlight.list().length > 0) {
    logger.info(
      { work: inFlight.list(), waitMs: DRAIN_MS },
      'waiting for the work in flight to end before stopping',
    );
    await inFlight.ended(DRAIN_MS);
  }
  if (clean && options.dbPath)
    await durableCaughtUp(
      options.dbPath,
      daemons.filter((d) => d.durable).map((d) => d.type),
    );
  await runtime.stop();
  live?.stop();
  await worker.close();
  const summary: RunSummary = {
    profile,
    iterations: counts.ITERATION_COMPLETE ?? 0,
    trainings: counts.TRAINING_COMPLETED ?? 0,
    durationMs: performance.now() - started,
    promotions: counts.MODEL_PROMOTED ?? 0,
    rejections: counts.PROMOTION_REJECTED ?? 0,
    failures: [...FAILURES].reduce((n, t) => n + (counts[t] ?? 0), 0),
    eventsByType: counts,
    interrupted,
    failedDaemons,
    fatal,
    unwrittenEvents: runtime.eventLog?.unwritten ?? 0,
    inFlight: inFlight.list(),
    failed,
  };
  printSummary(summary, options, out);
  return summary;
}

/** How long a finished run waits for the work in flight at its end (then names what is left). */
const DRAIN_MS = 3_000;

/** How long a finished run waits for its durable daemons to read what is already written. */
const CATCH_UP_MS = 3_000;

/**
 * A finished run lets its durable daemons read the events already in the file before it stops
 * them (the last of an iteration's answers, their own announcements heard back), so that a clean
 * end leaves no lag; at most `CATCH_UP_MS`, after which what is left waits for the next start.
 */
async function durableCaughtUp(dbPath: string, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + CATCH_UP_MS;
  const lagging = () =>
    inspectEventLog(dbPath).consumers.some((c) => names.includes(c.name) && c.lag > 0);
  while (lagging() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Calls `onFailed` for each daemon of this runtime that fails for good (DAEMON_PERMANENTLY_FAILED
 * of its own; other processes' on the same event log are theirs), with its last error.
 */
export function onDaemonFailedForGood(
  runtime: Runtime,
  onFailed: (daemon: string, error: string | null) => void,
): void {
  runtime.router.subscribe('DAEMON_PERMANENTLY_FAILED', (e) => {
    if (e.origin.runtimeId !== runtime.runtimeId) return;
    const daemon = e.payload.daemon_name as string;
    onFailed(daemon, runtime.status().daemons.find((d) => d.daemon === daemon)?.lastError ?? null);
  });
}

function daemonRows(runtime: Runtime): DaemonRow[] {
  return runtime.status().daemons.map((d) => {
    const value =
      d.state === 'running' ? runtime.supervisor.getDaemonSnapshot(d.daemon)?.value : null;
    return {
      daemon: d.daemon,
      state: d.state,
      restarts: d.restarts,
      rejections: d.rejections,
      activity: value === null || value === undefined ? null : statePath(value),
    };
  });
}

async function workerFor(
  config: CommandConfig | null,
  logger: ReturnType<typeof createLogger>,
  seed: number | undefined,
  /** Simulated faults of the world; off in a cluster, whose faults are real (hosts, NATS). */
  faults: boolean,
): Promise<Worker> {
  const simulated = createSimulatedWorker({
    seed: seed ?? 1,
    // The simulated world sometimes promotes a model that regresses, plays a poor batch, leaves
    // games missing after a sync, loses its network for a while, or has a gauntlet preempted, so
    // that a long run shows the guide's regression, quality, repair, orphan and promotion-failure
    // flows.
    regressionRate: 0.1,
    ...(faults
      ? {
          lowQualityRate: 0.05,
          partialSyncRate: 0.05,
          repairFailureRate: 0.3,
          preemptedGauntletRate: 0.05,
          outageRates: { sync: 0.01, training: 0.01 },
          // Ten iterations' worth of healthy world first: a short run is clean.
          faultsAfter: 10,
        }
      : {}),
    durationsMs: {
      selfplay: 30,
      sync: 15,
      export: 15,
      training: 40,
      evaluation: 30,
      distribution: 15,
    },
  });
  if (!config) return simulated;
  const simulatedKinds = WORK_KINDS.filter((k) => !config[k]);
  if (simulatedKinds.length > 0) {
    logger.warn(
      { kinds: simulatedKinds },
      `no command configured for ${simulatedKinds.join(', ')}: those jobs are simulated`,
    );
  }
  return createCommandWorker(config, simulated);
}

function printSummary(summary: RunSummary, options: RunOptions, out: NodeJS.WritableStream): void {
  const line = (text: string) => out.write(`${text}\n`);
  line('');
  const failed = summary.failedDaemons.length > 0 || summary.fatal !== null;
  line(
    `Pipeline run (profile ${summary.profile}) ${failed ? 'FAILED' : summary.interrupted ? 'stopped by a signal' : summary.failed.length > 0 ? 'finished with failures' : 'finished'} in ${(summary.durationMs / 1000).toFixed(2)} s`,
  );
  if (summary.fatal) line(`  stopped: ${summary.fatal}`);
  if (summary.unwrittenEvents > 0)
    line(
      `  ${summary.unwrittenEvents} accepted cross-process events were never written: the file refused writes until the end`,
    );
  for (const f of summary.failedDaemons)
    line(`  daemon ${f.daemon} failed for good: ${f.error ?? 'no error recorded'}`);
  line(
    PIPELINE_PROFILES[summary.profile].includes('MASTER_LOOP')
      ? `  iterations: ${summary.iterations} (configs: ${options.configs.join(', ')})`
      : `  iterations: ${summary.iterations} (driven by the coordinator)`,
  );
  line(`  trainings: ${summary.trainings}`);
  if (summary.inFlight.length > 0)
    line(
      `  stopped in flight (${summary.inFlight.length}, not counted above): ${summary.inFlight.map((w) => `${w.stage}${w.config ? ` ${w.config}` : ''} on ${w.host}`).join(', ')}`,
    );
  if (summary.failed.length > 0) {
    line(`  failed (${summary.failed.length}):`);
    for (const f of summary.failed.slice(0, 20)) line(`    ${f.type} ${f.config}: ${f.reason}`);
    if (summary.failed.length > 20) line(`    ... and ${summary.failed.length - 20} more`);
  }
  line(
    `  promotions: ${summary.promotions}  rejections: ${summary.rejections}  failures: ${summary.failures}`,
  );
  // The guide's tables, event by event: what this run exercised of them.
  const guide = GUIDE_ROWS.map((r) => r.event);
  const unseen = guide.filter((t) => !summary.eventsByType[t]);
  line(`  the guide's events: ${guide.length - unseen.length} of ${guide.length} seen`);
  for (const t of guide) line(`    ${t.padEnd(30)} ${summary.eventsByType[t] ?? 0}`);
  if (unseen.length > 0) line(`  not seen: ${unseen.join(', ')}`);
  line('  events by type:');
  for (const [type, n] of Object.entries(summary.eventsByType).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  )) {
    line(`    ${type.padEnd(30)} ${n}`);
  }
}
