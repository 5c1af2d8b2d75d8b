import { afterEach, describe, expect, it } from 'vitest';
import {
  inspectEventLog,
  listDeadLetters,
  runRetention,
  subscribeDurable,
} from '../../src/index.js';
import { insertLikePython, type LogFixture, logFixture, until } from '../support/log.js';

let f: LogFixture;
afterEach(() => f?.close());

const HOUR = 3600;
const now = Date.now() / 1000;
const at = (hoursAgo: number) => now - hoursAgo * HOUR;
const ids = () =>
  f.log.db.db.prepare('SELECT event_id FROM events ORDER BY event_id').pluck().all() as number[];

describe('runRetention()', () => {
  it('deletes old rows every consumer acknowledged, and nothing a consumer still needs', async () => {
    f = logFixture();
    const old1 = insertLikePython(f.other, {
      event_type: 'HOST_ONLINE',
      payload: '{"host":"a"}',
      created_at: at(30),
    });
    const old2 = insertLikePython(f.other, {
      event_type: 'HOST_ONLINE',
      payload: '{"host":"b"}',
      created_at: at(30),
    });
    const recent = insertLikePython(f.other, {
      event_type: 'HOST_ONLINE',
      payload: '{"host":"c"}',
      created_at: at(1),
    });
    const got: string[] = [];
    let blockB = true;
    const a = await subscribeDurable(
      f.log,
      'reads-all',
      ['HOST_ONLINE'],
      (e) => void got.push(e.payload.host as string),
      {
        startAt: 'earliest',
      },
    );
    await subscribeDurable(
      f.other,
      'stuck-at-b',
      ['HOST_ONLINE'],
      async (e) => {
        while (blockB && e.payload.host === 'b') await new Promise((r) => setTimeout(r, 5));
      },
      { startAt: 'earliest' },
    );
    await until(
      () =>
        got.length === 3 &&
        inspectEventLog(f.tmp.path).consumers.find((c) => c.name === 'stuck-at-b')?.cursor === old1,
    );
    const report = await runRetention(f.log, { now });
    expect(report).toMatchObject({ deleted: 1, deadLettered: 0, staleConsumers: [] });
    expect(ids()).toEqual([old2, recent]); // b is still needed by stuck-at-b
    blockB = false;
    await until(() => inspectEventLog(f.tmp.path).consumers.every((c) => c.lag === 0));
    await runRetention(f.log, { now });
    expect(ids()).toEqual([recent]); // only rows older than 24 h go
    expect(a.stats().handled).toBe(3);
  });

  it('moves rows unconsumed past the cap to the dead letters of the consumer that needed them', async () => {
    f = logFixture();
    const ancient = insertLikePython(f.other, {
      event_type: 'HOST_ONLINE',
      payload: '{"host":"a"}',
      created_at: at(24 * 8),
    });
    insertLikePython(f.other, {
      event_type: 'DAEMON_STARTED',
      payload: '{}',
      created_at: at(24 * 8),
    });
    await subscribeDurable(f.log, 'blocked', ['HOST_ONLINE'], () => new Promise(() => {}), {
      startAt: 'earliest',
      stopTimeoutMs: 20,
    });
    await until(() => inspectEventLog(f.tmp.path).consumers[0]?.pendingEventId === ancient);
    const report = await runRetention(f.log, { now });
    expect(report).toMatchObject({ deleted: 2, deadLettered: 1 });
    expect(ids()).toEqual([]);
    const [letter] = listDeadLetters(f.log, { consumer: 'blocked' });
    expect(letter).toMatchObject({
      eventId: ancient,
      error: 'retention cap: unconsumed after 168 h',
    });
    expect(
      f.logs.records.some(
        (r) =>
          r.msg === 'unconsumed events reached the retention cap and were moved to dead letters',
      ),
    ).toBe(true);
  });

  it('lets a stale consumer stop holding rows back, and reports it', async () => {
    f = logFixture();
    const sub = await subscribeDurable(f.log, 'gone', ['HOST_ONLINE'], () => {});
    await sub.stop();
    insertLikePython(f.other, {
      event_type: 'HOST_ONLINE',
      payload: '{"host":"a"}',
      created_at: at(30),
    });
    f.log.db.db.prepare('UPDATE consumers SET heartbeat_at = ?, cursor = 0').run(at(2));
    const report = await runRetention(f.log, { now, staleConsumerMs: HOUR * 1000 });
    expect(report).toMatchObject({ deleted: 1, staleConsumers: ['gone'] });
    expect(
      f.logs.records.some((r) => r.msg === 'stale durable consumers no longer hold events back'),
    ).toBe(true);
  });
});
