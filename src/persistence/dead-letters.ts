/**
 * Dead letters: events a durable consumer gave up on (after its attempts, or because the row
 * could not be read, or because retention's hard cap reached it unconsumed), kept with the error
 * and attempt count until an operator replays or inspects them. Nothing is dropped silently.
 */
import type Database from 'better-sqlite3';
import { EventLogError } from '../errors.js';
import type { SqliteEventLog } from './event-log.js';
import { type EventRow, INSERT_EVENT_SQL } from './row-codec.js';

export interface DeadLetter {
  readonly id: number;
  readonly consumer: string;
  readonly eventId: number | null;
  readonly envelopeId: string | null;
  readonly eventType: string;
  readonly payload: string;
  readonly source: string;
  readonly createdAt: number | null;
  readonly error: string;
  readonly attempts: number;
  readonly deadAt: number;
  readonly replayedAt: number | null;
}

interface DeadLetterRow {
  id: number;
  consumer: string;
  event_id: number | null;
  envelope_id: string | null;
  event_type: string;
  payload: string;
  source: string;
  created_at: number | null;
  error: string;
  attempts: number;
  dead_at: number;
  replayed_at: number | null;
}

/** Inserts a dead letter inside the caller's write transaction. */
export function insertDeadLetter(
  db: Database.Database,
  consumer: string,
  row: Pick<
    EventRow,
    'event_id' | 'envelope_id' | 'event_type' | 'payload' | 'source' | 'created_at'
  >,
  error: string,
  attempts: number,
  now: number,
): void {
  db.prepare(
    `INSERT INTO dead_letters
      (consumer, event_id, envelope_id, event_type, payload, source, created_at, error, attempts, dead_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    consumer,
    row.event_id,
    row.envelope_id,
    row.event_type,
    row.payload,
    row.source,
    row.created_at,
    error,
    attempts,
    now,
  );
}

export interface DeadLetterQuery {
  readonly consumer?: string;
  /** Include letters already replayed; default false. */
  readonly includeReplayed?: boolean;
  readonly limit?: number;
}

/**
 * `dlq list`: dead letters, oldest first.
 * @example
 * for (const letter of listDeadLetters(log, { consumer: 'promotion' })) console.log(letter.error);
 */
export function listDeadLetters(log: SqliteEventLog, query: DeadLetterQuery = {}): DeadLetter[] {
  const rows = log.db.db
    .prepare(
      `SELECT * FROM dead_letters
        WHERE (@consumer IS NULL OR consumer = @consumer)
          AND (@all = 1 OR replayed_at IS NULL)
        ORDER BY id LIMIT @limit`,
    )
    .all({
      consumer: query.consumer ?? null,
      all: query.includeReplayed ? 1 : 0,
      limit: query.limit ?? 1000,
    }) as DeadLetterRow[];
  return rows.map((r) => ({
    id: r.id,
    consumer: r.consumer,
    eventId: r.event_id,
    envelopeId: r.envelope_id,
    eventType: r.event_type,
    payload: r.payload,
    source: r.source,
    createdAt: r.created_at,
    error: r.error,
    attempts: r.attempts,
    deadAt: r.dead_at,
    replayedAt: r.replayed_at,
  }));
}

/**
 * `dlq replay`: writes each dead letter back to the log as a new row addressed to the consumer
 * that gave up on it (other readers ignore it), with the original envelope as parent, and marks
 * the letter replayed. Resolves with the number replayed.
 * @throws {EventLogError} for ids that do not exist or were already replayed.
 */
export async function replayDeadLetters(
  log: SqliteEventLog,
  selection: { readonly ids?: readonly number[]; readonly consumer?: string },
): Promise<number> {
  const now = Date.now() / 1000;
  const count = await log.db.write('replay dead letters', (db) => {
    const letters = selectForReplay(db, selection, log.path);
    const insert = db.prepare(INSERT_EVENT_SQL);
    const mark = db.prepare('UPDATE dead_letters SET replayed_at = ? WHERE id = ?');
    for (const l of letters) {
      insert.run(
        l.event_type,
        l.payload,
        l.source,
        '',
        now,
        // A new id: the original's is still in the log and maybe in other consumers' inboxes.
        `${l.envelope_id ?? `row-${l.event_id}`}:replay-${l.id}`,
        null,
        process.pid,
        l.envelope_id,
        null,
        l.envelope_id,
        l.consumer,
      );
      mark.run(now, l.id);
    }
    return letters.length;
  });
  log.noteLocalCommit();
  return count;
}

function selectForReplay(
  db: Database.Database,
  selection: { readonly ids?: readonly number[]; readonly consumer?: string },
  path: string,
): DeadLetterRow[] {
  if (selection.ids && selection.ids.length > 0) {
    const get = db.prepare('SELECT * FROM dead_letters WHERE id = ?');
    return selection.ids.map((id) => {
      const row = get.get(id) as DeadLetterRow | undefined;
      if (!row) throw new EventLogError(path, `dead letter ${id} does not exist`);
      if (row.replayed_at !== null)
        throw new EventLogError(path, `dead letter ${id} was already replayed`);
      return row;
    });
  }
  if (selection.consumer) {
    return db
      .prepare('SELECT * FROM dead_letters WHERE consumer = ? AND replayed_at IS NULL ORDER BY id')
      .all(selection.consumer) as DeadLetterRow[];
  }
  throw new EventLogError(path, 'replay needs dead letter ids or a consumer name');
}
