/**
 * The `runtimes` table: each runtime using the file records who it is (host, PID and process
 * identity), refreshes a heartbeat, and says when and why it stopped. `status` reads it to tell a
 * running runtime from one that was killed (a kill -9 leaves its last DAEMON_STATUS_CHANGED
 * rows saying `running` for ever), and retention drops the snapshots of runtimes long dead.
 */
import { hostname } from 'node:os';
import type { SqliteDatabase } from './database.js';
import type { SqliteEventLog } from './event-log.js';
import { holderAlive, OWN_IDENTITY } from './process-identity.js';
import { isSqliteError } from './storage-health.js';

/** How often a runtime refreshes its row; another host's runtime is dead after 3 missed beats. */
export const RUNTIME_HEARTBEAT_MS = 5_000;
const DEAD_AFTER_S = (3 * RUNTIME_HEARTBEAT_MS) / 1000;

export interface RuntimeRow {
  readonly runtime_id: string;
  readonly host: string;
  readonly pid: number;
  readonly process_start: string | null;
  readonly profile: string;
  readonly started_at: number;
  readonly heartbeat_at: number;
  readonly stopped_at: number | null;
  readonly stop_reason: string | null;
  readonly storage: string | null;
}

export type Liveness =
  | { readonly state: 'running'; readonly heartbeatAgeS: number }
  | { readonly state: 'stopped'; readonly at: number; readonly reason: string | null }
  | { readonly state: 'dead'; readonly heartbeatAgeS: number; readonly why: string };

/**
 * Whether the runtime of a row still runs: stopped when it said so; on this host, alive while
 * the same process (PID and start identity) is; elsewhere, while its heartbeat is fresh.
 */
export function livenessOf(row: RuntimeRow, nowS = Date.now() / 1000): Liveness {
  const heartbeatAgeS = Math.max(0, nowS - row.heartbeat_at);
  if (row.stopped_at !== null)
    return { state: 'stopped', at: row.stopped_at, reason: row.stop_reason };
  if (row.host === hostname()) {
    if (holderAlive(row.pid, row.process_start)) return { state: 'running', heartbeatAgeS };
    const why =
      row.pid === process.pid
        ? 'its PID now belongs to another process'
        : `process ${row.pid} is gone`;
    return { state: 'dead', heartbeatAgeS, why };
  }
  return heartbeatAgeS <= DEAD_AFTER_S
    ? { state: 'running', heartbeatAgeS }
    : { state: 'dead', heartbeatAgeS, why: 'no heartbeat' };
}

export function listRuntimes(db: SqliteDatabase): RuntimeRow[] {
  return db.db.prepare('SELECT * FROM runtimes ORDER BY heartbeat_at DESC').all() as RuntimeRow[];
}

/**
 * Records this runtime in the file and keeps its heartbeat until the returned `stop(reason)`.
 * A beat the file refuses (locked, full) is skipped: the age `status` shows says so.
 */
export function registerRuntime(
  log: SqliteEventLog,
  runtimeId: string,
  profile: string,
): { stop(reason: string): Promise<void> } {
  /**
   * A write that is only a hint for `status`: one attempt, skipped when the file is locked or
   * refuses it (the monitor and the other writers report the file's state; the age `status`
   * shows says the beat is missing).
   */
  const record = (what: string, fn: (db: import('better-sqlite3').Database) => unknown) => {
    try {
      if (log.db.tryWrite(what, fn).ok) log.noteLocalCommit();
    } catch (error) {
      if (!isSqliteError(error)) throw error; // EventLogError carries SQLite's code
    }
  };
  const beat = () => {
    const storage = log.health();
    record('runtime heartbeat', (db) =>
      db
        .prepare(
          `INSERT INTO runtimes (runtime_id, host, pid, process_start, profile, started_at, heartbeat_at, storage)
            VALUES (@id, @host, @pid, @start, @profile, @now, @now, @storage)
            ON CONFLICT (runtime_id) DO UPDATE SET heartbeat_at = @now, storage = @storage,
              host = @host, pid = @pid, process_start = @start,
              started_at = CASE WHEN stopped_at IS NULL THEN started_at ELSE @now END,
              stopped_at = NULL, stop_reason = NULL`,
        )
        .run({
          id: runtimeId,
          host: hostname(),
          pid: process.pid,
          start: OWN_IDENTITY,
          profile,
          now: Date.now() / 1000,
          storage: storage.state === 'ok' ? null : JSON.stringify(storage),
        }),
    );
  };
  beat();
  const timer = setInterval(beat, RUNTIME_HEARTBEAT_MS);
  timer.unref();
  let stopped = false;
  const stop = async (reason: string) => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    // Unrecorded (closed, damaged, refused), `status` still finds it stopped: its process is gone.
    if (log.db.isClosed || log.db.monitor.failure) return;
    record('runtime stopped', (db) =>
      db
        .prepare('UPDATE runtimes SET stopped_at = ?, stop_reason = ? WHERE runtime_id = ?')
        .run(Date.now() / 1000, reason, runtimeId),
    );
  };
  log.onClose(() => stop('closed'));
  return { stop };
}
