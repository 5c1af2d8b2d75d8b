/**
 * Retention: keeps the file's size bounded without losing anything silently (lesson 11: the
 * original only filtered reads, so the file grew forever and unread events vanished unannounced).
 *
 * - A row is deleted once every active durable consumer has acknowledged it and it is older than
 *   `retentionMs` (24 h).
 * - A row some active consumer still needs is kept up to `capMs` (7 days); past that it is moved
 *   to that consumer's dead letters, with a warning, and deleted.
 * - A consumer without heartbeat for `staleConsumerMs` stops holding rows back and is reported.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../actors/logger.js';
import { resolveEventType } from '../events/aliases.js';
import { insertDeadLetter } from './dead-letters.js';
import type { SqliteEventLog } from './event-log.js';
import { type EventRow, ROW_COLUMNS } from './row-codec.js';
import { livenessOf, type RuntimeRow } from './runtimes.js';

export interface RetentionOptions {
  /** Acknowledged rows older than this are deleted; 24 h. */
  readonly retentionMs?: number;
  /** Unacknowledged rows older than this are dead-lettered and deleted; 7 days. */
  readonly capMs?: number;
  /** Consumers without heartbeat for this long no longer hold rows back; 1 h. */
  readonly staleConsumerMs?: number;
  /** For tests: the current time in Unix seconds. */
  readonly now?: number;
  readonly logger?: Logger;
}

export interface RetentionReport {
  readonly deleted: number;
  readonly deadLettered: number;
  readonly staleConsumers: readonly string[];
  readonly inboxPruned: number;
  /** Runtimes stopped or dead for longer than the retention age, removed with their snapshots. */
  readonly goneRuntimes: readonly string[];
  readonly snapshotsDeleted: number;
}

const HOUR = 3_600_000;

interface ConsumerInfo {
  name: string;
  types: string;
  cursor: number;
  heartbeat_at: number;
}

/**
 * One retention pass in one write transaction.
 * @example
 * const report = await runRetention(log); // { deleted, deadLettered, staleConsumers, inboxPruned }
 */
export async function runRetention(
  log: SqliteEventLog,
  options: RetentionOptions = {},
): Promise<RetentionReport> {
  const now = options.now ?? Date.now() / 1000;
  const retention = (options.retentionMs ?? 24 * HOUR) / 1000;
  const cap = (options.capMs ?? 7 * 24 * HOUR) / 1000;
  const staleAfter = (options.staleConsumerMs ?? HOUR) / 1000;
  const report = await log.db.write('retention', (db) =>
    retentionPass(db, now, retention, cap, staleAfter),
  );
  log.noteLocalCommit();
  const logger = (options.logger ?? log.baseLogger)?.child({ component: 'retention' });
  if (report.deadLettered > 0) {
    logger?.warn(
      { dead_lettered: report.deadLettered, cap_hours: cap / 3600 },
      'unconsumed events reached the retention cap and were moved to dead letters',
    );
  }
  if (report.staleConsumers.length > 0) {
    logger?.warn(
      { consumers: report.staleConsumers, stale_after_hours: staleAfter / 3600 },
      'stale durable consumers no longer hold events back',
    );
  }
  return report;
}

function retentionPass(
  db: Database.Database,
  now: number,
  retention: number,
  cap: number,
  staleAfter: number,
): RetentionReport {
  const consumers = db
    .prepare('SELECT name, types, cursor, heartbeat_at FROM consumers')
    .all() as ConsumerInfo[];
  const active = consumers.filter((c) => now - c.heartbeat_at <= staleAfter);
  const staleConsumers = consumers
    .filter((c) => now - c.heartbeat_at > staleAfter)
    .map((c) => c.name);
  const minCursor =
    active.length > 0 ? Math.min(...active.map((c) => c.cursor)) : Number.MAX_SAFE_INTEGER;
  // The cluster bridge's cursor: rows after it are this host's outbox, not yet on JetStream.
  const bridgeCursor =
    (db.prepare('SELECT out_cursor FROM cluster_bridge WHERE id = 1').pluck().get() as
      | number
      | undefined) ?? Number.MAX_SAFE_INTEGER;

  // Past the cap: every active consumer that has not read a row and wants its type gets a letter.
  const capped = db
    .prepare(
      `SELECT ${ROW_COLUMNS} FROM events WHERE created_at < ? AND event_id > ? ORDER BY event_id`,
    )
    .all(now - cap, minCursor) as EventRow[];
  let deadLettered = 0;
  const wants = new Map(active.map((c) => [c.name, new Set(JSON.parse(c.types) as string[])]));
  for (const row of capped) {
    const type = canonical(row.event_type);
    for (const c of active) {
      if (c.cursor >= row.event_id) continue;
      if (row.target_consumer !== null && row.target_consumer !== c.name) continue;
      if (type === null || !wants.get(c.name)?.has(type)) continue;
      insertDeadLetter(db, c.name, row, `retention cap: unconsumed after ${cap / 3600} h`, 0, now);
      deadLettered++;
    }
  }
  const deleteCapped = db
    .prepare('DELETE FROM events WHERE created_at < ? AND event_id > ?')
    .run(now - cap, minCursor);
  const deleteAcked = db
    .prepare('DELETE FROM events WHERE created_at < ? AND event_id <= ?')
    .run(now - retention, Math.min(minCursor, bridgeCursor));
  // The original's ack table only matters for rows that still exist.
  db.prepare(
    'DELETE FROM acks WHERE event_id < (SELECT COALESCE(MIN(event_id), 9e18) FROM events)',
  ).run();
  const inbox = db
    .prepare('DELETE FROM consumer_inbox WHERE processed_at < ?')
    .run(now - retention);
  db.prepare('DELETE FROM cluster_inbox WHERE received_at < ?').run(now - retention);
  // Runtimes gone for longer than the retention age: their snapshots would only ever restore a
  // machine nobody runs, and their rows would keep `status` listing them.
  const gone = (db.prepare('SELECT * FROM runtimes').all() as RuntimeRow[])
    .filter((r) => {
      const l = livenessOf(r, now);
      return l.state === 'stopped'
        ? now - l.at > retention
        : l.state === 'dead' && l.heartbeatAgeS > retention;
    })
    .map((r) => r.runtime_id);
  const dropSnapshots = db.prepare('DELETE FROM actor_snapshots WHERE runtime_id = ?');
  const dropRuntime = db.prepare('DELETE FROM runtimes WHERE runtime_id = ?');
  let snapshotsDeleted = 0;
  for (const id of gone) {
    snapshotsDeleted += dropSnapshots.run(id).changes;
    dropRuntime.run(id);
  }
  return {
    deleted: deleteCapped.changes + deleteAcked.changes,
    deadLettered,
    staleConsumers,
    inboxPruned: inbox.changes,
    goneRuntimes: gone,
    snapshotsDeleted,
  };
}

function canonical(type: string): string | null {
  try {
    return resolveEventType(type).name;
  } catch {
    return null; // an unknown type has no consumer here to dead-letter it for
  }
}

/**
 * Runs retention every `intervalMs` (default 10 min) until the log closes. Failures are logged,
 * and the next pass tries again.
 */
export function scheduleRetention(
  log: SqliteEventLog,
  options: RetentionOptions & { readonly intervalMs?: number } = {},
): () => void {
  const timer = setInterval(
    () => {
      runRetention(log, options).catch((error: Error) =>
        options.logger?.error({ err: error }, 'retention pass failed; trying again next interval'),
      );
    },
    options.intervalMs ?? 10 * 60_000,
  );
  timer.unref();
  const stop = () => clearInterval(timer);
  log.onClose(stop);
  return stop;
}
