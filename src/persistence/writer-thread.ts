/**
 * The thread that commits the outbox. better-sqlite3 is synchronous: on the main thread, a write
 * transaction (and the WAL checkpoint SQLite runs at some commits, with its fsync) holds the event
 * loop for milliseconds, and far longer on a busy machine. On this thread the wait for another
 * process's lock and the checkpoints cost the publisher's event loop nothing: it only turns
 * envelopes into rows and posts them.
 *
 * The worker's code is plain JavaScript passed with `eval`, so it runs the same from TypeScript
 * sources (tests) and from the compiled package; the driver is loaded by absolute path.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { EventLogError } from '../errors.js';
import { LAST_EVENT_ID_SQL, type RowValues } from './row-codec.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
// Blocking here blocks only this thread; SQLite's busy handler waits for the lock.
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
// Checkpoints (and their fsync) run on the checkpoint thread, never between two commits here.
db.pragma('wal_autocheckpoint = 0');
if (workerData.maxPageCount) db.pragma('max_page_count = ' + workerData.maxPageCount);
const insert = db.prepare(workerData.sql);
const lastId = db.prepare(workerData.lastIdSql).pluck();
// Under the write lock: the file's last id before the batch, and the batch's own ids.
const write = db.transaction((rows) => {
  const prev = lastId.get();
  let first = 0;
  let last = 0;
  for (const row of rows) {
    last = Number(insert.run(...row).lastInsertRowid);
    if (first === 0) first = last;
  }
  return { prev, first, last };
});
parentPort.on('message', (message) => {
  if (message.type === 'write') {
    try {
      const ids = write.immediate(message.rows);
      parentPort.postMessage({ type: 'written', seq: message.seq, ...ids });
    } catch (error) {
      parentPort.postMessage({ type: 'failed', seq: message.seq, code: error.code, message: error.message });
    }
  } else if (message.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
  }
});
parentPort.postMessage({ type: 'ready' });
`;

/**
 * Copies the WAL back into the database file every `intervalMs`, on a connection of its own:
 * SQLite's automatic checkpoint would otherwise run inside whichever commit crosses 1,000 pages,
 * stalling that writer (and every event behind it) for the length of an fsync.
 */
const CHECKPOINT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
let failing = false;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    if (failing) parentPort.postMessage({ type: 'checkpoint-ok' });
    failing = false;
  } catch (error) {
    if (typeof error.code !== 'string' || !error.code.startsWith('SQLITE_')) throw error;
    if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED') return;
    // A full disk or an I/O error: the WAL keeps the data; the next interval tries again.
    if (!failing) parentPort.postMessage({ type: 'checkpoint-failed', code: error.code, message: error.message });
    failing = true;
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  process.exit(0);
});
`;

/**
 * What one committed batch is in the file: `prev` is the file's last event id before it (read
 * under the same write lock), `first` to `last` the batch's ids. A reader whose last row is
 * `prev` knows every row up to `last` without reading the file.
 */
export interface CommittedIds {
  readonly prev: number;
  readonly first: number;
  readonly last: number;
}

type Reply =
  | { type: 'ready' }
  | ({ type: 'written'; seq: number } & CommittedIds)
  | { type: 'failed'; seq: number; code?: string; message: string }
  | { type: 'closed' };

export interface WriterThreadOptions {
  readonly path: string;
  readonly sql: string;
  /** How long the thread waits for another process's lock per transaction; 10 s. */
  readonly busyTimeoutMs?: number;
  /** The file's size bound (`max_page_count`), as on the main connection. */
  readonly maxPageCount?: number;
}

export class WriterThread {
  private readonly worker: Worker;
  private readonly checkpointer: Worker;
  private readonly checkpointerExit: Promise<void>;
  private readonly path: string;
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (ids: CommittedIds) => void; reject: (e: Error) => void }
  >();
  private broken: Error | null = null;
  /** Told when checkpoints start failing (`checkpoint-failed`, with SQLite's code) and recover. */
  onCheckpoint: ((message: { type: string; code?: string; message?: string }) => void) | null =
    null;
  private closing: Promise<void> | null = null;

  constructor(options: WriterThreadOptions) {
    this.path = options.path;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path: options.path,
        sql: options.sql,
        lastIdSql: LAST_EVENT_ID_SQL,
        busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
        maxPageCount: options.maxPageCount ?? 0,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      },
    });
    // Only pending writes keep the process alive.
    this.worker.unref();
    this.checkpointer = new Worker(CHECKPOINT_SOURCE, {
      eval: true,
      workerData: {
        path: options.path,
        intervalMs: 250,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      },
    });
    this.checkpointer.unref();
    this.checkpointerExit = new Promise<void>((resolve) =>
      this.checkpointer.once('exit', () => resolve()),
    );
    this.checkpointer.on('message', (message: { type: string; code?: string; message?: string }) =>
      this.onCheckpoint?.(message),
    );
    this.checkpointer.on('error', (error) =>
      this.fail(
        new EventLogError(this.path, `checkpoint thread failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    this.worker.on('message', (reply: Reply) => this.onReply(reply));
    this.worker.on('error', (error) =>
      this.fail(
        new EventLogError(this.path, `writer thread failed: ${error.message}`, { cause: error }),
      ),
    );
    this.worker.on('exit', (code) => {
      if (!this.closing)
        this.fail(new EventLogError(this.path, `writer thread exited (code ${code})`));
    });
  }

  /**
   * Commits the rows in one transaction and says where they are in the file. Rejects with an
   * EventLogError (with SQLite's code).
   */
  write(rows: readonly RowValues[]): Promise<CommittedIds> {
    if (this.broken) return Promise.reject(this.broken);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ type: 'write', seq, rows });
    });
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    // Referenced while closing: an unreferenced worker would let the process exit mid-close.
    this.checkpointer.ref();
    this.checkpointer.postMessage('close');
    const writerDone = new Promise<void>((resolve) => {
      if (this.broken) {
        void this.worker.terminate().then(() => resolve());
        return;
      }
      this.worker.ref();
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 10_000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ type: 'close' });
    });
    this.closing = Promise.all([writerDone, this.checkpointerExit]).then(() => undefined);
    return this.closing;
  }

  private onReply(reply: Reply): void {
    if (reply.type === 'ready') return;
    if (reply.type === 'closed') {
      void this.worker.terminate();
      return;
    }
    const waiter = this.pending.get(reply.seq);
    this.pending.delete(reply.seq);
    if (this.pending.size === 0) this.worker.unref();
    if (!waiter) return;
    if (reply.type === 'written')
      waiter.resolve({ prev: reply.prev, first: reply.first, last: reply.last });
    else
      waiter.reject(
        new EventLogError(this.path, `append events failed: ${reply.message}`, {
          code: reply.code,
        }),
      );
  }

  private fail(error: EventLogError): void {
    this.broken = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
