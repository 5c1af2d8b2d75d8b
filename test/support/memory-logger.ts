/** A real pino logger whose records land in an array, so tests can assert what was logged. */
import { pino } from 'pino';
import type { Logger } from '../../src/index.js';

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface MemoryLogger {
  logger: Logger;
  records: LogRecord[];
  /** Records at `level` (pino numbers: 20 debug, 30 info, 40 warn, 50 error) or above. */
  atLeast(level: number): LogRecord[];
}

export function memoryLogger(level = 'debug'): MemoryLogger {
  const records: LogRecord[] = [];
  const logger = pino({ level }, { write: (line: string) => records.push(JSON.parse(line)) });
  return { logger, records, atLeast: (l) => records.filter((r) => r.level >= l) };
}
