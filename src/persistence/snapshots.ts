/**
 * The actor snapshot store: each actor's last persisted XState snapshot with the version of the
 * machine that produced it. Many saves of one actor within a tick are coalesced into one write;
 * all pending saves are written in one transaction.
 */
import type { Logger } from '../actors/logger.js';
import { EventLogError } from '../errors.js';
import { CANCELLED } from './database.js';
import type { SqliteEventLog } from './event-log.js';

export type LoadedSnapshot<T = unknown> =
  | {
      readonly status: 'ok';
      readonly snapshot: T;
      readonly machineVersion: string;
      readonly savedAt: number;
    }
  | {
      /** Saved by another version of the machine: discard or migrate it. */
      readonly status: 'version-mismatch';
      readonly snapshot: T;
      readonly machineVersion: string;
      readonly expectedVersion: string;
      readonly savedAt: number;
    };

export interface SnapshotInfo {
  readonly runtimeId: string;
  readonly actorId: string;
  readonly machineVersion: string;
  readonly savedAt: number;
  readonly bytes: number;
}

interface Pending {
  runtimeId: string;
  actorId: string;
  machineVersion: string;
  snapshot: unknown;
}

/** How long closing waits for snapshots the file refuses; then they are reported as lost. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * While the file refuses writes (full, locked), saves keep coalescing in memory, one slot per
 * actor, so what waits is bounded by the number of actors, and is written on recovery.
 * @example
 * const store = new SnapshotStore(log);
 * store.saveSnapshot(runtimeId, 'FEEDBACK_LOOP', '3', actor.getPersistedSnapshot());
 * await store.flush();
 * const loaded = store.loadSnapshot(runtimeId, 'FEEDBACK_LOOP', '3');
 */
export class SnapshotStore {
  /** One slot per actor: the latest save wins, so an actor has a single writer. */
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private writing: Promise<void> | null = null;
  private readonly logger: Logger | undefined;
  private closing = false;
  saves = 0;
  writes = 0;

  constructor(
    private readonly log: SqliteEventLog,
    logger?: Logger,
  ) {
    this.logger = (logger ?? log.baseLogger)?.child({ component: 'snapshots' });
    log.onClose(() => this.close());
  }

  /** Queues a save; the snapshot is serialised when written, so pass one that is not mutated later. */
  saveSnapshot(
    runtimeId: string,
    actorId: string,
    machineVersion: string,
    snapshot: unknown,
  ): void {
    if (this.log.db.isClosed)
      throw new EventLogError(this.log.path, 'saveSnapshot: the store is closed');
    this.pending.set(`${runtimeId}\u0000${actorId}`, {
      runtimeId,
      actorId,
      machineVersion,
      snapshot,
    });
    this.saves++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.writePending());
    }
  }

  /**
   * Resolves when every save made before it is written; waits while the file refuses writes.
   * @throws {EventLogError} when the file is damaged.
   */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.writing) {
      if (this.closing) return;
      const failure = this.log.db.monitor.failure;
      if (failure) throw failure;
      if (this.writing) await this.writing;
      else await this.writePending();
    }
  }

  /** Flushes for up to `timeoutMs`, then gives up on what the file still refuses (logged). */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let outcome: 'timeout' | 'error' | undefined;
    try {
      if ((await Promise.race([this.flush(), gaveUp])) === 'timeout') outcome = 'timeout';
    } catch (error) {
      if (!(error instanceof EventLogError)) throw error;
      outcome = 'error';
    } finally {
      clearTimeout(timer);
    }
    this.closing = true;
    await this.writing;
    if (outcome && this.pending.size > 0)
      this.logger?.error(
        { actors: [...this.pending.values()].map((p) => p.actorId) },
        'closed with snapshots the database file did not accept; those actors resume from older ones',
      );
  }

  /** The actor's snapshot, or `undefined` when none was saved. */
  loadSnapshot<T = unknown>(
    runtimeId: string,
    actorId: string,
    expectedVersion: string,
  ): LoadedSnapshot<T> | undefined {
    const row = this.log.db.db
      .prepare(
        'SELECT machine_version, snapshot, saved_at FROM actor_snapshots WHERE runtime_id = ? AND actor_id = ?',
      )
      .get(runtimeId, actorId) as
      | { machine_version: string; snapshot: string; saved_at: number }
      | undefined;
    if (!row) return undefined;
    let snapshot: T;
    try {
      snapshot = JSON.parse(row.snapshot) as T;
    } catch (error) {
      throw new EventLogError(this.log.path, `snapshot of '${actorId}' is not valid JSON`, {
        cause: error,
      });
    }
    if (row.machine_version !== expectedVersion) {
      return {
        status: 'version-mismatch',
        snapshot,
        machineVersion: row.machine_version,
        expectedVersion,
        savedAt: row.saved_at,
      };
    }
    return { status: 'ok', snapshot, machineVersion: row.machine_version, savedAt: row.saved_at };
  }

  deleteSnapshot(runtimeId: string, actorId: string): Promise<void> {
    this.pending.delete(`${runtimeId}\u0000${actorId}`);
    return this.log.db
      .write('delete snapshot', (db) =>
        db
          .prepare('DELETE FROM actor_snapshots WHERE runtime_id = ? AND actor_id = ?')
          .run(runtimeId, actorId),
      )
      .then(() => undefined);
  }

  private writePending(): Promise<void> {
    this.scheduled = false;
    if (this.writing || this.pending.size === 0) return this.writing ?? Promise.resolve();
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const rows = batch.map((p) => ({ ...p, json: JSON.stringify(p.snapshot) }));
    const requeue = () => {
      // Keep the newest of what failed unless a newer save arrived meanwhile.
      for (const p of batch) {
        const key = `${p.runtimeId}\u0000${p.actorId}`;
        if (!this.pending.has(key)) this.pending.set(key, p);
      }
    };
    // persist() waits out a full or locked file (reporting it as degraded); it never gives up
    // on its own, so nothing here rejects in the background.
    this.writing = this.log.db
      .persist(
        'snapshots',
        'save snapshots',
        (db) => {
          const upsert = db.prepare(
            `INSERT INTO actor_snapshots (runtime_id, actor_id, machine_version, snapshot, saved_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (runtime_id, actor_id) DO UPDATE SET
              machine_version = excluded.machine_version, snapshot = excluded.snapshot, saved_at = excluded.saved_at`,
          );
          const t = Date.now() / 1000;
          for (const r of rows) upsert.run(r.runtimeId, r.actorId, r.machineVersion, r.json, t);
        },
        () => this.closing || this.log.db.isClosed,
      )
      .then(
        (result) => {
          if (result === CANCELLED) return requeue();
          this.writes++;
          this.log.noteLocalCommit();
        },
        (error: unknown) => {
          if (!(error instanceof EventLogError)) throw error;
          // Damaged or closed: the monitor has said so (the runtime stops); keep them for the report.
          requeue();
        },
      )
      .finally(() => {
        this.writing = null;
      });
    return this.writing;
  }
}
