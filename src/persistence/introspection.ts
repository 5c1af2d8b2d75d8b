/**
 * What the CLI's `status` (and any other process) can read from the database file while
 * runtimes use it: events, durable consumers and their lag, dead letters, snapshots.
 */
import { spellingsOf } from '../events/aliases.js';
import type { EventName } from '../events/catalog/index.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import type { SnapshotInfo } from './snapshots.js';

export interface ConsumerStatus {
  readonly name: string;
  readonly types: readonly string[];
  readonly cursor: number;
  /** Events of its types after its cursor: what it still has to handle. */
  readonly lag: number;
  readonly owner: string | null;
  readonly heartbeatAt: number;
  readonly secondsSinceHeartbeat: number;
  readonly pendingEventId: number | null;
  readonly pendingAttempts: number;
  readonly handled: number;
  readonly deadLettered: number;
}

export interface EventLogStatus {
  readonly path: string;
  readonly events: {
    readonly count: number;
    readonly firstId: number;
    readonly lastId: number;
    readonly oldestAt: number | null;
  };
  readonly consumers: readonly ConsumerStatus[];
  readonly deadLetters: {
    readonly total: number;
    readonly notReplayed: number;
    readonly byConsumer: Readonly<Record<string, number>>;
  };
  readonly snapshots: readonly SnapshotInfo[];
}

/**
 * Reads the status from an open database, or opens `path` read-only for the duration.
 * @example
 * const status = inspectEventLog('/tmp/ringrift_coordination/events.db');
 * for (const c of status.consumers) console.log(c.name, c.lag);
 */
export function inspectEventLog(source: string | SqliteDatabase): EventLogStatus {
  const owned = typeof source === 'string';
  const database = owned ? openDatabase(source, { readonly: true }) : source;
  try {
    const db = database.db;
    const now = Date.now() / 1000;
    const events = db
      .prepare(
        'SELECT COUNT(*) AS count, COALESCE(MIN(event_id), 0) AS firstId, COALESCE(MAX(event_id), 0) AS lastId, MIN(created_at) AS oldestAt FROM events',
      )
      .get() as EventLogStatus['events'];
    const lagOf = db.prepare(
      'SELECT COUNT(*) FROM events WHERE event_id > ? AND (target_consumer IS NULL OR target_consumer = ?) AND event_type IN (SELECT value FROM json_each(?))',
    );
    const consumers = (
      db.prepare('SELECT * FROM consumers ORDER BY name').all() as Record<string, unknown>[]
    ).map((r) => {
      const types = JSON.parse(r.types as string) as EventName[];
      return {
        name: r.name as string,
        types,
        cursor: r.cursor as number,
        lag: lagOf
          .pluck()
          .get(r.cursor, r.name, JSON.stringify(types.flatMap((t) => spellingsOf(t)))) as number,
        owner: r.owner as string | null,
        heartbeatAt: r.heartbeat_at as number,
        secondsSinceHeartbeat: Math.max(0, now - (r.heartbeat_at as number)),
        pendingEventId: r.pending_event_id as number | null,
        pendingAttempts: r.pending_attempts as number,
        handled: r.handled as number,
        deadLettered: r.dead_lettered as number,
      };
    });
    const letters = db
      .prepare(
        'SELECT consumer, COUNT(*) AS n, SUM(replayed_at IS NULL) AS open FROM dead_letters GROUP BY consumer',
      )
      .all() as { consumer: string; n: number; open: number }[];
    const snapshots = db
      .prepare(
        'SELECT runtime_id AS runtimeId, actor_id AS actorId, machine_version AS machineVersion, saved_at AS savedAt, LENGTH(snapshot) AS bytes FROM actor_snapshots ORDER BY runtime_id, actor_id',
      )
      .all() as EventLogStatus['snapshots'];
    return {
      path: database.path,
      events,
      consumers,
      deadLetters: {
        total: letters.reduce((n, l) => n + l.n, 0),
        notReplayed: letters.reduce((n, l) => n + l.open, 0),
        byConsumer: Object.fromEntries(letters.map((l) => [l.consumer, l.n])),
      },
      snapshots,
    };
  } finally {
    if (owned) database.close();
  }
}
