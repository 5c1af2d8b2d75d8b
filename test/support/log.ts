/** Event logs on temporary files, a way to write rows as another process would, and cleanup. */
import { pino } from 'pino';
import {
  createRouter,
  type EventLogOptions,
  openEventLog,
  type Router,
  type SqliteEventLog,
} from '../../src/index.js';
import { type MemoryLogger, memoryLogger } from './memory-logger.js';
import { type TempDb, tempDb } from './temp-db.js';

export interface LogFixture {
  readonly tmp: TempDb;
  readonly log: SqliteEventLog;
  readonly logs: MemoryLogger;
  /** Another connection to the same file, standing in for another process's writer. */
  readonly other: SqliteEventLog;
  /** A router on `other`, to publish as "another process". */
  readonly otherRouter: Router;
  close(): Promise<void>;
}

export function logFixture(options: EventLogOptions = {}): LogFixture {
  const tmp = tempDb();
  const logs = memoryLogger();
  const log = openEventLog({ path: tmp.path, logger: logs.logger, ...options });
  const other = openEventLog({ path: tmp.path, logger: pino({ level: 'silent' }) });
  const otherRouter = createRouter({
    name: 'other',
    logger: pino({ level: 'silent' }),
    eventLog: other,
  });
  return {
    tmp,
    log,
    logs,
    other,
    otherRouter,
    async close() {
      await otherRouter.close();
      await log.close();
      tmp.cleanup();
    },
  };
}

/** Inserts a row with exactly the original's column list, as the Python service does. */
export function insertLikePython(
  log: SqliteEventLog,
  row: {
    event_type: string;
    payload: string;
    source?: string;
    hostname?: string;
    created_at?: number;
  },
): number {
  const info = log.db.db
    .prepare(
      'INSERT INTO events (event_type, payload, source, hostname, created_at) VALUES (?, ?, ?, ?, ?)',
    )
    .run(
      row.event_type,
      row.payload,
      row.source ?? 'python',
      row.hostname ?? 'gpu-1',
      row.created_at ?? Date.now() / 1000,
    );
  log.noteLocalCommit();
  return Number(info.lastInsertRowid);
}

export const until = async (check: () => boolean, timeoutMs = 5_000, what = 'condition') => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
