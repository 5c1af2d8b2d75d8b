/** kill -9 in the middle of things: nothing acknowledged is lost, nothing is handled twice. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, inspectEventLog, openEventLog } from '../../src/index.js';
import { eventually } from '../cluster/support.js';
import { type Fixture, startFixture } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb;
let fixtures: Fixture[] = [];
afterEach(() => {
  for (const p of fixtures) p.child.kill('SIGKILL');
  fixtures = [];
  tmp?.cleanup();
});
const start = (...args: Parameters<typeof startFixture>) => {
  const fixture = startFixture(...args);
  fixtures.push(fixture);
  return fixture;
};

describe('crashes', () => {
  it('a consumer killed in the middle of a handler gets the event again after restart, handled once', async () => {
    tmp = tempDb();
    const record = join(tmp.dir, 'record.txt');
    writeFileSync(record, '');
    const router = createRouter({
      logger: pino({ level: 'silent' }),
      eventLog: openEventLog({ path: tmp.path }),
    });
    for (const host of ['h1', 'h2', 'h3', 'h4', 'h5']) router.publish('HOST_ONLINE', { host });
    await router.close();

    const first = start('durable-consumer-process', [tmp.path, 'watcher', record], {
      CRASH_ON: 'h3',
    });
    await first.waitFor(/^IN_HANDLER h3$/);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = start('durable-consumer-process', [tmp.path, 'watcher', record]);
    await second.waitFor(/^HANDLED h5$/);
    const lines = readFileSync(record, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('done'))).toEqual([
      'done h1',
      'done h2',
      'done h3',
      'done h4',
      'done h5',
    ]);
    // The crash counted as attempt 1; the redelivery was attempt 2.
    expect(lines.filter((l) => l.startsWith('begin h3'))).toEqual(['begin h3 1', 'begin h3 2']);
    // HANDLED is printed inside the handler, before its acknowledgement commits: wait for that.
    const status = await eventually(
      () => {
        const c = inspectEventLog(tmp.path).consumers[0];
        return c?.handled === 5 ? c : undefined;
      },
      10_000,
      "the last event's acknowledgement",
    );
    expect(status).toMatchObject({ name: 'watcher', lag: 0, handled: 5 });
  });

  it('a publisher killed after flush() resolved has every flushed event in the log', async () => {
    tmp = tempDb();
    const publisher = start('publisher-process', [tmp.path, '2000']);
    await publisher.waitFor(/^FLUSHED$/);
    publisher.child.kill('SIGKILL');
    expect(await publisher.exited).toBe('SIGKILL');
    const db = new Database(tmp.path, { readonly: true });
    const flushed = db
      .prepare(
        "SELECT json_extract(payload, '$.n') AS n FROM events WHERE json_extract(payload, '$.phase') = 'flushed' ORDER BY event_id",
      )
      .pluck()
      .all();
    db.close();
    expect(flushed).toEqual(Array.from({ length: 2000 }, (_, n) => n));
  });
});
