/** kill -9 a process running the runtime; started again, its daemons resume from their snapshots. */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, openEventLog, SnapshotStore } from '../../src/index.js';
import { until } from '../support/log.js';
import { type Fixture, startFixture } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb;
const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.child.kill('SIGKILL');
  tmp?.cleanup();
});

describe('crash and restore', () => {
  it('resumes a daemon from its snapshot after kill -9', async () => {
    tmp = tempDb();
    const first = startFixture('runtime-process', [tmp.path]);
    fixtures.push(first);
    expect(await first.waitFor(/^READY /)).toBe('READY 0');
    // Another process publishes through the shared file.
    const log = openEventLog({ path: tmp.path, logger: pino({ level: 'silent' }) });
    const publisher = createRouter({
      name: 'publisher',
      logger: pino({ level: 'silent' }),
      eventLog: log,
    });
    for (const host of ['a', 'b', 'c']) publisher.publish('HOST_ONLINE', { host });
    await publisher.flush();
    await first.waitFor(/^HANDLED 3$/);
    const store = new SnapshotStore(log);
    await until(
      () =>
        (
          store.loadSnapshot('node-1', 'COUNTER', '1') as
            | { snapshot?: { context?: { handled?: number } } }
            | undefined
        )?.snapshot?.context?.handled === 3,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = startFixture('runtime-process', [tmp.path]);
    fixtures.push(second);
    expect(await second.waitFor(/^READY /)).toBe('READY 3');
    publisher.publish('HOST_ONLINE', { host: 'd' });
    await second.waitFor(/^HANDLED 4$/);
    await publisher.close();
  });
});
