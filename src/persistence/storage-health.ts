/**
 * How the SQLite file is doing, for everything of one runtime that writes to it (the outbox, the
 * snapshot store, durable consumers, retention).
 *
 * A full disk, a held lock or an I/O error is a degraded state, not a failure: the writer keeps
 * what it was given and retries, and this record says why, since when, and which writers wait.
 * One warn line is logged when an episode starts (with SQLite's code) and one info line when the
 * last waiting writer got through. Corruption is different: retrying cannot repair it, so it is
 * reported once as fatal and whoever owns the runtime stops it cleanly.
 */
import type { Logger } from '../actors/logger.js';
import { EventLogError } from '../errors.js';

export type StorageState = 'ok' | 'degraded' | 'failed';

export interface StorageHealth {
  readonly state: StorageState;
  /** The database file. */
  readonly path: string;
  /** SQLite's code of the newest problem (`SQLITE_FULL`, `SQLITE_BUSY`, `SQLITE_CORRUPT`, ...). */
  readonly code: string | null;
  /** What went wrong, in one line. */
  readonly reason: string | null;
  /** Unix ms when the episode began; null when ok. */
  readonly since: number | null;
  /** The writers that are waiting for the file (e.g. `outbox`, `snapshots`, `consumer FEEDBACK_LOOP`). */
  readonly waiting: readonly string[];
  /** Cross-process events accepted and not yet written. */
  readonly queuedEvents: number;
}

/** SQLite codes that say the file's content is damaged: no retry will get past them. */
const CORRUPT = /^(SQLITE_CORRUPT|SQLITE_NOTADB|SQLITE_IOERR_SHORT_READ)/;

/** True when the error says the database file is damaged (truncated, overwritten, not SQLite). */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CORRUPT.test(code);
}

/** An error raised by SQLite itself (better-sqlite3's SqliteError carries its code). */
export function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** The record shared by the writers of one database file. */
export class StorageMonitor {
  private readonly waiting = new Map<string, { code: string; reason: string }>();
  private since: number | null = null;
  private fatalError: EventLogError | null = null;
  private readonly fatalListeners: ((error: EventLogError) => void)[] = [];
  queuedEvents: () => number = () => 0;

  constructor(
    readonly path: string,
    private readonly logger: Logger | undefined,
  ) {}

  /** A writer could not write; it keeps what it holds and retries. Corruption is fatal instead. */
  report(writer: string, error: unknown): void {
    if (isCorruption(error)) {
      this.fatal(error);
      return;
    }
    const code = errorCode(error);
    const reason = (error as Error)?.message ?? String(error);
    const first = this.waiting.size === 0;
    const known = this.waiting.get(writer);
    this.waiting.set(writer, { code, reason });
    if (first && !known) {
      this.since = Date.now();
      this.logger?.warn(
        { code, writer, queued_events: this.queuedEvents(), database: this.path },
        `the database file does not accept writes (${code}); accepted events stay queued in memory and are written when it does`,
      );
    }
  }

  /** A writer that had reported a problem got its write through. */
  recovered(writer: string): void {
    if (!this.waiting.delete(writer) || this.waiting.size > 0) return;
    const since = this.since ?? Date.now();
    this.since = null;
    this.logger?.info(
      { down_ms: Date.now() - since, database: this.path },
      'the database file accepts writes again; what was queued is written',
    );
  }

  /** The file is damaged: reported once, to every listener. */
  fatal(error: unknown): EventLogError {
    if (this.fatalError) return this.fatalError;
    const code = errorCode(error);
    // One message whatever found it first (a write, a read, quick_check): what and where.
    const detail = ((error as Error)?.message ?? String(error)).replace(/ \(database '.*'\)$/, '');
    this.fatalError = new EventLogError(
      this.path,
      `the event log's file is damaged (${code}: ${detail.replace(/^.*failed: /, '')})`,
      { code, cause: error },
    );
    this.since ??= Date.now();
    this.logger?.error(
      { code, database: this.path, err: this.fatalError },
      'the database file is damaged; the runtime using it stops',
    );
    for (const listener of this.fatalListeners.splice(0)) listener(this.fatalError);
    return this.fatalError;
  }

  get failure(): EventLogError | null {
    return this.fatalError;
  }

  /** Called once if the file turns out to be damaged (at once when it already has). */
  onFatal(listener: (error: EventLogError) => void): void {
    if (this.fatalError) listener(this.fatalError);
    else this.fatalListeners.push(listener);
  }

  health(): StorageHealth {
    const newest = [...this.waiting.values()].at(-1);
    if (this.fatalError)
      return {
        state: 'failed',
        path: this.path,
        code: this.fatalError.code ?? null,
        reason: this.fatalError.message,
        since: this.since,
        waiting: [...this.waiting.keys()],
        queuedEvents: this.queuedEvents(),
      };
    return {
      state: this.waiting.size === 0 ? 'ok' : 'degraded',
      path: this.path,
      code: newest?.code ?? null,
      reason: newest?.reason ?? null,
      since: this.since,
      waiting: [...this.waiting.keys()],
      queuedEvents: this.queuedEvents(),
    };
  }
}

/** Retry delays for a writer waiting on the file: 50 ms doubling to 2 s. */
export function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 2_000);
}
