/** The reader side of `rawLatency`: a bare 1 ms cursor poll. argv: dbPath, count. */
import Database from 'better-sqlite3';
import { hostClockMs } from '../support/measure.js';

const [path, countArg] = process.argv.slice(2) as [string, string];
const db = new Database(path);
db.pragma('busy_timeout = 5000');
const select = db.prepare(
  'SELECT event_id, payload FROM events WHERE event_id > ? ORDER BY event_id LIMIT 500',
);
let cursor =
  (db.prepare('SELECT COALESCE(MAX(event_id), 0) FROM events').pluck().get() as number) ?? 0;
const latencies: number[] = [];
console.log('READY');
while (latencies.length < Number(countArg)) {
  for (const r of select.all(cursor) as { event_id: number; payload: string }[]) {
    latencies.push(hostClockMs() - (JSON.parse(r.payload) as { sentAt: number }).sentAt);
    cursor = r.event_id;
  }
  await new Promise((r) => setTimeout(r, 1));
}
console.log(`RESULT ${JSON.stringify(latencies)}`);
