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
import { CoordinationError, EventLogError, SchemaTooNewError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export interface OpenDatabaseOptions {
  /** Open an existing file for reading only (introspection from another process). */
  readonly readonly?: boolean;
  /** How long `write()` keeps retrying a locked database before failing; 60 s. */
  readonly writeTimeoutMs?: number;
}

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

  constructor(path: string, options: OpenDatabaseOptions = {}) {
    this.path = path;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 60_000;
    if (options.readonly) {
      this.db = openOrExplain(
        path,
        () => new Database(path, { readonly: true, fileMustExist: true }),
      );
      this.db.pragma('busy_timeout = 0');
      return;
    }
    prepareFile(path);
    this.db = openOrExplain(path, () => new Database(path));
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 0');
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
    mkdirSync(dir, { recursive: true, mode: 0o700 });
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
        : code === 'SQLITE_CANTOPEN'
          ? 'the file cannot be opened'
          : `cannot open: ${(error as Error).message}`;
    throw new EventLogError(path, reason, { cause: error });
  }
}
