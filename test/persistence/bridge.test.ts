/** The router <-> event log bridge, with a second connection standing in for another process. */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Envelope, inspectEventLog, type Router } from '../../src/index.js';
import { insertLikePython, type LogFixture, logFixture, until } from '../support/log.js';

let f: LogFixture;
let router: Router;
afterEach(async () => {
  await router?.close();
  await f?.close();
});

function setup(routerOptions: Parameters<typeof createRouter>[0] = {}) {
  f = logFixture();
  router = createRouter({ name: 'here', logger: f.logs.logger, eventLog: f.log, ...routerOptions });
}

describe('router with an event log', () => {
  it('writes cross-process types to the log, and only those', async () => {
    setup();
    router.publish('TRAINING_COMPLETED', { config_key: 'a', success: true, duration: 1 });
    router.publish('TRAINING_PROGRESS', {}); // in-process only
    await router.flush();
    const rows = f.log.db.db
      .prepare('SELECT event_type, payload, source, envelope_id, origin_runtime FROM events')
      .all();
    expect(rows).toEqual([
      {
        event_type: 'TRAINING_COMPLETED',
        payload: expect.stringContaining('"config_key":"a"'),
        source: 'here',
        envelope_id: expect.any(String),
        origin_runtime: router.origin.runtimeId,
      },
    ]);
    // Python readers of the original look for `config`: both spellings are on the wire.
    expect(JSON.parse((rows[0] as { payload: string }).payload).config).toBe('a');
  });

  it("delivers another process's events to local subscribers, never its own back", async () => {
    setup();
    const got: Envelope[] = [];
    router.subscribe('HOST_ONLINE', (e) => void got.push(e));
    router.publish('HOST_ONLINE', { host: 'mine' });
    const theirs = f.otherRouter.publish(
      'HOST_ONLINE',
      { host: 'theirs' },
      { correlationId: 'c-1' },
    );
    await until(() => got.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(got.map((e) => e.payload.host)).toEqual(['mine', 'theirs']);
    expect(got[1]).toMatchObject({
      id: theirs.id,
      source: 'other',
      correlationId: 'c-1',
      traceId: theirs.traceId,
    });
    expect(got[1]?.origin.runtimeId).toBe(f.otherRouter.origin.runtimeId);
    expect(router.getStats().remoteReceived).toBe(1);
  });

  it('skips a corrupt row with an error log, warns once per unknown type, and goes on', async () => {
    setup();
    const got: string[] = [];
    router.subscribe('HOST_ONLINE', (e) => void got.push(e.payload.host as string));
    insertLikePython(f.other, { event_type: 'HOST_ONLINE', payload: 'not json' });
    insertLikePython(f.other, { event_type: 'QUANTUM_TELEPORT_DONE', payload: '{}' });
    insertLikePython(f.other, { event_type: 'QUANTUM_TELEPORT_DONE', payload: '{}' });
    insertLikePython(f.other, { event_type: 'HOST_ONLINE', payload: '{}' }); // fails the schema: no host
    insertLikePython(f.other, { event_type: 'host_online', payload: '{"host":"ok"}' });
    await until(() => got.length === 1);
    expect(got).toEqual(['ok']);
    expect(f.log.getStats().remoteSkipped).toEqual({
      unknownType: 2,
      corruptJson: 1,
      invalidPayload: 1,
    });
    const messages = f.logs.records.map((r) => r.msg);
    expect(messages.filter((m) => m.includes("unknown type 'QUANTUM_TELEPORT_DONE'"))).toHaveLength(
      1,
    );
    expect(
      f.logs.records.filter((r) => r.msg === 'skipping an unreadable event from another process'),
    ).toHaveLength(2);
  });

  it('holds remote events back while a local mailbox is full, and loses none', async () => {
    setup({ mailboxCapacity: 5 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const got: number[] = [];
    router.subscribe('GAME_SYNCED', async (e) => {
      await gate;
      got.push(e.payload.n as number);
    });
    for (let n = 0; n < 40; n++) f.otherRouter.publish('GAME_SYNCED', { n });
    await f.otherRouter.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(router.getStats().subscribers[0]?.depth).toBeLessThanOrEqual(5);
    release();
    await until(() => got.length === 40);
    expect(got).toEqual(Array.from({ length: 40 }, (_, n) => n));
  });

  it('flush() resolves once published events are in the file', async () => {
    setup();
    for (let n = 0; n < 1200; n++) router.publish('GAME_SYNCED', { n });
    await router.flush();
    expect(inspectEventLog(f.tmp.path).events.count).toBe(1200);
    expect(f.log.getStats()).toMatchObject({ appended: 1200, committed: 1200, pending: 0 });
  });

  it('close() writes what is queued before closing the file', async () => {
    setup();
    router.publish('GAME_SYNCED', { n: 1 });
    await router.close();
    expect(f.log.isClosed).toBe(true);
    expect(inspectEventLog(f.tmp.path).events.count).toBe(1);
    router = createRouter({ logger: pino({ level: 'silent' }) });
  });
});
