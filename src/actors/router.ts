/**
 * The in-process event router: resolves names through the one alias table, validates payloads,
 * stamps envelopes and puts each event in the mailbox of every matching subscriber.
 *
 * Guarantees (each has a test in test/actors/router.test.ts):
 * - each publish reaches each subscription that was active at publish time exactly once;
 * - each subscription handles its events one at a time in publish order;
 * - subscriptions do not wait for each other; a handler that throws, rejects or times out is
 *   logged with the event id, counted, and does not affect any other handler;
 * - a publish that fails validation, the size limit or a full mailbox delivers nothing.
 */
import {
  CoordinationError,
  HandlerTimeoutError,
  InvalidOptionError,
  MailboxFullError,
  RouterClosedError,
  WaitTimeoutError,
} from '../errors.js';
import { resolveEventType } from '../events/aliases.js';
import {
  CATALOG,
  type EventName,
  type PayloadInput,
  type PayloadOf,
} from '../events/catalog/index.js';
import {
  type CausalityOptions,
  createIdSource,
  createOrigin,
  type Envelope,
  newRuntimeId,
  type Origin,
  stampEnvelope,
} from '../events/envelope.js';
import { MAX_PAYLOAD_BYTES, preparePayload } from '../events/payload.js';
import { nonNegativeInt, positiveInt } from '../options.js';
import { type Clock, realClock, unrefTimer } from './clock.js';
import { createLogger, eventTraceFromEnv, type Logger } from './logger.js';
import { type Handler, Mailbox, type MailboxHost } from './mailbox.js';
import { RecentEvents } from './recent-events.js';
import type { EventTransport } from './transport.js';
import { checkWiring, type DeclaredWiring, type WiringReport } from './wiring.js';

export type { Handler };

/** Subscribe to every event type. */
export const ALL_EVENTS = '*';

export interface RouterOptions {
  /** Names the router in logs and is the default `source` of what it publishes. */
  readonly name?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Default per-handler timeout; 30 s. */
  readonly handlerTimeoutMs?: number;
  /** Largest payload accepted, as serialised JSON; 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Events a subscriber may have waiting before publishes to it are refused; 10,000. */
  readonly mailboxCapacity?: number;
  /** How many recent envelopes `getRecentEvents()` can return; 1,000. */
  readonly historySize?: number;
  /** How long `close()` waits for mailboxes to drain; 10 s. */
  readonly closeTimeoutMs?: number;
  /** Debug line per publish and delivery; default from `RINGRIFT_EVENT_TRACE`. */
  readonly trace?: boolean;
  /** Stable id of the runtime that owns this router; default random. */
  readonly runtimeId?: string;
  /**
   * Carries cross-process event types to other processes and theirs to this router (e.g.
   * `openEventLog()`). The router owns it from then on: `close()` closes it.
   */
  readonly eventLog?: EventTransport;
  /** How many ids of other processes' events are remembered to drop duplicates; 100,000. */
  readonly remoteDedupSize?: number;
  /** The origin host of what this router publishes: the cluster's host name; `os.hostname()`. */
  readonly originHost?: string;
}

export interface PublishOptions extends CausalityOptions {
  /** The component publishing; default the router's name. */
  readonly source?: string;
}

export interface SubscribeOptions {
  /** Shown in logs and stats; default the handler's function name. */
  readonly name?: string;
  /** This subscription's handler timeout; default the router's `handlerTimeoutMs`. */
  readonly timeoutMs?: number;
}

export interface OnceOptions {
  /** Default 30 s; `Infinity` waits until the event comes or the router closes. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type Unsubscribe = () => void;

/** What happened to one event published with `publishAndWait`. */
export interface DeliveryReport<T extends EventName = EventName> {
  readonly envelope: Envelope<T>;
  readonly delivered: readonly string[];
  readonly failed: readonly { readonly subscriber: string; readonly error: unknown }[];
  readonly timedOut: readonly string[];
}

export interface SubscriberStats {
  readonly name: string;
  readonly pattern: string;
  readonly delivered: number;
  readonly failed: number;
  readonly timedOut: number;
  /** Waiting plus in flight. */
  readonly depth: number;
}

export interface RouterStats {
  readonly published: number;
  readonly deliveries: number;
  readonly handlerErrors: number;
  readonly handlerTimeouts: number;
  readonly rejected: {
    readonly unknownType: number;
    readonly invalidPayload: number;
    readonly tooLarge: number;
    readonly mailboxFull: number;
  };
  readonly fireAndForgetErrors: number;
  /** Events received from other processes and handed to local mailboxes. */
  readonly remoteReceived: number;
  /** Events from other processes dropped because their id was already seen. */
  readonly remoteDuplicates: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly subscribers: readonly SubscriberStats[];
}

export interface RouterHealth {
  readonly healthy: boolean;
  readonly closed: boolean;
  readonly subscriptions: number;
  readonly published: number;
  readonly handlerErrors: number;
  readonly handlerTimeouts: number;
  /** Subscribers whose mailbox is over 80 % of capacity. */
  readonly backedUp: readonly string[];
  /** The event log's state: `degraded` while its file refuses writes, `failed` when damaged. */
  readonly storage: 'ok' | 'degraded' | 'failed' | 'none';
  readonly problems: readonly string[];
}

export interface CloseResult {
  /** False when some mailboxes still held events after `closeTimeoutMs`. */
  readonly drained: boolean;
  /** Events not handled, per subscriber name. */
  readonly undelivered: Readonly<Record<string, number>>;
}

interface PendingWait {
  remaining: number;
  delivered: string[];
  failed: { subscriber: string; error: unknown }[];
  timedOut: string[];
  resolve: () => void;
}

/** Deprecated spellings already warned about, once per process (not per router). */
const warnedAliases = new Set<string>();

const DEFAULTS = {
  handlerTimeoutMs: 30_000,
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  mailboxCapacity: 10_000,
  historySize: 1_000,
  closeTimeoutMs: 10_000,
} as const;

/**
 * An isolated router (tests, embedding). Most programs use the process singleton, `getRouter()`.
 * @example
 * const router = createRouter({ name: 'demo' });
 * router.subscribe('TRAINING_COMPLETED', (e) => console.log(e.payload.config_key));
 * router.publish('TRAINING_COMPLETED', { config_key: 'hex8_2p', success: true, duration: 12.5 });
 * await router.close();
 */
export function createRouter(options: RouterOptions = {}): Router {
  return new Router(options);
}

export class Router {
  readonly name: string;
  readonly origin: Origin;
  private readonly logger: Logger;
  /** The time its timeouts run on (also the StageEventBus's). */
  readonly clock: Clock;
  private readonly handlerTimeoutMs: number;
  private readonly maxPayloadBytes: number;
  private readonly mailboxCapacity: number;
  private readonly closeTimeoutMs: number;
  private readonly trace: boolean;
  private readonly nextId: () => string;
  private readonly history: RecentEvents;
  /** pattern ('*' or a canonical name) -> handler -> mailbox. */
  private readonly subscriptions = new Map<string, Map<Handler, Mailbox>>();
  /** Mailboxes with work, including unsubscribed ones still draining. */
  private readonly active = new Set<Mailbox>();
  private readonly inFlight = new Set<Mailbox>();
  private readonly waits = new Map<string, PendingWait>();
  private readonly onceRejecters = new Set<(error: Error) => void>();
  private idleWaiters: (() => void)[] = [];
  private watchdog: unknown = null;
  private watchdogDeadline = Number.POSITIVE_INFINITY;
  private closed = false;
  private closing: Promise<CloseResult> | null = null;
  private readonly host: MailboxHost;
  private readonly transport: EventTransport | null;
  private crossHostGuard: ((type: EventName) => void) | null = null;
  private readonly remoteDedupSize: number;
  /** Ids of remote events already delivered, oldest first (a Map keeps insertion order). */
  private readonly seenRemote = new Map<string, true>();
  private readonly counts = {
    published: 0,
    deliveries: 0,
    handlerErrors: 0,
    handlerTimeouts: 0,
    unknownType: 0,
    invalidPayload: 0,
    tooLarge: 0,
    mailboxFull: 0,
    fireAndForgetErrors: 0,
    remoteReceived: 0,
    remoteDuplicates: 0,
  };
  private readonly byType = new Map<string, number>();

  constructor(options: RouterOptions = {}) {
    this.name = options.name ?? 'router';
    this.clock = options.clock ?? realClock;
    this.handlerTimeoutMs = positiveInt(
      'handlerTimeoutMs',
      options.handlerTimeoutMs,
      DEFAULTS.handlerTimeoutMs,
    );
    this.maxPayloadBytes = positiveInt(
      'maxPayloadBytes',
      options.maxPayloadBytes,
      DEFAULTS.maxPayloadBytes,
    );
    this.mailboxCapacity = positiveInt(
      'mailboxCapacity',
      options.mailboxCapacity,
      DEFAULTS.mailboxCapacity,
    );
    this.closeTimeoutMs = nonNegativeInt(
      'closeTimeoutMs',
      options.closeTimeoutMs,
      DEFAULTS.closeTimeoutMs,
    );
    const historySize = nonNegativeInt('historySize', options.historySize, DEFAULTS.historySize);
    this.trace = options.trace ?? eventTraceFromEnv();
    const base = options.logger ?? createLogger();
    this.logger = base.child(
      { component: 'router', router: this.name },
      this.trace ? { level: 'debug' } : undefined,
    );
    const runtimeId = options.runtimeId ?? newRuntimeId();
    this.origin = createOrigin(runtimeId, options.originHost);
    this.nextId = createIdSource(runtimeId);
    this.history = new RecentEvents(historySize);
    this.host = this.createHost();
    this.remoteDedupSize = positiveInt('remoteDedupSize', options.remoteDedupSize, 100_000);
    this.transport = options.eventLog ?? null;
    this.transport?.start({
      runtimeId,
      wants: (type) => this.subscriptions.has(type) || this.subscriptions.has(ALL_EVENTS),
      deliver: (envelope) => this.deliverRemote(envelope),
      seen: (id) => this.seenRemote.has(id),
    });
  }

  /**
   * Validates, stamps and enqueues an event; returns its envelope. Handlers run afterwards,
   * asynchronously; use `publishAndWait` to wait for them.
   * @throws {UnknownEventTypeError} {EventValidationError} {PayloadTooLargeError}
   *   {MailboxFullError} {RouterClosedError}; in every case nothing was delivered.
   * @example
   * const envelope = router.publish('DATA_SYNC_COMPLETED', { host: 'gpu-3', games_synced: 120, duration: 4.2 });
   */
  publish<T extends EventName>(
    type: T,
    payload?: PayloadInput<T>,
    options?: PublishOptions,
  ): Envelope<T>;
  publish(type: string, payload?: Record<string, unknown>, options?: PublishOptions): Envelope;
  publish(type: string, payload?: unknown, options: PublishOptions = {}): Envelope {
    if (this.closed) throw new RouterClosedError('publish');
    const name = this.resolve(type);
    const nowMs = this.clock.now();
    let prepared: ReturnType<typeof preparePayload>;
    try {
      prepared = preparePayload(CATALOG[name], payload, nowMs / 1000, this.maxPayloadBytes);
    } catch (error) {
      if (error instanceof CoordinationError && error.name === 'PayloadTooLargeError')
        this.counts.tooLarge++;
      else this.counts.invalidPayload++;
      throw error;
    }
    const targets = this.targetsOf(name);
    for (const box of targets) {
      if (box.depth >= this.mailboxCapacity) {
        this.counts.mailboxFull++;
        throw new MailboxFullError(name, box.name, this.mailboxCapacity);
      }
    }
    const envelope = stampEnvelope(
      this.nextId(),
      name,
      prepared as PayloadOf<EventName>,
      options.source ?? this.name,
      nowMs / 1000,
      this.origin,
      options,
    );
    // Written (queued) before local delivery, so that a handler reacting to it cannot publish a
    // follow-up event that reaches the log first; and first of all, so that an outbox that
    // refuses it (back-pressure) leaves nothing delivered.
    if (this.transport && CATALOG[name].crossProcess) {
      // The cluster's outbox bound (ClusterOutboxFullError) is checked before the file takes it.
      if (this.crossHostGuard && CATALOG[name].crossHost) this.crossHostGuard(name);
      this.transport.append(envelope);
    }
    this.counts.published++;
    this.byType.set(name, (this.byType.get(name) ?? 0) + 1);
    this.history.push(envelope);
    if (this.trace) {
      this.logger.debug(
        { event_id: envelope.id, type: name, source: envelope.source, subscribers: targets.length },
        'publish',
      );
    }
    for (const box of targets) {
      this.active.add(box);
      box.push(envelope);
    }
    return envelope;
  }

  /**
   * Called before a cross-host event is accepted; throws to refuse it (the cluster member refuses
   * with ClusterOutboxFullError while its outbox is at its bound). One guard; null removes it.
   */
  setCrossHostGuard(guard: ((type: EventName) => void) | null): void {
    this.crossHostGuard = guard;
  }

  /**
   * Hands an event published by another process to the local subscribers; never writes it back
   * to the log. Duplicates (by envelope id) are dropped. Returns false, taking nothing, when a
   * target mailbox is full, so that the transport offers the event again later.
   */
  deliverRemote(envelope: Envelope): boolean {
    if (this.closed) return false;
    if (this.seenRemote.has(envelope.id)) {
      this.counts.remoteDuplicates++;
      return true;
    }
    const targets = this.targetsOf(envelope.type);
    for (const box of targets) if (box.depth >= this.mailboxCapacity) return false;
    this.seenRemote.set(envelope.id, true);
    if (this.seenRemote.size > this.remoteDedupSize) {
      this.seenRemote.delete(this.seenRemote.keys().next().value as string);
    }
    this.counts.remoteReceived++;
    this.byType.set(envelope.type, (this.byType.get(envelope.type) ?? 0) + 1);
    this.history.push(envelope);
    if (this.trace) {
      this.logger.debug(
        {
          event_id: envelope.id,
          type: envelope.type,
          source: envelope.source,
          origin: envelope.origin,
          subscribers: targets.length,
        },
        'remote event',
      );
    }
    for (const box of targets) {
      this.active.add(box);
      box.push(envelope);
    }
    return true;
  }

  /** Resolves when every cross-process event published so far is durable in the event log. */
  async flush(): Promise<void> {
    await this.transport?.flush();
  }

  /**
   * Publishes and resolves once every handler that received the event finished, failed or
   * timed out. Never rejects because of a handler.
   * @example
   * const report = await router.publishAndWait('MODEL_PROMOTED', payload);
   * if (report.failed.length > 0) console.warn(report.failed);
   */
  publishAndWait<T extends EventName>(
    type: T,
    payload?: PayloadInput<T>,
    options?: PublishOptions,
  ): Promise<DeliveryReport<T>>;
  publishAndWait(
    type: string,
    payload?: Record<string, unknown>,
    options?: PublishOptions,
  ): Promise<DeliveryReport>;
  async publishAndWait(
    type: string,
    payload?: Record<string, unknown>,
    options?: PublishOptions,
  ): Promise<DeliveryReport> {
    const name = this.resolve(type);
    const expected = this.targetsOf(name).length;
    const wait: PendingWait = {
      remaining: expected,
      delivered: [],
      failed: [],
      timedOut: [],
      resolve: () => {},
    };
    const done = new Promise<void>((resolve) => {
      wait.resolve = resolve;
    });
    // The id is only known after publish; handlers run later (microtasks), so registering the
    // wait right after publish returns cannot miss a completion.
    const envelope = this.publish(name, payload, options);
    if (expected === 0) wait.resolve();
    else this.waits.set(envelope.id, wait);
    await done;
    return {
      envelope,
      delivered: wait.delivered,
      failed: wait.failed,
      timedOut: wait.timedOut,
    };
  }

  /**
   * Publishes without throwing: a rejected event is logged with its reason and counted in
   * `getStats().fireAndForgetErrors`. Returns the envelope, or `undefined` when rejected.
   * Its deliveries are ordinary mailbox work, bounded by `mailboxCapacity` and drained by `close()`.
   */
  fireAndForget<T extends EventName>(
    type: T,
    payload?: PayloadInput<T>,
    options?: PublishOptions,
  ): Envelope<T> | undefined;
  fireAndForget(
    type: string,
    payload?: Record<string, unknown>,
    options?: PublishOptions,
  ): Envelope | undefined;
  fireAndForget(
    type: string,
    payload?: Record<string, unknown>,
    options?: PublishOptions,
  ): Envelope | undefined {
    try {
      return this.publish(type, payload, options);
    } catch (error) {
      // Only this package's own rejections are expected here; anything else is a bug to surface.
      if (!(error instanceof CoordinationError)) throw error;
      this.counts.fireAndForgetErrors++;
      this.logger.error({ type, source: options?.source, err: error }, 'fireAndForget rejected');
      return undefined;
    }
  }

  /**
   * Subscribes a handler to one event type (any accepted spelling) or to `'*'`. Subscribing the
   * same function to the same type again returns the existing subscription's unsubscribe.
   * The subscription receives exactly the events published between this call and unsubscribe.
   * @example
   * const off = router.subscribe('EVALUATION_COMPLETED', async (e) => decide(e.payload));
   * off();
   */
  subscribe<T extends EventName>(
    type: T,
    handler: Handler<Envelope<T>>,
    options?: SubscribeOptions,
  ): Unsubscribe;
  subscribe(type: string, handler: Handler<Envelope>, options?: SubscribeOptions): Unsubscribe;
  subscribe(type: string, handler: Handler<Envelope>, options: SubscribeOptions = {}): Unsubscribe {
    if (this.closed) throw new RouterClosedError('subscribe');
    if (typeof handler !== 'function') {
      throw new InvalidOptionError('handler', 'a function', handler);
    }
    const pattern = type === ALL_EVENTS ? ALL_EVENTS : this.resolve(type);
    const timeoutMs = positiveInt('timeoutMs', options.timeoutMs, this.handlerTimeoutMs);
    let byHandler = this.subscriptions.get(pattern);
    if (!byHandler) {
      byHandler = new Map();
      this.subscriptions.set(pattern, byHandler);
    }
    let box = byHandler.get(handler);
    if (!box) {
      // A handler re-subscribed while its old mailbox still drains keeps that mailbox, so its
      // events stay in order across the gap.
      box =
        this.drainingMailbox(pattern, handler) ??
        new Mailbox(
          options.name ?? (handler.name || `subscriber-${this.subscriptionCount() + 1}`),
          pattern,
          handler,
          timeoutMs,
          this.host,
        );
      byHandler.set(handler, box);
    }
    return () => {
      const current = this.subscriptions.get(pattern);
      if (current?.get(handler) === box) {
        current.delete(handler);
        if (current.size === 0) this.subscriptions.delete(pattern);
      }
    };
  }

  /**
   * Resolves with the next event of a type that satisfies `predicate`.
   * @throws {WaitTimeoutError} after `timeoutMs`; {RouterClosedError} when the router closes.
   * @example
   * const ready = await router.once('ALL_CRITICAL_DAEMONS_READY', undefined, { timeoutMs: 60_000 });
   */
  once<T extends EventName>(
    type: T,
    predicate?: (envelope: Envelope<T>) => boolean,
    options?: OnceOptions,
  ): Promise<Envelope<T>>;
  once(
    type: string,
    predicate?: (envelope: Envelope) => boolean,
    options?: OnceOptions,
  ): Promise<Envelope>;
  once(
    type: string,
    predicate?: (envelope: Envelope) => boolean,
    options: OnceOptions = {},
  ): Promise<Envelope> {
    const timeoutMs = options.timeoutMs ?? DEFAULTS.handlerTimeoutMs;
    if (!(timeoutMs > 0)) throw new InvalidOptionError('timeoutMs', 'a positive number', timeoutMs);
    const name = this.resolve(type);
    return new Promise<Envelope>((resolve, reject) => {
      let timer: unknown = null;
      const finish = (error: Error | null, envelope?: Envelope) => {
        off();
        this.onceRejecters.delete(rejecter);
        if (timer !== null) this.clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(envelope as Envelope);
      };
      const rejecter = (error: Error) => finish(error);
      const onAbort = () => finish(options.signal?.reason ?? new Error('once() aborted'));
      const off = this.subscribe(
        name,
        (envelope: Envelope) => {
          if (!predicate || predicate(envelope)) finish(null, envelope);
        },
        { name: `once(${name})` },
      );
      this.onceRejecters.add(rejecter);
      if (Number.isFinite(timeoutMs)) {
        timer = this.clock.setTimeout(
          () => finish(new WaitTimeoutError(name, timeoutMs)),
          timeoutMs,
        );
      }
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Active subscriptions per canonical type (and `'*'`). */
  getSubscriptionCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [pattern, byHandler] of this.subscriptions) out[pattern] = byHandler.size;
    return out;
  }

  /** The newest events, oldest first; `type` accepts any spelling. */
  getRecentEvents(query: { type?: string; limit?: number } = {}): Envelope[] {
    const limit = query.limit ?? 100;
    const type = query.type === undefined ? undefined : this.resolve(query.type);
    return this.history.list(limit, type);
  }

  getStats(): RouterStats {
    const c = this.counts;
    return {
      published: c.published,
      deliveries: c.deliveries,
      handlerErrors: c.handlerErrors,
      handlerTimeouts: c.handlerTimeouts,
      rejected: {
        unknownType: c.unknownType,
        invalidPayload: c.invalidPayload,
        tooLarge: c.tooLarge,
        mailboxFull: c.mailboxFull,
      },
      fireAndForgetErrors: c.fireAndForgetErrors,
      remoteReceived: c.remoteReceived,
      remoteDuplicates: c.remoteDuplicates,
      byType: Object.fromEntries(this.byType),
      subscribers: this.allMailboxes().map((box) => ({
        name: box.name,
        pattern: box.pattern,
        delivered: box.delivered,
        failed: box.failed,
        timedOut: box.timedOut,
        depth: box.depth,
      })),
    };
  }

  /** Never throws (the original's crashed once any event had been routed: lesson 20). */
  health(): RouterHealth {
    const backedUp = this.allMailboxes()
      .filter((box) => box.depth >= this.mailboxCapacity * 0.8)
      .map((box) => box.name);
    const problems: string[] = [];
    if (this.closed) problems.push('router is closed');
    for (const name of backedUp) problems.push(`subscriber '${name}' is backed up`);
    const storage = this.transport?.health?.();
    if (storage && storage.state !== 'ok')
      problems.push(
        `event log ${storage.state}: ${storage.reason ?? 'no reason recorded'} (${storage.queuedEvents} events queued)`,
      );
    return {
      healthy: problems.length === 0,
      closed: this.closed,
      subscriptions: this.subscriptionCount(),
      published: this.counts.published,
      handlerErrors: this.counts.handlerErrors,
      handlerTimeouts: this.counts.handlerTimeouts,
      backedUp,
      storage: storage?.state ?? 'none',
      problems,
    };
  }

  /**
   * Compares what components declare they subscribe to and emit with the catalog and with the
   * subscriptions that exist now.
   * @example
   * const report = router.validateWiring({ FeedbackLoop: { subscribes: ['TRAINING_COMPLETED'] } });
   * if (!report.ok) console.error(report.problems);
   */
  validateWiring(declared: DeclaredWiring): WiringReport {
    return checkWiring(declared, new Set(this.subscriptions.keys()));
  }

  /** Resolves when every mailbox is empty and no handler runs. */
  whenIdle(): Promise<void> {
    if (this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Stops accepting publishes and subscriptions, rejects pending `once()` calls, closes the event
   * log (after writing what is queued), lets mailboxes drain for up to `closeTimeoutMs`, and
   * stops the timeout watchdog.
   * Idempotent: a second call returns the first call's result.
   */
  close(): Promise<CloseResult> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      for (const reject of [...this.onceRejecters]) reject(new RouterClosedError('once'));
      // First make what was published durable and stop the feed of remote events.
      await this.transport?.close();
      let timer: unknown = null;
      const drained = await Promise.race([
        this.whenIdle().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = this.clock.setTimeout(() => resolve(false), this.closeTimeoutMs);
        }),
      ]);
      this.clock.clearTimeout(timer);
      const undelivered: Record<string, number> = {};
      for (const box of this.active) if (box.depth > 0) undelivered[box.name] = box.depth;
      if (!drained) {
        this.logger.warn(
          { undelivered, closeTimeoutMs: this.closeTimeoutMs },
          'router closed with events still in mailboxes',
        );
      }
      if (this.watchdog !== null) this.clock.clearTimeout(this.watchdog);
      this.watchdog = null;
      return { drained, undelivered };
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ internals

  private resolve(type: string): EventName {
    try {
      const resolution = resolveEventType(type);
      if (resolution.deprecated && !warnedAliases.has(type)) {
        warnedAliases.add(type);
        this.logger.warn(
          { alias: type, canonical: resolution.name },
          `event name '${type}' is a deprecated alias; use '${resolution.name}'`,
        );
      }
      return resolution.name;
    } catch (error) {
      this.counts.unknownType++;
      throw error;
    }
  }

  private targetsOf(name: EventName): Mailbox[] {
    const targets: Mailbox[] = [];
    const specific = this.subscriptions.get(name);
    if (specific) for (const box of specific.values()) targets.push(box);
    const wildcard = this.subscriptions.get(ALL_EVENTS);
    if (wildcard) for (const box of wildcard.values()) targets.push(box);
    return targets;
  }

  private drainingMailbox(pattern: string, handler: Handler): Mailbox | undefined {
    for (const box of this.active)
      if (box.pattern === pattern && box.handler === handler) return box;
    return undefined;
  }

  private subscriptionCount(): number {
    let n = 0;
    for (const byHandler of this.subscriptions.values()) n += byHandler.size;
    return n;
  }

  private allMailboxes(): Mailbox[] {
    const boxes = new Set<Mailbox>(this.active);
    for (const byHandler of this.subscriptions.values())
      for (const box of byHandler.values()) boxes.add(box);
    return [...boxes];
  }

  private settleWait(envelope: Envelope, update: (wait: PendingWait) => void): void {
    const wait = this.waits.get(envelope.id);
    if (!wait) return;
    update(wait);
    if (--wait.remaining === 0) {
      this.waits.delete(envelope.id);
      wait.resolve();
    }
  }

  private armWatchdog(deadline: number): void {
    if (this.watchdog !== null && deadline >= this.watchdogDeadline) return;
    if (this.watchdog !== null) this.clock.clearTimeout(this.watchdog);
    this.watchdogDeadline = deadline;
    // The watchdog only watches handlers; it must not keep the process alive by itself.
    this.watchdog = unrefTimer(
      this.clock.setTimeout(this.checkTimeouts, Math.max(1, deadline - this.clock.now())),
    );
  }

  private readonly checkTimeouts = (): void => {
    this.watchdog = null;
    this.watchdogDeadline = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const box of this.inFlight) {
      if (now >= box.deadline) box.expire();
      else if (box.deadline < next) next = box.deadline;
    }
    // expire() may have started new async handlers, whose deadlines are in inFlight too.
    for (const box of this.inFlight) if (box.deadline < next) next = box.deadline;
    if (next !== Number.POSITIVE_INFINITY) this.armWatchdog(next);
  };

  private createHost(): MailboxHost {
    return {
      now: () => this.clock.now(),
      delivered: (box, envelope, startedAt) => {
        this.counts.deliveries++;
        if (this.trace) {
          this.logger.debug(
            {
              event_id: envelope.id,
              type: envelope.type,
              source: envelope.source,
              subscriber: box.name,
              duration_ms: this.clock.now() - startedAt,
            },
            'delivered',
          );
        }
        if (this.waits.size > 0) this.settleWait(envelope, (w) => w.delivered.push(box.name));
      },
      failed: (box, envelope, error, startedAt) => {
        this.counts.handlerErrors++;
        this.logger.error(
          {
            event_id: envelope.id,
            type: envelope.type,
            subscriber: box.name,
            duration_ms: this.clock.now() - startedAt,
            err: error,
          },
          'handler failed',
        );
        if (this.waits.size > 0) {
          this.settleWait(envelope, (w) => w.failed.push({ subscriber: box.name, error }));
        }
      },
      timedOut: (box, envelope) => {
        this.counts.handlerTimeouts++;
        const error = new HandlerTimeoutError(envelope.id, box.name, box.timeoutMs);
        this.logger.error(
          { event_id: envelope.id, type: envelope.type, subscriber: box.name, err: error },
          'handler timed out; its mailbox moves on',
        );
        if (this.waits.size > 0) this.settleWait(envelope, (w) => w.timedOut.push(box.name));
      },
      settledLate: (box, envelope, error) => {
        this.logger.warn(
          { event_id: envelope.id, type: envelope.type, subscriber: box.name, err: error },
          'handler settled after its timeout',
        );
      },
      asyncStarted: (box) => {
        this.inFlight.add(box);
        this.armWatchdog(box.deadline);
      },
      asyncEnded: (box) => {
        this.inFlight.delete(box);
      },
      idle: (box) => {
        this.active.delete(box);
        if (this.active.size === 0 && this.idleWaiters.length > 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      },
    };
  }
}
