/**
 * `ringrift-coord dlq list [--consumer C]` and `dlq replay [--consumer C] [--id N ...]`: the dead
 * letters of the durable consumers, and sending them back to the consumer that gave up on them.
 */
import { InvalidOptionError, listDeadLetters, openEventLog, replayDeadLetters } from '../index.js';

type Out = (line: string) => void;

export async function listLetters(
  dbPath: string,
  consumer: string | undefined,
  all: boolean,
  out: Out,
): Promise<void> {
  const log = openEventLog({ path: dbPath });
  try {
    const letters = listDeadLetters(log, { consumer, includeReplayed: all });
    if (letters.length === 0) out(`no dead letters${consumer ? ` for ${consumer}` : ''}`);
    for (const l of letters) {
      const at = new Date(l.deadAt * 1000).toISOString();
      out(
        `${String(l.id).padStart(5)} ${at} ${l.consumer.padEnd(26)} ${l.eventType.padEnd(28)} attempts ${l.attempts}${l.replayedAt ? ' (replayed)' : ''}  ${l.error}`,
      );
    }
  } finally {
    await log.close();
  }
}

export async function replayLetters(
  dbPath: string,
  consumer: string | undefined,
  ids: readonly number[],
  out: Out,
): Promise<void> {
  if (!consumer && ids.length === 0)
    throw new InvalidOptionError('dlq replay', '--consumer C and/or --id N', 'neither');
  const log = openEventLog({ path: dbPath });
  try {
    const n = await replayDeadLetters(log, ids.length > 0 ? { ids } : { consumer });
    out(`replayed ${n} dead letter${n === 1 ? '' : 's'}${consumer ? ` to ${consumer}` : ''}`);
  } finally {
    await log.close();
  }
}
