/**
 * Opening the per-host SQLite file: directory and file permissions, WAL, migrations, and the one
 * way this package writes to it.
 *
 * better-sqlite3 is synchronous, so a connection that waits for another process's write lock
 * blocks its whole event loop (lesson 9: the original waited up to 60 s). Here `busy_timeout` is
 * 0 and every write runs through `write()`: a `BEGIN IMMEDIATE` transaction that, when the lock is
 * taken, gives up at once and is retried later from a timer. The event loop only ever runs this
 * process's own short transactions.
 */
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
} from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../actors/logger.js';
import { CoordinationError, EventLogError, SchemaTooNewError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { isCorruption, retryDelay, StorageMonitor } from './storage-health.js';

export interface OpenDatabaseOptions {
  /** Open an existing file for reading only (introspection from another process). */
  readonly readonly?: boolean;
  /** How long `write()` keeps retrying a locked database before failing; 60 s. */
  readonly writeTimeoutMs?: number;
  /**
   * The largest the file may grow, in bytes (SQLite's `max_page_count`); unbounded by default.
   * Past it writes fail with SQLITE_FULL, which the runtime treats as a full disk.
   */
  readonly maxBytes?: number;
  /** Where degraded and fatal storage states are logged. */
  readonly logger?: Logger;
}

/** Set when `persist()` gave up because its caller no longer wants the write. */
export const CANCELLED = Symbol('cancelled');

const BUSY_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_RECOVERY',
  'SQLITE_LOCKED',
]);

/** True for SQLite's "someone else holds the lock" errors, which a later retry can get past. */
export function isBusy(error: unknown): boolean {
  return BUSY_CODES.has((error as { code?: string } | null)?.code ?? '');
}

export class SqliteDatabase {
  readonly path: string;
  readonly db: Database.Database;
  private readonly writeTimeoutMs: number;
  private closed = false;
  /** Writes that found the database locked and were retried (for introspection). */
  busyRetries = 0;
  /** Degraded and fatal states of this file, shared by every writer of this process. */
  readonly monitor: StorageMonitor;
  /** `max_page_count` for every connection to the file, when `maxBytes` is set. */
  readonly maxPageCount: number | undefined;

  constructor(path: string, options: OpenDatabaseOptions = {}) {
    this.path = path;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 60_000;
    this.monitor = new StorageMonitor(path, options.logger?.child({ component: 'storage' }));
    this.maxPageCount = undefined;
    if (options.readonly) {
      this.db = openOrExplain(
        path,
        () => new Database(path, { readonly: true, fileMustExist: true }),
      );
      this.db.pragma('busy_timeout = 0');
      try {
        checkIntegrity(path, this.db);
      } catch (error) {
        this.db.close();
        throw error;
      }
      return;
    }
    prepareFile(path);
    this.db = openOrExplain(path, () => new Database(path));
    try {
      checkIntegrity(path, this.db);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 0');
      if (options.maxBytes !== undefined) {
        const pageSize = this.db.pragma('page_size', { simple: true }) as number;
        this.maxPageCount = Math.max(2, Math.floor(options.maxBytes / pageSize));
        this.db.pragma(`max_page_count = ${this.maxPageCount}`);
      }
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
      }
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /**
   * Runs `fn` in an IMMEDIATE transaction without ever waiting on another process's lock:
   * when the database is locked it retries from a timer, with jittered backoff, for up to
   * `writeTimeoutMs`. IMMEDIATE because a deferred transaction that reads then writes fails with
   * SQLITE_BUSY_SNAPSHOT when another connection committed in between.
   * @throws {EventLogError} when the write fails for another reason or the lock never frees.
   */
  async write<T>(what: string, fn: (db: Database.Database) => T): Promise<T> {
    const started = Date.now();
    let delay = 1;
    for (;;) {
      const attempt = this.tryWrite(what, fn);
      if (attempt.ok) return attempt.value;
      if (Date.now() - started > this.writeTimeoutMs) {
        throw new EventLogError(
          this.path,
          `${what}: the database stayed locked for ${this.writeTimeoutMs} ms`,
          {
            code: 'SQLITE_BUSY',
          },
        );
      }
      this.busyRetries++;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 50);
    }
  }

  /** One attempt of `write()`: `{ ok: false }` when the database is locked right now. */
  tryWrite<T>(
    what: string,
    fn: (db: Database.Database) => T,
  ): { ok: true; value: T } | { ok: false } {
    if (this.closed) throw new EventLogError(this.path, `${what}: the database is closed`);
    try {
      return { ok: true, value: this.db.transaction(fn).immediate(this.db) };
    } catch (error) {
      if (isBusy(error)) return { ok: false };
      // This package's own errors (raised by `fn` on purpose) pass through unchanged.
      if (error instanceof CoordinationError) throw error;
      throw new EventLogError(this.path, `${what} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * `write()` for a background writer that must not give up: while the file refuses writes
   * (locked, full, an I/O error) it retries with backoff and reports a degraded state to
   * `monitor` under `writer`; once through, it reports recovery. Corruption is fatal (reported,
   * then thrown). Resolves with CANCELLED, writing nothing, once `cancelled()` says so.
   * @throws {EventLogError} when the file is damaged or closed.
   */
  async persist<T>(
    writer: string,
    what: string,
    fn: (db: Database.Database) => T,
    cancelled: () => boolean = () => false,
  ): Promise<T | typeof CANCELLED> {
    let busySince: number | null = null;
    for (let attempt = 0; ; attempt++) {
      if (cancelled()) return CANCELLED;
      if (this.monitor.failure) throw this.monitor.failure;
      let problem: unknown = null;
      try {
        const result = this.tryWrite(what, fn);
        if (result.ok) {
          this.monitor.recovered(writer);
          return result.value;
        }
        this.busyRetries++;
        busySince ??= Date.now();
        // A lock held for a moment is normal on a shared file; for a second, it is worth saying.
        if (Date.now() - busySince > 1_000)
          problem = new EventLogError(
            this.path,
            `${what}: the database is locked by another connection`,
            {
              code: 'SQLITE_BUSY',
            },
          );
      } catch (error) {
        if (!(error instanceof EventLogError) || this.closed) throw error;
        if (isCorruption(error)) throw this.monitor.fatal(error);
        problem = error;
      }
      if (problem) this.monitor.report(writer, problem);
      await new Promise((resolve) => setTimeout(resolve, problem ? retryDelay(attempt) : 5));
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private migrate(): void {
    const found = this.db.pragma('user_version', { simple: true }) as number;
    if (found > SCHEMA_VERSION) throw new SchemaTooNewError(this.path, found, SCHEMA_VERSION);
    if (found === SCHEMA_VERSION) return;
    // Migrations may be run by two processes opening a new file at once: IMMEDIATE serialises
    // them, and the version is read again inside the transaction. This is the one place that
    // waits for a lock, once, at open, before the process does any work.
    this.db.pragma('busy_timeout = 10000');
    try {
      this.db
        .transaction(() => {
          const current = this.db.pragma('user_version', { simple: true }) as number;
          for (const migration of MIGRATIONS) {
            if (migration.version > current) {
              migration.up(this.db);
              this.db.pragma(`user_version = ${migration.version}`);
            }
          }
        })
        .immediate();
    } finally {
      this.db.pragma('busy_timeout = 0');
    }
  }
}

/**
 * Opens (creating when needed) the database at `path`.
 * @throws {EventLogError} naming the path and the cause: directory not creatable or not
 *   writable, file not a database; {SchemaTooNewError} when written by a newer version.
 * @example
 * const db = openDatabase('/run/user/1000/ringrift_coordination/events.db');
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  return new SqliteDatabase(path, options);
}

function prepareFile(path: string): void {
  const dir = dirname(path);
  try {
    makeDirectories(dir);
  } catch (error) {
    throw new EventLogError(path, `cannot create directory '${dir}'`, { cause: error });
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new EventLogError(path, `directory '${dir}' is not writable`, { cause: error });
  }
  if (!existsSync(path)) {
    try {
      // Owner-only from the first byte: the file carries every cross-process event.
      closeSync(openSync(path, 'wx', 0o600));
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') {
        throw new EventLogError(path, 'cannot create the database file', { cause: error });
      }
    }
  }
}

/**
 * `PRAGMA quick_check` at open: a damaged file (truncated, partly overwritten) is refused here,
 * naming the file, instead of failing later in the middle of the work. It reads every page once:
 * measured at about 0.16 s for a file of 127 MB (300,000 events) on these machines, page cache warm.
 */
function checkIntegrity(path: string, db: Database.Database): void {
  let result: string[];
  try {
    result = db.pragma('quick_check(5)', { simple: false }) as unknown as string[];
  } catch (error) {
    throw new EventLogError(path, `the database file is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const lines = (result as unknown as { quick_check: string }[]).map((r) => r.quick_check);
  if (lines.length === 1 && lines[0] === 'ok') return;
  const first = lines
    .join('; ')
    .split('\n')
    .filter((l) => !l.startsWith('***'))
    .slice(0, 2);
  throw new EventLogError(
    path,
    `the database file is damaged (quick_check: ${first.join('; ')}); restore it from a backup or move it away`,
    { code: 'SQLITE_CORRUPT' },
  );
}

/**
 * `mkdir -p` with mode 0700 at every level it creates. Not `mkdirSync(dir, { recursive: true })`:
 * on Node 20 that loops for ever when a parent refuses the mkdir with ENOENT (any path under
 * /proc), so a `--db` there hung the CLI instead of failing.
 */
function makeDirectories(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirectories(parent);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    // Another process made it meanwhile: that is what was wanted.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function openOrExplain(path: string, open: () => Database.Database): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = open();
    // A non-database file opens fine; the first read is where SQLite notices.
    db.pragma('schema_version');
    return db;
  } catch (error) {
    db?.close();
    const code = (error as { code?: string }).code;
    const reason =
      code === 'SQLITE_NOTADB'
        ? 'the file is not a SQLite database'
        : code?.startsWith('SQLITE_CORRUPT')
          ? `the database file is damaged (${code}); restore it from a backup or move it away`
          : code === 'SQLITE_CANTOPEN'
            ? 'the file cannot be opened'
            : `cannot open: ${(error as Error).message}`;
    throw new EventLogError(path, reason, { cause: error });
  }
}
