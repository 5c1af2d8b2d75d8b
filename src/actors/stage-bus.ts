/**
 * The stage bus with the original's surface, as a view on the router rather than a second
 * dispatcher (lesson 4): `emit` publishes the stage's one canonical data event, and stage
 * subscribers are router subscriptions to that event. A subscriber of the stage name and a
 * subscriber of the data name therefore each receive one delivery per emit.
 *
 * Several stages complete the same data event (GPU_SELFPLAY_COMPLETE and
 * CANONICAL_SELFPLAY_COMPLETE both mean SELFPLAY_COMPLETE). The payload carries `stage`, and a
 * stage subscriber receives the events of its own stage plus those published directly as the
 * data event (no `stage`), never another stage's.
 */
import { InvalidOptionError, WaitTimeoutError } from '../errors.js';
import type { EventName } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import { STAGE_EVENTS, STAGE_TO_DATA, type StageEventName } from '../events/stage-events.js';
import { RecentEvents } from './recent-events.js';
import type { DeliveryReport, Router, Unsubscribe } from './router.js';

/** The original's `StageCompletionResult`; fields beyond these are passed through. */
export interface StageCompletionResult {
  /** Stage name or value: `TRAINING_COMPLETE` or `training_complete`. */
  readonly event: string;
  readonly success: boolean;
  readonly iteration?: number;
  readonly timestamp?: number;
  readonly config_key?: string;
  readonly board_type?: string;
  readonly num_players?: number;
  readonly games_generated?: number;
  readonly model_path?: string;
  readonly train_loss?: number;
  readonly val_loss?: number;
  readonly win_rate?: number;
  readonly elo_delta?: number;
  readonly promoted?: boolean;
  readonly promotion_reason?: string;
  readonly error?: string;
  /** Merged into the payload: the place for fields the data event needs (e.g. `duration`). */
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly [field: string]: unknown;
}

/** A stage callback gets the result (with `event` as the stage name) and the envelope. */
export type StageCallback = (result: StageCompletionResult, envelope: Envelope) => unknown;

export interface StageBusStats {
  readonly emitted: Readonly<Record<string, number>>;
  readonly subscribers: Readonly<Record<string, number>>;
}

const byValue = new Map<string, StageEventName>(
  (Object.entries(STAGE_EVENTS) as [StageEventName, string][]).map(([name, value]) => [
    value,
    name,
  ]),
);

/** Resolves a stage name or value, in any case. */
export function resolveStage(stage: string): StageEventName {
  const upper = stage.toUpperCase();
  if (upper in STAGE_EVENTS) return upper as StageEventName;
  const byVal = byValue.get(stage.toLowerCase());
  if (byVal) return byVal;
  throw new InvalidOptionError(
    'stage',
    `a stage event (${Object.keys(STAGE_EVENTS).join(', ')})`,
    stage,
  );
}

/**
 * @example
 * const stages = new StageEventBus(router);
 * stages.subscribe('TRAINING_COMPLETE', (result) => console.log(result.model_path));
 * stages.emit({ event: 'TRAINING_COMPLETE', success: true, config_key: 'hex8_2p', metadata: { duration: 812 } });
 */
export class StageEventBus {
  private readonly callbacks = new Map<StageEventName, Map<StageCallback, Unsubscribe>>();
  private readonly history: RecentEvents;
  private readonly emitted = new Map<StageEventName, number>();

  constructor(
    private readonly router: Router,
    historySize = 1000,
  ) {
    this.history = new RecentEvents(historySize);
  }

  /** Subscribing the same callback to the same stage twice is idempotent. */
  subscribe(stage: string, callback: StageCallback): Unsubscribe {
    const name = resolveStage(stage);
    let byCallback = this.callbacks.get(name);
    if (!byCallback) {
      byCallback = new Map();
      this.callbacks.set(name, byCallback);
    }
    const existing = byCallback.get(callback);
    if (existing) return existing;
    const value = STAGE_EVENTS[name];
    // A distinct wrapper per (stage, callback): the same callback on two stages of one data
    // event is two subscriptions, as it was in the original.
    const off = this.router.subscribe(
      STAGE_TO_DATA[name],
      (envelope: Envelope) => {
        const stageOf = (envelope.payload as { stage?: unknown }).stage;
        if (stageOf !== undefined && stageOf !== value) return;
        return callback({ ...envelope.payload, event: name } as StageCompletionResult, envelope);
      },
      { name: `stage:${name}:${callback.name || 'callback'}` },
    );
    const unsubscribe = () => {
      off();
      this.callbacks.get(name)?.delete(callback);
    };
    byCallback.set(callback, unsubscribe);
    return unsubscribe;
  }

  /** False when the callback was not subscribed to that stage. */
  unsubscribe(stage: string, callback: StageCallback): boolean {
    const off = this.callbacks.get(resolveStage(stage))?.get(callback);
    if (!off) return false;
    off();
    return true;
  }

  /**
   * Publishes the stage's data event once.
   * @throws {EventValidationError} when the result lacks what the data event's schema requires.
   */
  emit(result: StageCompletionResult, source = 'stage_bus'): Envelope {
    const { name, type, payload } = this.toPayload(result);
    const envelope = this.router.publish(type, payload, { source });
    this.record(name, envelope);
    return envelope;
  }

  /**
   * Publishes and waits for every subscriber (stage and data alike) to finish.
   * @throws {WaitTimeoutError} when they have not within `timeoutMs` (on the router's clock); the
   *   event was published and its handlers go on.
   */
  async emitAndWait(
    result: StageCompletionResult,
    timeoutMs?: number,
    source = 'stage_bus',
  ): Promise<DeliveryReport> {
    const { name, type, payload } = this.toPayload(result);
    const wait = this.router.publishAndWait(type, payload, { source });
    if (timeoutMs === undefined) {
      const report = await wait;
      this.record(name, report.envelope);
      return report;
    }
    const clock = this.router.clock;
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(
        () =>
          reject(
            new WaitTimeoutError(
              type,
              timeoutMs,
              `the handlers of stage '${name}' did not finish within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      const report = await Promise.race([wait, timeout]);
      this.record(name, report.envelope);
      return report;
    } finally {
      clock.clearTimeout(timer);
    }
  }

  /** Emitted results, oldest first, optionally of one stage. */
  getHistory(stage?: string, limit = 100): StageCompletionResult[] {
    const type = stage === undefined ? undefined : STAGE_TO_DATA[resolveStage(stage)];
    const wanted = stage === undefined ? undefined : STAGE_EVENTS[resolveStage(stage)];
    return this.history
      .list(Number.MAX_SAFE_INTEGER, type)
      .filter((e) => wanted === undefined || (e.payload as { stage?: string }).stage === wanted)
      .slice(-limit)
      .map(
        (e) =>
          ({
            ...e.payload,
            event: resolveStage((e.payload as unknown as { stage: string }).stage),
          }) as StageCompletionResult,
      );
  }

  getStats(): StageBusStats {
    const subscribers: Record<string, number> = {};
    for (const [name, byCallback] of this.callbacks)
      if (byCallback.size) subscribers[name] = byCallback.size;
    return { emitted: Object.fromEntries(this.emitted), subscribers };
  }

  private toPayload(result: StageCompletionResult): {
    name: StageEventName;
    type: EventName;
    payload: Record<string, unknown>;
  } {
    const name = resolveStage(result.event);
    const { event: _event, metadata, ...fields } = result;
    const payload: Record<string, unknown> = { ...metadata, ...fields, stage: STAGE_EVENTS[name] };
    if (
      payload.config_key === undefined &&
      payload.board_type !== undefined &&
      payload.num_players !== undefined
    ) {
      payload.config_key = `${payload.board_type}_${payload.num_players}p`;
    }
    return { name, type: STAGE_TO_DATA[name], payload };
  }

  private record(name: StageEventName, envelope: Envelope): void {
    this.emitted.set(name, (this.emitted.get(name) ?? 0) + 1);
    this.history.push(envelope);
  }
}
