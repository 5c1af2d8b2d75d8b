/** A durable daemon reads its subscriptions from the event log with its own cursor. */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, createRuntime, openEventLog } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb;
afterEach(() => tmp?.cleanup());
const silent = pino({ level: 'silent' });

describe('durable daemons', () => {
  it('get the events published while they were down, once, after their restart', async () => {
    tmp = tempDb();
    const runtimeFor = () =>
      createRuntime({
        profile: ['WATCHER'],
        daemons: [testDaemon('WATCHER', { durable: true, subscribes: ['HOST_ONLINE'] })],
        dbPath: tmp.path,
        runtimeId: 'node-7',
        logger: silent,
      });
    const handled = (r: ReturnType<typeof runtimeFor>) =>
      (r.supervisor.getDaemonSnapshot('WATCHER')?.context as { handled: number } | undefined)
        ?.handled ?? -1;
    const other = createRouter({
      name: 'other',
      logger: silent,
      eventLog: openEventLog({ path: tmp.path, logger: silent }),
    });

    const first = runtimeFor();
    await first.start();
    await until(() => first.status().daemons[0]?.ready === true);
    other.publish('HOST_ONLINE', { host: 'while-up' });
    await until(() => handled(first) === 1);
    await first.stop();

    for (const host of ['down-1', 'down-2']) other.publish('HOST_ONLINE', { host });
    await other.flush();

    const second = runtimeFor();
    const offline: string[] = [];
    second.router.subscribe('HOST_OFFLINE', (e) => void offline.push(e.payload.host));
    await second.start();
    await until(() => handled(second) === 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(handled(second)).toBe(3);
    await until(() => offline.length === 2);
    expect(offline).toEqual(['down-1', 'down-2']);
    await second.stop();
    await other.close();
  });

  it('refuses a durable daemon that subscribes to an event that never reaches the log', () => {
    expect(() =>
      createRuntime({
        profile: ['LOCAL'],
        daemons: [testDaemon('LOCAL', { durable: true, subscribes: ['TRAINING_PROGRESS'] })],
        dbPath: false,
        logger: silent,
      }),
    ).toThrow(
      "daemon 'LOCAL': is durable but subscribes to TRAINING_PROGRESS, which never reach the event log (not cross-process)",
    );
  });
});

describe('runtime retention', () => {
  it('runs retention on the event log on its schedule', async () => {
    tmp = tempDb();
    const log = openEventLog({ path: tmp.path, logger: silent });
    log.db.db
      .prepare(
        'INSERT INTO events (event_type, payload, source, hostname, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run('HOST_ONLINE', '{"host":"old"}', 'python', 'h', Date.now() / 1000 - 48 * 3600);
    await log.close();
    const runtime = createRuntime({
      profile: ['A'],
      daemons: [testDaemon('A')],
      dbPath: tmp.path,
      logger: silent,
      retention: { intervalMs: 20 },
    });
    await runtime.start();
    await until(
      () =>
        (runtime.eventLog?.db.db
          .prepare("SELECT COUNT(*) FROM events WHERE payload LIKE '%old%'")
          .pluck()
          .get() as number) === 0,
    );
    await runtime.stop();
  });
});
