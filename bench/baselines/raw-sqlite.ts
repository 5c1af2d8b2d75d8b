/**
 * Raw better-sqlite3 baselines for the queue benchmark, on a table shaped like the event log's:
 * batched inserts (500 rows per transaction) and a cursor poll loop (`event_id > ?`, JSON.parse).
 * Also the insert-to-read latency of a bare 1 ms poll between two processes (`rawLatency`).
 */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/index.js';
import { INSERT_EVENT_SQL } from '../../src/persistence/row-codec.js';
import { hostClockMs } from '../support/measure.js';

const SCHEMA = `CREATE TABLE IF NOT EXISTS events (event_id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_type TEXT NOT NULL, payload TEXT NOT NULL, source TEXT NOT NULL, hostname TEXT NOT NULL, created_at REAL NOT NULL)`;

export function openRaw(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}

/**
 * Rows per second inserted in 500-row transactions. `bare` is a table with the five original
 * columns and no index; `event-log` is the event log's own table (the original's indexes and
 * generated column plus the envelope columns) filled with the statement the log uses, so the
 * ratio to it is the runtime's own overhead.
 */
export function rawBatchedInsert(path: string, rows: number, schema: 'bare' | 'event-log'): number {
  let db: Database.Database;
  let run: (n: number) => void;
  if (schema === 'bare') {
    db = openRaw(path);
    const insert = db.prepare(
      'INSERT INTO events (event_type, payload, source, hostname, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    run = (n) =>
      insert.run(
        'GAME_SYNCED',
        JSON.stringify({ pub: 'raw', n, sentAt: Date.now() }),
        'raw',
        'host',
        Date.now() / 1000,
      );
  } else {
    db = openDatabase(path).db;
    const insert = db.prepare(INSERT_EVENT_SQL);
    run = (n) =>
      insert.run(
        'GAME_SYNCED',
        JSON.stringify({ pub: 'raw', n, sentAt: Date.now(), timestamp: Date.now() / 1000 }),
        'raw',
        'host',
        Date.now() / 1000,
        `runtime0000-${n}`,
        'runtime0000',
        process.pid,
        `runtime0000-${n}`,
        null,
        null,
        null,
      );
  }
  const batch = db.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) run(n);
  });
  const started = performance.now();
  for (let n = 0; n < rows; n += 500) batch(n, Math.min(rows, n + 500));
  const rate = rows / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

/** Rows per second read by a cursor poll loop (500 per query) with JSON.parse of each payload. */
export function rawCursorPoll(path: string): number {
  const db = openRaw(path);
  const select = db.prepare(
    'SELECT event_id, event_type, payload FROM events WHERE event_id > ? ORDER BY event_id LIMIT 500',
  );
  let cursor = 0;
  let rows = 0;
  let sink = 0;
  const started = performance.now();
  for (;;) {
    const page = select.all(cursor) as { event_id: number; payload: string }[];
    if (page.length === 0) break;
    for (const r of page) sink += (JSON.parse(r.payload) as { n: number }).n;
    cursor = (page.at(-1) as { event_id: number }).event_id;
    rows += page.length;
  }
  const rate = rows / ((performance.now() - started) / 1000);
  db.close();
  return sink >= 0 ? rate : 0;
}

/** Latencies (ms) of single-row inserts at `rate`/s read by another process polling every 1 ms. */
export async function rawLatency(path: string, count: number, rate: number): Promise<number[]> {
  openRaw(path).close();
  const reader = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./raw-reader.ts', import.meta.url).pathname, path, String(count)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  reader.stdout.on('data', (d) => {
    out += d;
  });
  await new Promise<void>((resolve) => {
    const check = () => (out.includes('READY') ? resolve() : setTimeout(check, 5));
    check();
  });
  const db = openRaw(path);
  const insert = db.prepare(
    'INSERT INTO events (event_type, payload, source, hostname, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const started = performance.now();
  for (let n = 0; n < count; n++) {
    const wait = started + (n * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    insert.run(
      'GAME_SYNCED',
      JSON.stringify({ n, sentAt: hostClockMs() }),
      'raw',
      'h',
      Date.now() / 1000,
    );
  }
  db.close();
  await new Promise((r) => reader.on('exit', r));
  const line = out.split('\n').find((l) => l.startsWith('RESULT ')) ?? 'RESULT []';
  return JSON.parse(line.slice(7)) as number[];
}
