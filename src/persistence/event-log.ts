/**
 * The cross-process event log on one host: the original's `events` table in a SQLite file.
 *
 * Writing: `append()` puts an envelope in an in-memory outbox; what accumulates while the previous
 * batch commits is committed as the next one (group commit) by the writer thread, so neither the
 * transaction nor a wait for another process's lock ever runs on the publisher's event loop.
 * `flush()` resolves once everything appended before it is committed; a failed batch stays in the
 * outbox and is retried, so nothing accepted is dropped.
 *
 * Reading (the bridge to the local router): a poll on a short adaptive interval checks
 * `PRAGMA data_version` (3 us when nothing changed) and reads new rows only when another
 * connection committed. Rows this runtime wrote are skipped; every other row is offered to the
 * router once, and only marked read when the router took it. A batch the writer thread committed
 * right after the last row read is not read back: the thread says where its rows went, and they
 * are handed over as a read would give them (a read after another connection's commit reloads
 * SQLite's page cache, the largest cost of a read). Another connection's commit in the same
 * moment is found by a read at most `poll.maxMs` later.
 */

import type { Logger } from '../actors/logger.js';
import type { RemoteSink } from '../actors/transport.js';
import { EventLogError, OutboxFullError } from '../errors.js';
import { resolveEventType } from '../events/aliases.js';
import type { Envelope } from '../events/envelope.js';
import { MAX_PAYLOAD_BYTES } from '../events/payload.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { defaultDbPath } from './paths.js';
import {
  decodeRow,
  type EventRow,
  INSERT_EVENT_SQL,
  LAST_EVENT_ID_SQL,
  ROW_COLUMNS,
  type RowValues,
  rowOfValues,
  toRowValues,
} from './row-codec.js';
import { isCorruption, isSqliteError, retryDelay, type StorageHealth } from './storage-health.js';
import { type CommittedIds, WriterThread } from './writer-thread.js';

export interface EventLogOptions {
  /** Default: `$RINGRIFT_COORDINATION_DIR/events.db`, else the original's directory rules. */
  readonly path?: string;
  readonly logger?: Logger;
  /** Rows committed per transaction at most; 1,000. */
  readonly batchSize?: number;
  /**
   * Poll interval bounds: `minMs` while events flow and for 100 ms after the last one, then
   * doubling up to `maxMs`; 1 and 25.
   */
  readonly poll?: { readonly minMs?: number; readonly maxMs?: number };
  /** Largest payload accepted when reading a row; 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** How long a write keeps retrying a locked database; 60 s. */
  readonly writeTimeoutMs?: number;
  /** How long `close()` waits for queued events to be written; 10 s. */
  readonly closeTimeoutMs?: number;
  /**
   * Cross-process events kept in memory while the file refuses writes (full disk, held lock);
   * 100,000. Past it `append()` (and so `publish` of such an event) throws OutboxFullError.
   */
  readonly maxQueuedEvents?: number;
  /** The largest the file may grow, in bytes (SQLite's `max_page_count`); unbounded by default. */
  readonly maxBytes?: number;
  /**
   * How long the writer thread waits for another connection's lock per transaction before the
   * batch counts as failed (and is retried); 10 s. Waiting blocks only that thread.
   */
  readonly lockWaitMs?: number;
}

/** A row as the poll reads it, with the host it came from when the cluster bridge wrote it. */
export interface ReadRow extends EventRow {
  readonly via_cluster: string | null;
}

/**
 * One read of the file by the poll: every row with `event_id > after`, in order, up to the last of
 * `rows`, and all of them when `complete`. A reader whose own cursor is at or past `after` learns
 * from it everything up to that last row without reading the file itself.
 */
export interface FileRead {
  readonly after: number;
  readonly rows: readonly ReadRow[];
  readonly complete: boolean;
}

/** `read` is null when rows were committed here but nobody read them (the poll is not running). */
export type ReadListener = (read: FileRead | null) => void;

interface FlushWaiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export interface BridgeStats {
  readonly appended: number;
  readonly committed: number;
  readonly pending: number;
  readonly remoteDelivered: number;
  readonly remoteSkipped: {
    readonly unknownType: number;
    readonly corruptJson: number;
    readonly invalidPayload: number;
  };
  readonly lastSeenEventId: number;
  readonly busyRetries: number;
  /**
   * Reads of the file by the poll. This process's own commits are handed over without one, when
   * they follow the last row read.
   */
  readonly fileReads: number;
}

/**
 * @example
 * const log = openEventLog({ path: '/tmp/events.db' });
 * const router = createRouter({ eventLog: log });
 */
export function openEventLog(options: EventLogOptions = {}): SqliteEventLog {
  return new SqliteEventLog(options);
}

/** How long the poll stays at its shortest interval after the last change. */
const IDLE_AFTER_MS = 100;

/** False when the row's type resolves and nobody here subscribes to it; true otherwise. */
function wantedType(eventType: string, sink: RemoteSink): boolean {
  try {
    return sink.wants(resolveEventType(eventType).name);
  } catch {
    return true; // unknown: let decodeRow report it
  }
}

export class SqliteEventLog {
  readonly db: SqliteDatabase;
  readonly path: string;
  readonly maxPayloadBytes: number;
  private readonly closeTimeoutMs: number;
  /** The logger given at open; consumers, retention and snapshots log through its children. */
  readonly baseLogger: Logger | undefined;
  private readonly logger: Logger | undefined;
  private readonly batchSize: number;
  private readonly readBatchSize: number;
  private readonly pollMin: number;
  private readonly pollMax: number;
  private outbox: Envelope[] = [];
  private appended = 0;
  private committed = 0;
  /** Commits made by this connection: `data_version` does not change for them. */
  private localCommits = 0;
  private writing = false;
  private writeScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private waiters: FlushWaiter[] = [];
  private sink: RemoteSink | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private pollInterval: number;
  private lastDataVersion = -1;
  private lastActivity = 0;
  private lastSeen = 0;
  /**
   * When a version was taken without a read (after a batch of this process's, handed over): by
   * this time (performance.now()) the poll reads anyway, since another connection may have
   * committed between that batch's commit and the taking of the version.
   */
  private verifyBy = 0;
  /** When the batch now on the writer thread was posted (performance.now()); 0 when none is. */
  private batchPostedAt = 0;
  private fileReads = 0;
  private remoteDelivered = 0;
  private readonly skipped = { unknownType: 0, corruptJson: 0, invalidPayload: 0 };
  private readonly warnedTypes = new Set<string>();
  private closed = false;
  private readonly closeHooks: (() => Promise<void> | void)[] = [];
  private readonly readListeners: ReadListener[] = [];
  private readonly statements;
  private readonly writer: WriterThread;
  private readonly maxQueued: number;
  /** Failed write attempts in a row: drives the retry delay. */
  private writeFailures = 0;
  /**
   * Rows per transaction now: halved after each failed batch, so that a nearly full file still
   * takes what fits (one big transaction would fail as a whole), and grown back after successes.
   */
  private batchLimit: number;

  constructor(options: EventLogOptions = {}) {
    this.path = options.path ?? defaultDbPath();
    this.baseLogger = options.logger;
    this.logger = options.logger?.child({ component: 'event-log' });
    this.batchSize = options.batchSize ?? 1000;
    this.readBatchSize = 500;
    this.pollMin = options.poll?.minMs ?? 1;
    this.pollMax = options.poll?.maxMs ?? 25;
    this.pollInterval = this.pollMin;
    this.maxPayloadBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    // The main-thread connection runs the migrations, so the writer thread finds the schema ready.
    this.db = openDatabase(this.path, {
      writeTimeoutMs: options.writeTimeoutMs,
      maxBytes: options.maxBytes,
      logger: options.logger,
    });
    this.maxQueued = options.maxQueuedEvents ?? 100_000;
    this.batchLimit = this.batchSize;
    this.db.monitor.queuedEvents = () => this.outbox.length;
    this.writer = new WriterThread({
      path: this.path,
      sql: INSERT_EVENT_SQL,
      maxPageCount: this.db.maxPageCount,
      busyTimeoutMs: options.lockWaitMs,
    });
    this.writer.onCheckpoint = (message) => {
      if (message.type === 'checkpoint-ok') this.db.monitor.recovered('checkpoint');
      else
        this.db.monitor.report(
          'checkpoint',
          new EventLogError(this.path, `checkpoint failed: ${message.message}`, {
            code: message.code,
          }),
        );
    };
    // Acks and snapshots written here must not run a checkpoint either: the checkpoint thread does.
    this.db.db.pragma('wal_autocheckpoint = 0');
    const db = this.db.db;
    this.statements = {
      after: db.prepare(
        `SELECT ${ROW_COLUMNS}, via_cluster FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?`,
      ),
      maxId: db.prepare(LAST_EVENT_ID_SQL).pluck(),
      // Prepared once: `pragma()` compiles its statement on every call, and the poll asks up to a
      // thousand times a second.
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
    };
  }

  // ------------------------------------------------------------------ writing

  /**
   * Queues an envelope for the next group commit.
   * @throws {OutboxFullError} when `maxQueuedEvents` wait already (the file has refused writes
   *   for a while): back-pressure, nothing is dropped. {EventLogError} when closed or damaged.
   */
  append(envelope: Envelope): void {
    if (this.closed) throw new EventLogError(this.path, 'append: the event log is closed');
    const failure = this.db.monitor.failure;
    if (failure) throw failure;
    if (this.outbox.length >= this.maxQueued) {
      const health = this.db.monitor.health();
      throw new OutboxFullError(this.path, this.maxQueued, health.code, health.reason);
    }
    this.outbox.push(envelope);
    this.appended++;
    this.scheduleWrite();
  }

  /**
   * Resolves when everything appended before this call is committed. Rejects if a write failed
   * (the events stay queued and are retried; call again to wait for them).
   */
  flush(): Promise<void> {
    if (this.committed >= this.appended) return Promise.resolve();
    const failure = this.db.monitor.failure;
    if (failure) return Promise.reject(failure);
    const target = this.appended;
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.scheduleWrite();
    });
  }

  /** A change token that moves on whenever any connection, this one included, committed. */
  changeToken(): string {
    return `${this.statements.dataVersion.get()}:${this.localCommits}`;
  }

  /** Counts a commit made on this connection outside the outbox (acks, dead letters, replays). */
  noteLocalCommit(): void {
    this.localCommits++;
  }

  /**
   * Says that this connection committed rows of other runtimes (the cluster bridge's inbound
   * events, ids `first` to `last`): `data_version` does not move for this connection's own
   * commits, so the next poll must read anyway, and durable consumers see a new change token.
   * When the router here already took every one of them (`delivered`) and they follow the last
   * row the poll read, the poll passes over them instead: reading them back only to drop them
   * by envelope id cost the receiving host a read per inbound batch.
   */
  noteForeignRows(
    rows: { readonly first: number; readonly last: number },
    delivered: boolean,
  ): void {
    this.localCommits++;
    if (delivered && this.sink && rows.first === this.lastSeen + 1) {
      this.lastSeen = rows.last;
      return;
    }
    this.mustRead();
    // Read them now rather than at the next poll: they are what a subscriber here waits for.
    if (this.pollTimer && this.sink && !this.closed) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
      this.pollInterval = this.pollMin;
      this.schedulePoll(0);
    }
  }

  /**
   * Called with every read the poll makes, and after each commit of this process's events: what a
   * reader of the file that does not poll on its own (the cluster bridge's outbox) waits for.
   * With a listener, each such commit is read at once rather than at the next poll, so one read
   * serves the router and the listener (a read after the writer thread's commit reloads the page
   * cache, the largest cost of a read).
   */
  onRead(listener: ReadListener): void {
    this.readListeners.push(listener);
  }

  private scheduleWrite(): void {
    if (this.writeScheduled || this.writing || this.retryTimer) return;
    this.writeScheduled = true;
    // setImmediate, not a microtask: every publish of this turn joins the same transaction.
    setImmediate(this.writeOutbox);
  }

  private readonly writeOutbox = async (): Promise<void> => {
    this.writeScheduled = false;
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.outbox.length > 0) {
        const batch = this.outbox.slice(0, this.batchLimit);
        const values = batch.map((envelope) => toRowValues(envelope));
        let ids: CommittedIds;
        this.batchPostedAt = performance.now();
        try {
          ids = await this.writer.write(values);
        } catch (error) {
          this.batchPostedAt = 0;
          if (isCorruption(error)) {
            // Nothing more can be written to this file: the runtime stops (it listens to the monitor).
            this.failWaiters(this.db.monitor.fatal(error));
            return;
          }
          this.failWaiters(error as Error);
          // Degraded: the events stay queued, in order, and are tried again in smaller batches.
          this.db.monitor.report('outbox', error);
          this.batchLimit = Math.max(1, Math.floor(this.batchLimit / 2));
          this.retryTimer = setTimeout(
            () => {
              this.retryTimer = null;
              this.scheduleWrite();
            },
            retryDelay(this.writeFailures++),
          );
          return;
        }
        this.batchPostedAt = 0;
        this.writeFailures = 0;
        this.batchLimit = Math.min(this.batchSize, this.batchLimit * 2);
        this.outbox = this.outbox.slice(batch.length);
        // A nearly full file takes a small batch now and then: recovered once all of it is written.
        if (this.outbox.length === 0) this.db.monitor.recovered('outbox');
        this.committed += batch.length;
        this.resolveWaiters();
        this.readCommitted(values, ids);
      }
    } finally {
      this.writing = false;
    }
  };

  /**
   * After a commit of the writer thread: its rows as a read would give them when they follow the
   * last row read (nothing of another connection's lies before them); else a read now for the
   * listeners, or `null` for them when nobody reads the file.
   */
  private readCommitted(values: readonly RowValues[], ids: CommittedIds): void {
    if (!this.sink || this.closed) {
      for (const listener of this.readListeners) listener(null);
      return;
    }
    // The poll read the batch already (it ran between the commit and this reply): handed over.
    if (ids.last <= this.lastSeen) return;
    const known =
      ids.prev === this.lastSeen &&
      ids.last - ids.first + 1 === values.length &&
      !this.db.monitor.failure;
    if (!known) {
      this.mustRead();
      if (this.readListeners.length === 0) return; // the poll reads them when due
      if (this.pollTimer) clearTimeout(this.pollTimer);
      this.poll();
      return;
    }
    const rows = values.map((v, i) => rowOfValues(ids.first + i, v));
    this.lastActivity = performance.now();
    if (this.handOver(ids.prev, rows, true)) {
      // Read at once: the change this batch made is not a reason to read; a later one is.
      this.lastDataVersion = this.statements.dataVersion.get() as number;
      if (this.verifyBy === 0) this.verifyBy = this.lastActivity + this.pollMax;
    }
    // Blocked (a full mailbox): the poll offers the rest again from the file.
    else this.mustRead();
  }

  /** The next poll reads the file, whatever `data_version` says. */
  private mustRead(): void {
    this.lastDataVersion = -1;
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const w of this.waiters) {
      if (w.target <= this.committed) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private failWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }

  // ------------------------------------------------------------------ reading (bridge)

  /** Starts offering rows that other processes write from now on to `sink`. */
  start(sink: RemoteSink): void {
    if (this.sink)
      throw new EventLogError(this.path, 'start: the event log already feeds a router');
    this.sink = sink;
    this.lastSeen = this.statements.maxId.get() as number;
    this.lastDataVersion = this.statements.dataVersion.get() as number;
    this.schedulePoll(this.pollMin);
  }

  private schedulePoll(ms: number): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(this.poll, ms);
  }

  private readonly poll = (): void => {
    this.pollTimer = null;
    if (this.closed || !this.sink || this.db.monitor.failure) return;
    try {
      this.readNew();
      this.db.monitor.recovered('reader');
    } catch (error) {
      if (!isSqliteError(error)) throw error;
      // A read that fails is retried; a damaged file ends the runtime (the monitor tells it).
      if (isCorruption(error)) {
        this.db.monitor.fatal(error);
        return;
      }
      this.db.monitor.report('reader', error);
      this.schedulePoll(this.pollMax * 10);
    }
  };

  private readNew(): void {
    const version = this.statements.dataVersion.get() as number;
    const now = performance.now();
    const due = this.verifyBy !== 0 && now >= this.verifyBy;
    // A change while a batch is on the writer thread is most likely that batch, whose rows its
    // reply hands over: wait for it rather than read them back (for at most `pollMax`, since a
    // batch that waits for another connection's lock must not hold that connection's rows back).
    // -1: a read was asked for (rows of others wait), never put off.
    const ownBatch =
      this.batchPostedAt !== 0 &&
      now - this.batchPostedAt < this.pollMax &&
      this.lastDataVersion !== -1;
    if ((version === this.lastDataVersion || ownBatch) && !due) {
      // Events arrive in bursts with short gaps: keep polling fast for a while after the last one.
      if (now - this.lastActivity > IDLE_AFTER_MS) {
        this.pollInterval = Math.min(this.pollInterval * 2, this.pollMax);
      }
      this.schedulePoll(this.pollInterval);
      return;
    }
    this.lastActivity = now;
    const after = this.lastSeen;
    const rows = this.statements.after.all(after, this.readBatchSize) as ReadRow[];
    this.fileReads++;
    const complete = rows.length < this.readBatchSize;
    const taken = this.handOver(after, rows, complete);
    // Only forget the version once everything up to it was read and taken.
    if (taken && complete) {
      this.lastDataVersion = version;
      this.verifyBy = 0;
    }
    this.pollInterval = this.pollMin;
    this.schedulePoll(!taken ? 10 : rows.length === this.readBatchSize ? 0 : this.pollMin);
  }

  /**
   * Offers `rows` (every row after `after`, in order) to the router and gives them to the
   * listeners. False when the router could not take one: `lastSeen` stays before it.
   */
  private handOver(after: number, rows: readonly ReadRow[], complete: boolean): boolean {
    let taken = true;
    for (const row of rows) {
      if (!this.offer(row)) {
        taken = false;
        break;
      }
      this.lastSeen = row.event_id;
    }
    if (this.readListeners.length > 0) {
      const read: FileRead = { after, rows, complete };
      for (const listener of this.readListeners) listener(read);
    }
    return taken;
  }

  /** False when the router cannot take the event now (a full mailbox): offer it again later. */
  private offer(row: EventRow): boolean {
    const sink = this.sink as RemoteSink;
    if (row.origin_runtime === sink.runtimeId || row.target_consumer !== null) return true;
    if (row.envelope_id !== null && sink.seen?.(row.envelope_id)) return true;
    const wanted = wantedType(row.event_type, sink);
    if (wanted === false) return true;
    const decoded = decodeRow(row, this.maxPayloadBytes);
    if (!decoded.ok) {
      this.reportSkipped(row, decoded.reason, decoded.message);
      return true;
    }
    if (!sink.deliver(decoded.envelope)) return false;
    this.remoteDelivered++;
    return true;
  }

  private reportSkipped(row: EventRow, reason: string, message: string): void {
    if (reason === 'unknown-type') {
      this.skipped.unknownType++;
      // A newer writer may publish types this version does not know: say so once per type.
      if (this.warnedTypes.has(row.event_type)) return;
      this.warnedTypes.add(row.event_type);
      this.logger?.warn(
        { event_id: row.event_id, event_type: row.event_type, source: row.source },
        `skipping events of unknown type '${row.event_type}' from another process (a newer writer?)`,
      );
      return;
    }
    if (reason === 'corrupt-json') this.skipped.corruptJson++;
    else this.skipped.invalidPayload++;
    this.logger?.error(
      { event_id: row.event_id, event_type: row.event_type, source: row.source, reason, message },
      'skipping an unreadable event from another process',
    );
  }

  // ------------------------------------------------------------------ lifecycle

  /** Whether the file accepts writes, and if not why, since when and what waits (never throws). */
  health(): StorageHealth {
    return this.db.monitor.health();
  }

  /** Called once if the file turns out to be damaged mid-run (at once when it already is). */
  onFatal(listener: (error: EventLogError) => void): void {
    this.db.monitor.onFatal(listener);
  }

  /** Accepted cross-process events not written (yet): after close, the ones that never were. */
  get unwritten(): number {
    return this.outbox.length;
  }

  getStats(): BridgeStats {
    return {
      appended: this.appended,
      committed: this.committed,
      pending: this.outbox.length,
      remoteDelivered: this.remoteDelivered,
      remoteSkipped: { ...this.skipped },
      lastSeenEventId: this.lastSeen,
      busyRetries: this.db.busyRetries,
      fileReads: this.fileReads,
    };
  }

  /** Runs `hook` at close, before the database closes (durable consumers, retention, snapshots). */
  onClose(hook: () => Promise<void> | void): void {
    this.closeHooks.push(hook);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Flushes the outbox, stops reading, runs close hooks, closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.sink = null;
    // Bounded: a writer that never answers must not turn close() (and a runtime's stop()) into a hang.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.closeTimeoutMs);
    });
    try {
      if ((await Promise.race([this.flush(), gaveUp])) === 'timeout') {
        this.logger?.error(
          { lost: this.outbox.length, close_timeout_ms: this.closeTimeoutMs },
          'event log closed before its queued events could be written',
        );
      }
    } catch (error) {
      this.logger?.error(
        { err: error, lost: this.outbox.length },
        'event log closed with events that could not be written',
      );
    } finally {
      clearTimeout(timer);
    }
    for (const hook of this.closeHooks.splice(0)) await hook();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.writer.close();
    this.db.close();
  }
}
