/**
 * One pino logger per runtime; components log through `logger.child({ component })`.
 * `RINGRIFT_LOG_LEVEL` sets the level (default `info`); output is pretty on a TTY and JSON lines
 * otherwise, so that a pipe or a log collector gets machine-readable records.
 */
import { type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import { InvalidOptionError } from '../errors.js';

export type { Logger };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface LoggerSettings {
  readonly level?: LogLevel;
  /** Default: pretty when stderr is a TTY. */
  readonly pretty?: boolean;
  readonly name?: string;
}

/** Reads and checks `RINGRIFT_LOG_LEVEL`; accepts any case (`DEBUG` as in the original's docs). */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = env.RINGRIFT_LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  const level = raw.toLowerCase() === 'warning' ? 'warn' : raw.toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new InvalidOptionError('RINGRIFT_LOG_LEVEL', `one of ${LEVELS.join(', ')}`, raw);
  }
  return level as LogLevel;
}

/** True when `RINGRIFT_EVENT_TRACE` asks for a debug line per publish and per delivery. */
export function eventTraceFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env.RINGRIFT_EVENT_TRACE?.toLowerCase();
  return raw === 'true' || raw === '1' || raw === 'yes';
}

/**
 * @example
 * const logger = createLogger({ level: 'debug' });
 * logger.child({ component: 'router' }).info('ready');
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? 'ringrift-coord',
    level: settings.level ?? logLevelFromEnv(),
  };
  const usePretty = settings.pretty ?? process.stderr.isTTY === true;
  if (usePretty) {
    return pino(options, pretty({ sync: true, destination: 2, ignore: 'pid,hostname' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
