import { afterEach, describe, expect, it } from 'vitest';
import {
  ConsumerBusyError,
  type Envelope,
  inspectEventLog,
  listDeadLetters,
  replayDeadLetters,
  subscribeDurable,
} from '../../src/index.js';
import { insertLikePython, type LogFixture, logFixture, until } from '../support/log.js';

let f: LogFixture;
afterEach(() => f?.close());

const fast = { backoff: { initialMs: 5, maxMs: 20 } };
const completed = (config_key: string) => ({ config_key, success: true, duration: 1 });

describe('subscribeDurable()', () => {
  it('delivers, in log order, the events written before it started (startAt earliest)', async () => {
    f = logFixture();
    for (const c of ['a', 'b', 'c']) f.otherRouter.publish('TRAINING_COMPLETED', completed(c));
    f.otherRouter.publish('HOST_ONLINE', { host: 'h' }); // another type: not for this consumer
    await f.otherRouter.flush();
    const got: string[] = [];
    const sub = await subscribeDurable(
      f.log,
      'feedback',
      ['TRAINING_COMPLETED'],
      (e) => {
        got.push(e.payload.config_key as string);
      },
      { startAt: 'earliest' },
    );
    await until(() => got.length === 3);
    expect(got).toEqual(['a', 'b', 'c']);
    f.otherRouter.publish('TRAINING_COMPLETED', completed('d'));
    await until(() => got.length === 4);
    expect(sub.stats()).toMatchObject({ handled: 4, deadLettered: 0 });
  });

  it('starts after the existing events with startAt latest (the default), or at a time', async () => {
    f = logFixture();
    f.otherRouter.publish('TRAINING_COMPLETED', completed('old'));
    await f.otherRouter.flush();
    const latest: string[] = [];
    await subscribeDurable(
      f.log,
      'latest',
      ['TRAINING_COMPLETED'],
      (e) => void latest.push(e.payload.config_key as string),
    );
    const cutoff = Date.now() / 1000 + 0.001;
    await new Promise((r) => setTimeout(r, 10));
    f.otherRouter.publish('TRAINING_COMPLETED', completed('new'));
    await f.otherRouter.flush();
    const timed: string[] = [];
    await subscribeDurable(
      f.log,
      'timed',
      ['TRAINING_COMPLETED'],
      (e) => void timed.push(e.payload.config_key as string),
      {
        startAt: cutoff,
      },
    );
    await until(() => latest.length === 1 && timed.length === 1);
    expect(latest).toEqual(['new']);
    expect(timed).toEqual(['new']);
  });

  it('keeps its cursor across restarts: events written while stopped arrive, handled ones do not', async () => {
    f = logFixture();
    const got: string[] = [];
    const handler = (e: Envelope) => void got.push(e.payload.config_key as string);
    const first = await subscribeDurable(f.log, 'c', ['TRAINING_COMPLETED'], handler);
    f.otherRouter.publish('TRAINING_COMPLETED', completed('1'));
    await until(() => got.length === 1);
    await first.stop();
    f.otherRouter.publish('TRAINING_COMPLETED', completed('2'));
    await f.otherRouter.flush();
    await subscribeDurable(f.log, 'c', ['TRAINING_COMPLETED'], handler, { startAt: 'latest' });
    await until(() => got.length === 2);
    expect(got).toEqual(['1', '2']);
  });

  it('retries a failing handler with backoff, then dead-letters the event and moves on', async () => {
    f = logFixture();
    const attempts: number[] = [];
    const handled: string[] = [];
    const sub = await subscribeDurable(
      f.log,
      'promotion',
      ['EVALUATION_COMPLETED'],
      (e, info) => {
        if (e.payload.config_key === 'poison') {
          attempts.push(info.attempt);
          throw new Error('cannot decide');
        }
        handled.push(e.payload.config_key as string);
      },
      { ...fast, maxAttempts: 4 },
    );
    const evaluation = (config_key: string) => ({
      config_key,
      elo: 1,
      games_played: 1,
      win_rate: 0.5,
    });
    f.otherRouter.publish('EVALUATION_COMPLETED', evaluation('before'));
    const poison = f.otherRouter.publish('EVALUATION_COMPLETED', evaluation('poison'));
    f.otherRouter.publish('EVALUATION_COMPLETED', evaluation('after'));
    await until(() => handled.length === 2);
    expect(handled).toEqual(['before', 'after']);
    expect(attempts).toEqual([1, 2, 3, 4]);
    const [letter] = listDeadLetters(f.log, { consumer: 'promotion' });
    expect(letter).toMatchObject({
      envelopeId: poison.id,
      attempts: 4,
      error: 'Error: cannot decide',
      eventType: 'EVALUATION_COMPLETED',
    });
    expect(sub.stats()).toMatchObject({ deadLettered: 1, failedAttempts: 4, handled: 2 });
    expect(
      f.logs.records.some(
        (r) => r.msg === 'event dead-lettered after 4 attempts; the consumer moves on',
      ),
    ).toBe(true);
  });

  it('replays a dead letter to the consumer that gave up on it, and only to it', async () => {
    f = logFixture();
    let fixed = false;
    const got: string[] = [];
    const bystander: string[] = [];
    await subscribeDurable(
      f.log,
      'flaky',
      ['HOST_ONLINE'],
      (e) => {
        if (!fixed) throw new Error('not yet');
        got.push(e.payload.host as string);
      },
      { ...fast, maxAttempts: 2 },
    );
    await subscribeDurable(
      f.log,
      'bystander',
      ['HOST_ONLINE'],
      (e) => void bystander.push(e.payload.host as string),
    );
    f.otherRouter.publish('HOST_ONLINE', { host: 'h1' });
    await until(() => listDeadLetters(f.log).length === 1 && bystander.length === 1);
    fixed = true;
    expect(await replayDeadLetters(f.log, { consumer: 'flaky' })).toBe(1);
    await until(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['h1']);
    expect(bystander).toEqual(['h1']);
    expect(listDeadLetters(f.log)).toEqual([]);
    expect(listDeadLetters(f.log, { includeReplayed: true })[0]?.replayedAt).toBeTypeOf('number');
    await expect(replayDeadLetters(f.log, { ids: [99] })).rejects.toThrow(
      'dead letter 99 does not exist',
    );
  });

  it('skips an event it already handled when the cursor is moved back (inbox)', async () => {
    f = logFixture();
    const got: string[] = [];
    const handler = (e: Envelope) => void got.push(e.payload.host as string);
    const sub = await subscribeDurable(f.log, 'inbox', ['HOST_ONLINE'], handler);
    f.otherRouter.publish('HOST_ONLINE', { host: 'h1' });
    await until(() => got.length === 1);
    await sub.stop();
    f.log.db.db.prepare('UPDATE consumers SET cursor = 0 WHERE name = ?').run('inbox'); // an operator rewinds
    const again = await subscribeDurable(f.log, 'inbox', ['HOST_ONLINE'], handler);
    f.otherRouter.publish('HOST_ONLINE', { host: 'h2' });
    await until(() => got.length === 2);
    expect(got).toEqual(['h1', 'h2']);
    expect(again.stats().duplicatesSkipped).toBe(1);
  });

  it('dead-letters a row with corrupt JSON at once and keeps going', async () => {
    f = logFixture();
    const got: string[] = [];
    const sub = await subscribeDurable(
      f.log,
      'c',
      ['HOST_ONLINE'],
      (e) => void got.push(e.payload.host as string),
    );
    insertLikePython(f.other, { event_type: 'HOST_ONLINE', payload: '{"host": "h1"' });
    f.otherRouter.publish('HOST_ONLINE', { host: 'h2' });
    await until(() => got.length === 1);
    expect(got).toEqual(['h2']);
    expect(listDeadLetters(f.log)[0]?.error).toMatch(/^corrupt-json: payload is not JSON/);
    expect(sub.stats().deadLettered).toBe(1);
    expect(
      f.logs.records.some(
        (r) => r.msg === 'unreadable event dead-lettered' && r.reason === 'corrupt-json',
      ),
    ).toBe(true);
  });

  it('accepts rows written by Python: enum value or upper-case name, `config`, no envelope id', async () => {
    f = logFixture();
    const got: Envelope[] = [];
    await subscribeDurable(f.log, 'py', ['TRAINING_COMPLETED'], (e) => void got.push(e));
    const payload = JSON.stringify({
      config: 'hex8_2p',
      success: true,
      duration: 3.5,
      model_path: 'm.pth',
    });
    const id1 = insertLikePython(f.other, { event_type: 'training_completed', payload });
    insertLikePython(f.other, { event_type: 'TRAINING_COMPLETED', payload });
    insertLikePython(f.other, { event_type: 'training_complete', payload }); // a stage alias
    await until(() => got.length === 3);
    expect(got[0]).toMatchObject({
      id: `row-${id1}`,
      type: 'TRAINING_COMPLETED',
      source: 'python',
    });
    expect(got.map((e) => e.payload.config_key)).toEqual(['hex8_2p', 'hex8_2p', 'hex8_2p']);
    expect(got[0]?.payload).not.toHaveProperty('config');
  });

  it('refuses a second live instance of the same consumer', async () => {
    f = logFixture();
    await subscribeDurable(f.log, 'solo', ['HOST_ONLINE'], () => {});
    await expect(subscribeDurable(f.other, 'solo', ['HOST_ONLINE'], () => {})).rejects.toThrow(
      ConsumerBusyError,
    );
  });

  it('is visible to introspection from another connection: cursor, lag, dead letters', async () => {
    f = logFixture();
    let block = true;
    await subscribeDurable(f.log, 'slow', ['HOST_ONLINE'], async () => {
      while (block) await new Promise((r) => setTimeout(r, 5));
    });
    for (let i = 0; i < 3; i++) f.otherRouter.publish('HOST_ONLINE', { host: `h${i}` });
    await f.otherRouter.flush();
    await until(() => inspectEventLog(f.tmp.path).consumers[0]?.pendingEventId !== null);
    const status = inspectEventLog(f.tmp.path);
    expect(status.consumers[0]).toMatchObject({
      name: 'slow',
      lag: 3,
      pendingAttempts: 1,
      handled: 0,
    });
    expect(status.events.count).toBe(3);
    block = false;
    await until(() => inspectEventLog(f.tmp.path).consumers[0]?.lag === 0);
  });
});
