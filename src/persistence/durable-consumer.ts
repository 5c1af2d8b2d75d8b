/**
 * Durable consumers: a named reader of the event log with its own cursor, for daemons that must
 * not miss an event (lesson 12: the original replayed a whole day's backlog or nothing).
 *
 * - Delivery is at least once, in log order, one event at a time; an event is acknowledged (the
 *   cursor moves past it) only after its handler succeeded.
 * - The attempt count is written before each attempt, so a handler that crashes the process
 *   counts as a failed attempt too; after `maxAttempts` the event goes to `dead_letters` with the
 *   last error and the consumer moves on (lesson 10).
 * - The ids of handled events are kept in an inbox with the acknowledgement, in one transaction,
 *   so an event that reaches the consumer again (a replayed log segment, the same event written
 *   twice) is skipped rather than handled twice.
 * - One process runs a given consumer at a time (a lease with a heartbeat); a dead owner on the
 *   same host is detected at once, another host's after `leaseMs` without heartbeat.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '../actors/logger.js';
import {
  ConsumerBusyError,
  EventLogError,
  HandlerTimeoutError,
  InvalidOptionError,
} from '../errors.js';
import { resolveEventType, spellingsOf } from '../events/aliases.js';
import { EVENT_NAMES, type EventName } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import { newRuntimeId } from '../events/envelope.js';
import { positiveNumber } from '../options.js';
import { CANCELLED, openDatabase } from './database.js';
import { insertDeadLetter } from './dead-letters.js';
import type { SqliteEventLog } from './event-log.js';
import { holderAlive, OWN_IDENTITY } from './process-identity.js';
import { decodeRow, type EventRow, LAST_EVENT_ID_SQL, ROW_COLUMNS } from './row-codec.js';
import { isCorruption, isSqliteError, retryDelay } from './storage-health.js';

export type StartAt = 'earliest' | 'latest' | number;

export interface DurableOptions {
  /** Where a consumer seen for the first time starts: 'latest' (default), 'earliest', or Unix seconds. */
  readonly startAt?: StartAt;
  /** Attempts before an event is dead-lettered; 5. */
  readonly maxAttempts?: number;
  /** Retry backoff: `initialMs` doubling to `maxMs`, with jitter; 200 ms and 10 s. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** A handler running longer fails its attempt; 30 s. */
  readonly handlerTimeoutMs?: number;
  /** Rows read per query; 100. */
  readonly batchSize?: number;
  /** How often the consumer records that it is alive; 5 s. */
  readonly heartbeatMs?: number;
  /** Another host's consumer without a heartbeat for this long may be taken over; 30 s. */
  readonly leaseMs?: number;
  /** How long `stop()` waits for a running handler before abandoning it (unacknowledged); 10 s. */
  readonly stopTimeoutMs?: number;
  /**
   * While catching up on a backlog, the loop gives the event loop a turn after this many events
   * or milliseconds, whichever comes first (timers, heartbeats, signals run meanwhile); 200 / 20.
   */
  readonly yieldEvery?: { readonly events?: number; readonly ms?: number };
  /** Default: the event log's logger. */
  readonly logger?: Logger;
}

/** What a durable handler gets besides the envelope. */
export interface DeliveryInfo {
  readonly consumer: string;
  readonly eventId: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export type DurableHandler = (envelope: Envelope, info: DeliveryInfo) => unknown;

export interface DurableStats {
  readonly name: string;
  readonly cursor: number;
  readonly handled: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
  readonly duplicatesSkipped: number;
}

export interface DurableSubscription {
  readonly name: string;
  /**
   * Stops after the current handler (waiting up to `stopTimeoutMs`, or `abandonAfterMs` when
   * given) and releases the consumer. An abandoned event stays unacknowledged.
   */
  stop(options?: { readonly abandonAfterMs?: number }): Promise<void>;
  /** Resolves when stopped; rejects if the consumer stopped on a database failure. */
  readonly done: Promise<void>;
  stats(): DurableStats;
}

interface ConsumerRow {
  name: string;
  cursor: number;
  owner: string | null;
  owner_host: string | null;
  owner_pid: number | null;
  owner_start: string | null;
  heartbeat_at: number;
  pending_event_id: number | null;
  pending_attempts: number;
}

/**
 * Starts a durable consumer; resolves once it is registered (its cursor exists), so that events
 * published afterwards are certain to reach it.
 * @throws {ConsumerBusyError} when another live process runs a consumer of that name.
 * @example
 * const sub = await subscribeDurable(log, 'auto_promotion', ['EVALUATION_COMPLETED'], async (e) => {
 *   await decide(e.payload);
 * }, { startAt: 'earliest' });
 */
export async function subscribeDurable(
  log: SqliteEventLog,
  name: string,
  types: readonly string[],
  handler: DurableHandler,
  options: DurableOptions = {},
): Promise<DurableSubscription> {
  const consumer = new DurableConsumer(log, name, types, handler, options);
  await consumer.register();
  consumer.start();
  log.onClose(() => consumer.stop());
  return consumer;
}

const now = () => Date.now() / 1000;
const ABANDONED = Symbol('abandoned');

class DurableConsumer implements DurableSubscription {
  readonly name: string;
  readonly done: Promise<void>;
  private readonly types: readonly EventName[];
  private readonly typeSpellings: string;
  private readonly maxAttempts: number;
  private readonly backoffInitial: number;
  private readonly backoffMax: number;
  private readonly handlerTimeoutMs: number;
  private readonly batchSize: number;
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly stopTimeoutMs: number;
  private readonly yieldEvents: number;
  private readonly yieldMs: number;
  /** Set when stop() stopped waiting: pending writes give up (the event is delivered again). */
  private abandoned = false;
  private heartbeating = false;
  /** Ends the wait for the running handler (stop timeout); it stays unacknowledged. */
  private abandon: (() => void) | null = null;
  private readonly logger: Logger | undefined;
  private readonly owner = `${hostname()}:${process.pid}:${newRuntimeId()}`;
  private cursor = 0;
  /** Highest row id known to hold nothing for this consumer beyond `cursor`. */
  private idleUpTo = 0;
  private pendingEventId: number | null = null;
  private pendingAttempts = 0;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private loop: Promise<void> | null = null;
  private counts = { handled: 0, failedAttempts: 0, deadLettered: 0, duplicatesSkipped: 0 };

  constructor(
    private readonly log: SqliteEventLog,
    name: string,
    types: readonly string[],
    private readonly handler: DurableHandler,
    options: DurableOptions,
  ) {
    if (!name) throw new InvalidOptionError('name', 'a non-empty string', name);
    if (types.length === 0)
      throw new InvalidOptionError('types', 'a non-empty list of event types', '[]');
    this.name = name;
    this.types = types.includes('*')
      ? [...EVENT_NAMES]
      : [...new Set(types.map((t) => resolveEventType(t).name))];
    this.typeSpellings = JSON.stringify(this.types.flatMap((t) => spellingsOf(t)));
    this.maxAttempts = positiveNumber('maxAttempts', options.maxAttempts, 5);
    this.backoffInitial = positiveNumber('backoff.initialMs', options.backoff?.initialMs, 200);
    this.backoffMax = positiveNumber('backoff.maxMs', options.backoff?.maxMs, 10_000);
    this.handlerTimeoutMs = positiveNumber('handlerTimeoutMs', options.handlerTimeoutMs, 30_000);
    this.batchSize = positiveNumber('batchSize', options.batchSize, 100);
    this.heartbeatMs = positiveNumber('heartbeatMs', options.heartbeatMs, 5_000);
    this.leaseMs = positiveNumber('leaseMs', options.leaseMs, 30_000);
    this.stopTimeoutMs = positiveNumber('stopTimeoutMs', options.stopTimeoutMs, 10_000);
    this.yieldEvents = positiveNumber('yieldEvery.events', options.yieldEvery?.events, 200);
    this.yieldMs = positiveNumber('yieldEvery.ms', options.yieldEvery?.ms, 20);
    this.startAt = options.startAt ?? 'latest';
    this.logger = (options.logger ?? log.baseLogger)?.child({
      component: 'durable-consumer',
      consumer: name,
    });
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // `done` is for whoever wants it; an unobserved failure is logged, not an unhandled rejection.
    this.done.catch(() => {});
    const db = log.db.db;
    this.statements = {
      inboxHas: db.prepare('SELECT 1 FROM consumer_inbox WHERE consumer = ? AND envelope_id = ?'),
      inboxAdd: db.prepare(
        'INSERT OR IGNORE INTO consumer_inbox (consumer, envelope_id, processed_at) VALUES (?, ?, ?)',
      ),
      markAttempt: db.prepare(
        'UPDATE consumers SET pending_event_id = ?, pending_attempts = ?, heartbeat_at = ? WHERE name = ?',
      ),
      ack: db.prepare(
        `UPDATE consumers SET cursor = ?, pending_event_id = NULL, pending_attempts = 0,
           handled = handled + ?, heartbeat_at = ? WHERE name = ?`,
      ),
    };
  }

  private readonly startAt: StartAt;
  /** Prepared once: these run for every event. */
  private readonly statements;

  async register(): Promise<void> {
    const row = await this.log.db.write(`register consumer '${this.name}'`, (db) => {
      const existing = db.prepare('SELECT * FROM consumers WHERE name = ?').get(this.name) as
        | ConsumerRow
        | undefined;
      const t = now();
      if (existing) {
        this.checkLease(existing, t);
        db.prepare(
          'UPDATE consumers SET types = ?, owner = ?, owner_host = ?, owner_pid = ?, owner_start = ?, heartbeat_at = ? WHERE name = ?',
        ).run(
          JSON.stringify(this.types),
          this.owner,
          hostname(),
          process.pid,
          OWN_IDENTITY,
          t,
          this.name,
        );
        return existing;
      }
      const cursor = this.startCursor(db);
      db.prepare(
        `INSERT INTO consumers (name, types, cursor, owner, owner_host, owner_pid, owner_start, heartbeat_at, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        this.name,
        JSON.stringify(this.types),
        cursor,
        this.owner,
        hostname(),
        process.pid,
        OWN_IDENTITY,
        t,
        t,
      );
      return { cursor, pending_event_id: null, pending_attempts: 0 } as ConsumerRow;
    });
    this.log.noteLocalCommit();
    this.cursor = row.cursor;
    this.idleUpTo = row.cursor;
    this.pendingEventId = row.pending_event_id;
    this.pendingAttempts = row.pending_attempts;
  }

  start(): void {
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
    this.loop = this.run().then(
      () => this.resolveDone(),
      (error: Error) => {
        this.logger?.error({ err: error }, 'durable consumer stopped on a database failure');
        this.rejectDone(error);
      },
    );
  }

  stats(): DurableStats {
    return { name: this.name, cursor: this.cursor, ...this.counts };
  }

  stop(options: { readonly abandonAfterMs?: number } = {}): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopping = true;
    this.wake?.();
    this.stopped = (async () => {
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      const grace = setTimeout(() => {
        this.abandoned = true;
        if (!this.abandon) return;
        this.logger?.warn(
          {
            event_id: this.pendingEventId,
            stop_timeout_ms: options.abandonAfterMs ?? this.stopTimeoutMs,
          },
          'stopping without waiting for a handler any longer; its event stays unacknowledged',
        );
        this.abandon();
      }, options.abandonAfterMs ?? this.stopTimeoutMs);
      await this.loop?.catch(() => {});
      clearTimeout(grace);
      if (!this.log.db.isClosed) {
        // Release the lease so that a successor can start at once.
        await this.log.db
          .write(`release consumer '${this.name}'`, (db) =>
            db
              .prepare(
                'UPDATE consumers SET owner = NULL, cursor = MAX(cursor, ?), heartbeat_at = ? WHERE name = ? AND owner = ?',
              )
              .run(this.idleUpTo, now(), this.name, this.owner),
          )
          .catch((error: Error) =>
            this.logger?.error({ err: error }, 'could not release the consumer'),
          );
      }
    })();
    return this.stopped;
  }

  // ------------------------------------------------------------------ the loop

  private async run(): Promise<void> {
    const select = this.log.db.db.prepare(
      `SELECT ${ROW_COLUMNS} FROM events
        WHERE event_id > @cursor AND event_id <= @upTo
          AND (target_consumer IS NULL OR target_consumer = @name)
          AND event_type IN (SELECT value FROM json_each(@types))
        ORDER BY event_id LIMIT @limit`,
    );
    const maxId = this.log.db.db.prepare(LAST_EVENT_ID_SQL).pluck();
    let idleMs = 1;
    let sinceYield = 0;
    let yieldedAt = performance.now();
    let readFailures = 0;
    while (!this.stopping) {
      let token: string;
      let upTo: number;
      let rows: EventRow[];
      try {
        token = this.log.changeToken();
        upTo = maxId.get() as number;
        rows = select.all({
          cursor: this.cursor,
          upTo,
          name: this.name,
          types: this.typeSpellings,
          limit: this.batchSize,
        }) as EventRow[];
        if (readFailures > 0) this.log.db.monitor.recovered(this.writer);
        readFailures = 0;
      } catch (error) {
        if (!isSqliteError(error)) throw error;
        if (isCorruption(error)) throw this.log.db.monitor.fatal(error);
        this.log.db.monitor.report(this.writer, error);
        await this.sleep(retryDelay(readFailures++));
        continue;
      }
      for (const row of rows) {
        if (this.stopping) return;
        await this.process(row);
        // Every await above may resolve as a microtask: without a turn of the event loop now and
        // then, a long backlog would starve this process's timers (the heartbeat, so the lease),
        // signal handlers and I/O until it is done.
        if (++sinceYield >= this.yieldEvents || performance.now() - yieldedAt >= this.yieldMs) {
          await new Promise((resolve) => setImmediate(resolve));
          sinceYield = 0;
          yieldedAt = performance.now();
        }
      }
      if (rows.length < this.batchSize && !this.stopping)
        this.idleUpTo = Math.max(this.idleUpTo, upTo);
      if (rows.length > 0) {
        idleMs = 1;
        continue;
      }
      // Nothing for us: wait for another commit, polling quickly for a while, then less often.
      const idleSince = performance.now();
      while (!this.stopping && token === this.log.changeToken()) {
        await this.sleep(idleMs);
        if (performance.now() - idleSince > 100) idleMs = Math.min(idleMs * 2, 25);
      }
      yieldedAt = performance.now();
    }
  }

  /** Names this consumer's writes in the storage monitor. */
  private get writer(): string {
    return `consumer ${this.name}`;
  }

  /**
   * A write of this consumer's progress. While the file refuses writes it waits (degraded, never
   * dropping the step); it gives up only when stop() stopped waiting for it. Returns false then.
   */
  private async persist(what: string, fn: (db: import('better-sqlite3').Database) => unknown) {
    const result = await this.log.db.persist(
      this.writer,
      `consumer '${this.name}' ${what}`,
      fn,
      () => this.abandoned,
    );
    if (result === CANCELLED) return false;
    this.log.noteLocalCommit();
    return true;
  }

  private async process(row: EventRow): Promise<void> {
    const decoded = decodeRow(row, this.log.maxPayloadBytes);
    if (!decoded.ok) {
      // Retrying cannot repair the row: straight to dead letters, with the reason.
      this.logger?.error(
        {
          event_id: row.event_id,
          event_type: row.event_type,
          reason: decoded.reason,
          message: decoded.message,
        },
        'unreadable event dead-lettered',
      );
      await this.deadLetter(row, `${decoded.reason}: ${decoded.message}`, 0);
      return;
    }
    const envelope = decoded.envelope;
    const seen = this.statements.inboxHas.get(this.name, envelope.id);
    if (seen) {
      this.counts.duplicatesSkipped++;
      this.logger?.info(
        { event_id: row.event_id, envelope_id: envelope.id },
        'already handled; skipped',
      );
      await this.ack(row, envelope.id, false);
      return;
    }
    let attempt = this.pendingEventId === row.event_id ? this.pendingAttempts : 0;
    for (;;) {
      attempt++;
      if (!(await this.markAttempt(row.event_id, attempt))) return;
      const error = await this.invoke(envelope, row.event_id, attempt);
      if (error === ABANDONED) return; // stopping: the event is delivered again after restart
      if (error === null) {
        await this.ack(row, envelope.id, true);
        return;
      }
      this.counts.failedAttempts++;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (attempt >= this.maxAttempts) {
        this.logger?.error(
          {
            event_id: row.event_id,
            envelope_id: envelope.id,
            type: envelope.type,
            attempts: attempt,
            err: error,
          },
          `event dead-lettered after ${attempt} attempts; the consumer moves on`,
        );
        await this.deadLetter(row, message, attempt);
        return;
      }
      const delay =
        Math.min(this.backoffInitial * 2 ** (attempt - 1), this.backoffMax) * (0.5 + Math.random());
      this.logger?.warn(
        {
          event_id: row.event_id,
          envelope_id: envelope.id,
          attempt,
          retry_in_ms: Math.round(delay),
          err: error,
        },
        'durable handler failed; retrying',
      );
      await this.sleep(delay);
      if (this.stopping) return; // the attempt count is persisted: a successor continues it
    }
  }

  /** Runs the handler; resolves with its error, null on success, ABANDONED when stopped. */
  private invoke(envelope: Envelope, eventId: number, attempt: number): Promise<unknown> {
    return new Promise((resolve) => {
      this.abandon = () => resolve(ABANDONED);
      const timer = setTimeout(
        () => resolve(new HandlerTimeoutError(envelope.id, this.name, this.handlerTimeoutMs)),
        this.handlerTimeoutMs,
      );
      Promise.resolve()
        .then(() => this.handler(envelope, { consumer: this.name, eventId, attempt }))
        .then(
          () => resolve(null),
          (error: unknown) => resolve(error ?? new Error('handler rejected with no reason')),
        )
        .finally(() => {
          clearTimeout(timer);
          this.abandon = null;
        });
    });
  }

  private async markAttempt(eventId: number, attempt: number): Promise<boolean> {
    const written = await this.persist('attempt', () =>
      this.statements.markAttempt.run(eventId, attempt, now(), this.name),
    );
    if (!written) return false;
    this.pendingEventId = eventId;
    this.pendingAttempts = attempt;
    return true;
  }

  private async ack(row: EventRow, envelopeId: string, handled: boolean): Promise<void> {
    const written = await this.persist('ack', () => {
      const t = now();
      this.statements.ack.run(row.event_id, handled ? 1 : 0, t, this.name);
      if (handled) this.statements.inboxAdd.run(this.name, envelopeId, t);
    });
    // Not written (stopped meanwhile): the event is delivered again, and handled again, after
    // the restart. At least once, as documented; the inbox only helps once the ack is written.
    if (!written) return;
    this.cursor = row.event_id;
    this.pendingEventId = null;
    this.pendingAttempts = 0;
    if (handled) this.counts.handled++;
  }

  private async deadLetter(row: EventRow, error: string, attempts: number): Promise<void> {
    const written = await this.persist('dead letter', (db) => {
      const t = now();
      insertDeadLetter(db, this.name, row, error, attempts, t);
      db.prepare(
        `UPDATE consumers SET cursor = ?, pending_event_id = NULL, pending_attempts = 0,
           dead_lettered = dead_lettered + 1, heartbeat_at = ? WHERE name = ?`,
      ).run(row.event_id, t, this.name);
    });
    if (!written) return;
    this.cursor = row.event_id;
    this.pendingEventId = null;
    this.pendingAttempts = 0;
    this.counts.deadLettered++;
  }

  private async heartbeat(): Promise<void> {
    // One at a time: while the file refuses writes, heartbeats must not pile up behind each other.
    if (this.stopping || this.log.db.isClosed || this.heartbeating) return;
    this.heartbeating = true;
    try {
      const result = this.log.db.tryWrite(`consumer '${this.name}' heartbeat`, (db) =>
        db
          .prepare(
            'UPDATE consumers SET heartbeat_at = ?, cursor = MAX(cursor, ?) WHERE name = ? AND owner = ?',
          )
          .run(
            now(),
            this.pendingEventId === null ? this.idleUpTo : this.cursor,
            this.name,
            this.owner,
          ),
      );
      if (!result.ok) return; // locked now: the next beat tries again
      this.log.noteLocalCommit();
      if (result.value.changes === 0) {
        // Another process took the consumer over (this one's heartbeat was older than the lease):
        // two owners would both handle its events, so this one stops.
        this.logger?.error(
          { lease_ms: this.leaseMs },
          'lost the consumer to another process (no heartbeat within the lease); stopping',
        );
        void this.stop({ abandonAfterMs: 0 });
        return;
      }
      if (this.pendingEventId === null) this.cursor = Math.max(this.cursor, this.idleUpTo);
    } catch (error) {
      if (!(error instanceof EventLogError)) throw error;
      if (isCorruption(error)) this.log.db.monitor.fatal(error);
      else this.logger?.warn({ err: error, code: error.code }, 'heartbeat not recorded');
    } finally {
      this.heartbeating = false;
    }
  }

  private checkLease(row: ConsumerRow, t: number): void {
    if (!row.owner || row.owner === this.owner) return;
    if (holdsLease(row, t, this.leaseMs)) throw new ConsumerBusyError(this.name, row.owner);
    this.logger?.info({ previous_owner: row.owner }, 'taking over from an owner that is gone');
  }

  private startCursor(db: import('better-sqlite3').Database): number {
    const at = this.startAt;
    if (at === 'earliest') return 0;
    if (at === 'latest') return db.prepare(LAST_EVENT_ID_SQL).pluck().get() as number;
    if (typeof at === 'number' && Number.isFinite(at)) {
      return db
        .prepare('SELECT COALESCE(MAX(event_id), 0) FROM events WHERE created_at < ?')
        .pluck()
        .get(at) as number;
    }
    throw new InvalidOptionError('startAt', "'earliest', 'latest' or Unix seconds", at);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * True while the row's owner may still be running: its heartbeat is younger than the lease and,
 * on this host, the very process that took it (PID and start identity) is alive. A heartbeat
 * older than the lease frees it whatever `kill(pid, 0)` says: in a container the restarted
 * runtime has the dead one's PID.
 */
export function holdsLease(
  row: Pick<ConsumerRow, 'owner' | 'owner_host' | 'owner_pid' | 'heartbeat_at'> & {
    readonly owner_start?: string | null;
  },
  nowSeconds: number,
  leaseMs: number,
): boolean {
  if (!row.owner) return false;
  if (nowSeconds - row.heartbeat_at > leaseMs / 1000) return false;
  if (row.owner_host !== hostname() || row.owner_pid === null) return true;
  return holderAlive(row.owner_pid, row.owner_start ?? null);
}

/**
 * The durable consumers among `names` that a live process holds in the log at `path` (none when
 * the file does not exist yet): what a new process taking those names would be refused.
 */
export function busyConsumers(
  path: string,
  names: readonly string[],
  leaseMs = 30_000,
): { readonly name: string; readonly owner: string }[] {
  if (names.length === 0 || !existsSync(path)) return [];
  const database = openDatabase(path, { readonly: true });
  try {
    // A new file, or the original service's (its tables only), has no consumers yet.
    const hasTable = database.db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'consumers'")
      .get();
    if (!hasTable) return [];
    const rows = database.db
      // `*`: a file of an older schema (read before its migration) has no owner_start yet.
      .prepare('SELECT * FROM consumers')
      .all() as (Pick<
      ConsumerRow,
      'owner' | 'owner_host' | 'owner_pid' | 'owner_start' | 'heartbeat_at'
    > & {
      name: string;
    })[];
    const now = Date.now() / 1000;
    return rows
      .filter((r) => names.includes(r.name) && holdsLease(r, now, leaseMs))
      .map((r) => ({ name: r.name, owner: r.owner as string }));
  } finally {
    database.close();
  }
}
