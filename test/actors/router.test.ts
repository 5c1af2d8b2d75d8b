import { afterEach, describe, expect, it } from 'vitest';
import {
  type Envelope,
  EventValidationError,
  HandlerTimeoutError,
  InvalidOptionError,
  MailboxFullError,
  PayloadTooLargeError,
  type Router,
  RouterClosedError,
  UnknownEventTypeError,
  WaitTimeoutError,
} from '../../src/index.js';
import { testRouter, tick, trainingCompleted } from '../support/router.js';

let router: Router;
let log: ReturnType<typeof testRouter>['log'];
const open: Router[] = [];
function fresh(options = {}) {
  ({ router, log } = testRouter(options));
  open.push(router);
  return router;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

describe('router.publish()', () => {
  it('delivers each event once per subscriber, in publish order', async () => {
    fresh();
    const a: number[] = [];
    const b: number[] = [];
    router.subscribe('TRAINING_PROGRESS', (e) => void a.push(e.payload.n as number));
    router.subscribe('TRAINING_PROGRESS', async (e) => {
      await tick(Math.random() * 2);
      b.push(e.payload.n as number);
    });
    for (let n = 0; n < 50; n++) router.publish('TRAINING_PROGRESS', { n });
    await router.whenIdle();
    const expected = Array.from({ length: 50 }, (_, n) => n);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
  });

  it('returns a stamped envelope', () => {
    fresh({ name: 'pub' });
    const e = router.publish('TRAINING_COMPLETED', trainingCompleted(), { source: 'trainer' });
    expect(e.type).toBe('TRAINING_COMPLETED');
    expect(e.source).toBe('trainer');
    expect(e.id).toMatch(new RegExp(`^${e.origin.runtimeId}\\.[0-9a-z]+-1$`));
    expect(e.traceId).toBe(e.id);
    expect(e.parentId).toBeNull();
    expect(e.origin.pid).toBe(process.pid);
    expect(e.payload.timestamp).toBe(e.timestamp);
    expect(Object.isFrozen(e)).toBe(true);
    expect(router.publish('TRAINING_PROGRESS', {}).source).toBe('pub');
  });

  it('carries causality from `causedBy`', () => {
    fresh();
    const first = router.publish('TRAINING_COMPLETED', trainingCompleted(), {
      correlationId: 'run-7',
    });
    const second = router.publish(
      'EVALUATION_STARTED',
      { config_key: 'hex8_2p', model_id: 'm1' },
      { causedBy: first },
    );
    expect(second.parentId).toBe(first.id);
    expect(second.traceId).toBe(first.id);
    expect(second.correlationId).toBe('run-7');
  });

  it('calls handlers of one event in registration order', async () => {
    fresh();
    const calls: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      router.subscribe('HOST_ONLINE', () => void calls.push(name));
    }
    router.publish('HOST_ONLINE', { host: 'h1' });
    router.publish('HOST_ONLINE', { host: 'h2' });
    await router.whenIdle();
    expect(calls).toEqual(['first', 'second', 'third', 'first', 'second', 'third']);
  });

  it("delivers every event to a '*' subscriber, once", async () => {
    fresh();
    const seen: string[] = [];
    router.subscribe('*', (e) => void seen.push(e.type));
    router.subscribe('HOST_ONLINE', () => {});
    router.publish('HOST_ONLINE', { host: 'h1' });
    router.publish('TRAINING_PROGRESS', {});
    await router.whenIdle();
    expect(seen).toEqual(['HOST_ONLINE', 'TRAINING_PROGRESS']);
  });

  it('isolates a throwing sync handler and a rejecting async handler, logging the event id', async () => {
    fresh();
    const got: string[] = [];
    router.subscribe('HOST_ONLINE', function throwsSync() {
      throw new Error('sync boom');
    });
    router.subscribe('HOST_ONLINE', async function rejects() {
      throw new Error('async boom');
    });
    router.subscribe('HOST_ONLINE', (e) => void got.push(e.payload.host));
    const e1 = router.publish('HOST_ONLINE', { host: 'h1' });
    router.publish('HOST_ONLINE', { host: 'h2' });
    await router.whenIdle();
    expect(got).toEqual(['h1', 'h2']);
    const stats = router.getStats();
    expect(stats.handlerErrors).toBe(4);
    expect(stats.deliveries).toBe(2);
    const errors = log.atLeast(50);
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatchObject({
      event_id: e1.id,
      subscriber: 'throwsSync',
      msg: 'handler failed',
    });
    expect(errors.some((r) => r.subscriber === 'rejects' && r.event_id === e1.id)).toBe(true);
  });

  it('lets a slow handler delay only its own mailbox', async () => {
    fresh();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const fast: number[] = [];
    router.subscribe('TRAINING_PROGRESS', () => gate, { name: 'slow' });
    router.subscribe('TRAINING_PROGRESS', (e) => void fast.push(e.payload.n as number));
    for (let n = 0; n < 5; n++) router.publish('TRAINING_PROGRESS', { n });
    await tick(5);
    expect(fast).toEqual([0, 1, 2, 3, 4]);
    const slow = router.getStats().subscribers.find((s) => s.name === 'slow');
    expect(slow?.depth).toBe(5);
    release();
    await router.whenIdle();
    expect(router.getStats().subscribers.find((s) => s.name === 'slow')?.delivered).toBe(5);
  });

  it('times a hung handler out, logs and counts it, and moves its mailbox on', async () => {
    fresh({ handlerTimeoutMs: 40 });
    const handled: number[] = [];
    router.subscribe(
      'TRAINING_PROGRESS',
      (e) => {
        if (e.payload.n === 0) return new Promise(() => {}); // never settles
        handled.push(e.payload.n as number);
      },
      { name: 'hangs-once' },
    );
    const e0 = router.publish('TRAINING_PROGRESS', { n: 0 });
    router.publish('TRAINING_PROGRESS', { n: 1 });
    await router.whenIdle();
    expect(handled).toEqual([1]);
    expect(router.getStats().handlerTimeouts).toBe(1);
    const record = log.records.find((r) => r.msg === 'handler timed out; its mailbox moves on');
    expect(record).toMatchObject({ event_id: e0.id, subscriber: 'hangs-once' });
    expect((record?.err as { type?: string } | undefined)?.type).toBe('HandlerTimeoutError');
  });

  it('uses a per-subscription timeout', async () => {
    fresh({ handlerTimeoutMs: 10_000 });
    router.subscribe('TRAINING_PROGRESS', () => new Promise(() => {}), { timeoutMs: 20 });
    const report = await router.publishAndWait('TRAINING_PROGRESS', {});
    expect(report.timedOut).toHaveLength(1);
  });

  it('lets 10 concurrent publishes each reach each subscriber once', async () => {
    fresh();
    const seen = new Map<string, number>();
    for (let s = 0; s < 3; s++) {
      router.subscribe('HOST_ONLINE', async (e) => {
        await tick(1);
        seen.set(`${s}:${e.id}`, (seen.get(`${s}:${e.id}`) ?? 0) + 1);
      });
    }
    const reports = await Promise.all(
      Array.from({ length: 10 }, (_, i) => router.publishAndWait('HOST_ONLINE', { host: `h${i}` })),
    );
    expect(reports.every((r) => r.delivered.length === 3)).toBe(true);
    expect(seen.size).toBe(30);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('lets a handler subscribe another handler, which sees only later events', async () => {
    fresh();
    const late: number[] = [];
    router.subscribe('TRAINING_PROGRESS', (e) => {
      if (e.payload.n === 1)
        router.subscribe('TRAINING_PROGRESS', (x) => void late.push(x.payload.n as number));
    });
    for (let n = 0; n < 4; n++) router.publish('TRAINING_PROGRESS', { n });
    await router.whenIdle();
    router.publish('TRAINING_PROGRESS', { n: 4 });
    await router.whenIdle();
    expect(late).toEqual([4]);
  });

  it('treats every alias, the enum name and the wire value as the same key', async () => {
    fresh();
    const got: string[] = [];
    const handler = (e: Envelope) => void got.push(e.type);
    router.subscribe('sync_complete', handler);
    router.subscribe('DATA_SYNC_COMPLETED', handler); // idempotent: same function, same event
    expect(router.getSubscriptionCounts()).toEqual({ DATA_SYNC_COMPLETED: 1 });
    const payload = { host: 'h', games_synced: 1, duration: 1 };
    for (const spelling of [
      'sync_completed',
      'SYNC_COMPLETED',
      'DATA_SYNC_COMPLETED',
      'data_sync_completed',
      'CLUSTER_SYNC_COMPLETE',
    ]) {
      router.publish(spelling, payload);
    }
    await router.whenIdle();
    expect(got).toEqual(Array(5).fill('DATA_SYNC_COMPLETED'));
  });

  it("delivers the legacy 'new_games' value to NEW_GAMES_AVAILABLE subscribers and back", async () => {
    fresh();
    const got: string[] = [];
    router.subscribe('NEW_GAMES_AVAILABLE', (e) => void got.push(`canonical:${e.payload.host}`));
    router.subscribe('new_games', (e) => void got.push(`legacy:${e.payload.host}`));
    router.subscribe('new_games_available', (e) => void got.push(`lower:${e.payload.host}`));
    router.publish('new_games', { host: 'a', new_games: 5, total_games: 9 });
    router.publish('NEW_GAMES_AVAILABLE', { host: 'b', new_games: 5, total_games: 9 });
    await router.whenIdle();
    // Three different handlers, two events: six deliveries, one per (handler, event).
    expect(got.sort()).toEqual([
      'canonical:a',
      'canonical:b',
      'legacy:a',
      'legacy:b',
      'lower:a',
      'lower:b',
    ]);
  });

  it('warns once per deprecated alias per process', () => {
    fresh();
    router.subscribe('training_fail', () => {});
    router.subscribe('training_fail', () => {});
    const warnings = log.records.filter((r) => r.alias === 'training_fail');
    expect(warnings.length).toBeLessThanOrEqual(1);
    const again = fresh();
    again.subscribe('training_fail', () => {});
    expect(log.records.filter((r) => r.alias === 'training_fail')).toHaveLength(0);
  });

  it('rejects bad input with typed errors and delivers nothing', async () => {
    fresh({ maxPayloadBytes: 2048 });
    const got: unknown[] = [];
    router.subscribe('*', (e) => void got.push(e));
    expect(() => router.publish('TRAINING_COMPLETE_X', {})).toThrow(UnknownEventTypeError);
    expect(() => router.publish('TRAINING_COMPLETED', { success: true })).toThrow(
      EventValidationError,
    );
    expect(() => router.publish('TRAINING_PROGRESS', { blob: 'x'.repeat(4096) })).toThrow(
      PayloadTooLargeError,
    );
    await router.whenIdle();
    expect(got).toEqual([]);
    expect(router.getStats().rejected).toEqual({
      unknownType: 1,
      invalidPayload: 1,
      tooLarge: 1,
      mailboxFull: 0,
    });
    expect(router.getRecentEvents()).toEqual([]);
  });

  it('refuses a publish that would overflow a mailbox, delivering it to nobody', async () => {
    fresh({ mailboxCapacity: 3 });
    const fast: number[] = [];
    router.subscribe('TRAINING_PROGRESS', (e) => void fast.push(e.payload.n as number));
    router.subscribe('TRAINING_PROGRESS', () => new Promise(() => {}), {
      name: 'stuck',
      timeoutMs: 50,
    });
    for (let n = 0; n < 3; n++) router.publish('TRAINING_PROGRESS', { n });
    await tick(1); // the fast subscriber drains; 'stuck' still holds all three
    expect(() => router.publish('TRAINING_PROGRESS', { n: 3 })).toThrow(MailboxFullError);
    expect(() => router.publish('TRAINING_PROGRESS', { n: 3 })).toThrow(
      "mailbox of subscriber 'stuck' is full (3 events waiting)",
    );
    expect(router.health().healthy).toBe(false);
    await router.whenIdle();
    expect(fast).toEqual([0, 1, 2]);
    expect(router.getStats().rejected.mailboxFull).toBe(2);
  });

  it('checks its options', () => {
    expect(() => fresh({ handlerTimeoutMs: -1 })).toThrow(
      new InvalidOptionError('handlerTimeoutMs', 'a positive integer', -1),
    );
    expect(() => fresh({ handlerTimeoutMs: -1 })).toThrow(
      "'handlerTimeoutMs' must be a positive integer (got -1)",
    );
    fresh();
    expect(() => router.subscribe('HOST_ONLINE', 'nope' as never)).toThrow(InvalidOptionError);
  });
});

describe('router.subscribe()', () => {
  it('is idempotent for the same function and type, and unsubscribe stops later events', async () => {
    fresh();
    const got: number[] = [];
    const handler = (e: Envelope) => void got.push(e.payload.n as number);
    const off1 = router.subscribe('TRAINING_PROGRESS', handler);
    const off2 = router.subscribe('TRAINING_PROGRESS', handler);
    router.publish('TRAINING_PROGRESS', { n: 1 });
    off1();
    off2();
    router.publish('TRAINING_PROGRESS', { n: 2 });
    await router.whenIdle();
    expect(got).toEqual([1]);
    expect(router.getSubscriptionCounts()).toEqual({});
  });

  it('still delivers events published before unsubscribe', async () => {
    fresh();
    const got: number[] = [];
    const off = router.subscribe('TRAINING_PROGRESS', async (e) => {
      await tick(1);
      got.push(e.payload.n as number);
    });
    for (let n = 0; n < 3; n++) router.publish('TRAINING_PROGRESS', { n });
    off();
    router.publish('TRAINING_PROGRESS', { n: 3 });
    await router.whenIdle();
    expect(got).toEqual([0, 1, 2]);
  });
});

describe('router.publishAndWait()', () => {
  it('resolves after every handler finished, failed or timed out', async () => {
    fresh({ handlerTimeoutMs: 30 });
    const order: string[] = [];
    router.subscribe(
      'HOST_ONLINE',
      async () => {
        await tick(10);
        order.push('slow done');
      },
      { name: 'slow' },
    );
    router.subscribe(
      'HOST_ONLINE',
      () => {
        throw new Error('nope');
      },
      { name: 'bad' },
    );
    router.subscribe('HOST_ONLINE', () => new Promise(() => {}), { name: 'hung' });
    const report = await router.publishAndWait('HOST_ONLINE', { host: 'h' });
    order.push('resolved');
    expect(order).toEqual(['slow done', 'resolved']);
    expect(report.delivered).toEqual(['slow']);
    expect(report.failed.map((f) => f.subscriber)).toEqual(['bad']);
    expect(report.timedOut).toEqual(['hung']);
  });

  it('resolves at once when nobody subscribes', async () => {
    fresh();
    const report = await router.publishAndWait('HOST_ONLINE', { host: 'h' });
    expect(report.delivered).toEqual([]);
  });
});

describe('router.once()', () => {
  it('resolves with the first event that matches the predicate, then unsubscribes', async () => {
    fresh();
    const p = router.once('HOST_ONLINE', (e) => e.payload.host === 'b');
    router.publish('HOST_ONLINE', { host: 'a' });
    router.publish('HOST_ONLINE', { host: 'b' });
    expect((await p).payload.host).toBe('b');
    await router.whenIdle();
    expect(router.getSubscriptionCounts()).toEqual({});
  });

  it('rejects with WaitTimeoutError after timeoutMs', async () => {
    fresh();
    await expect(router.once('HOST_ONLINE', undefined, { timeoutMs: 20 })).rejects.toThrow(
      new WaitTimeoutError('HOST_ONLINE', 20),
    );
    expect(router.getSubscriptionCounts()).toEqual({});
  });

  it('rejects when the router closes or the signal aborts', async () => {
    fresh();
    const controller = new AbortController();
    const aborted = router.once('HOST_ONLINE', undefined, { signal: controller.signal });
    controller.abort(new Error('stop waiting'));
    await expect(aborted).rejects.toThrow('stop waiting');
    const pending = router.once('HOST_ONLINE');
    await router.close();
    await expect(pending).rejects.toThrow(RouterClosedError);
  });
});

describe('router.fireAndForget()', () => {
  it('logs and counts a rejected event instead of throwing', async () => {
    fresh();
    expect(router.fireAndForget('EVALUATION_COMPLETED', { elo: 1 } as never)).toBeUndefined();
    expect(router.getStats().fireAndForgetErrors).toBe(1);
    const record = log.records.find((r) => r.msg === 'fireAndForget rejected');
    expect((record?.err as { type?: string } | undefined)?.type).toBe('EventValidationError');
  });

  it('delivers accepted events, and close() drains them', async () => {
    fresh();
    const got: number[] = [];
    router.subscribe('TRAINING_PROGRESS', async (e) => {
      await tick(2);
      got.push(e.payload.n as number);
    });
    for (let n = 0; n < 5; n++) router.fireAndForget('TRAINING_PROGRESS', { n });
    const result = await router.close();
    expect(result).toEqual({ drained: true, undelivered: {} });
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('router.close()', () => {
  it('refuses publish and subscribe afterwards with a clear error', async () => {
    fresh();
    await router.close();
    expect(() => router.publish('HOST_ONLINE', { host: 'h' })).toThrow(
      "router is closed; 'publish' is not accepted after close()",
    );
    expect(() => router.subscribe('HOST_ONLINE', () => {})).toThrow(RouterClosedError);
  });

  it('reports, after closeTimeoutMs, what a hung handler left undelivered', async () => {
    fresh({ closeTimeoutMs: 30, handlerTimeoutMs: 60_000 });
    router.subscribe('HOST_ONLINE', () => new Promise(() => {}), { name: 'hung' });
    router.publish('HOST_ONLINE', { host: 'a' });
    router.publish('HOST_ONLINE', { host: 'b' });
    await tick(1);
    const result = await router.close();
    expect(result).toEqual({ drained: false, undelivered: { hung: 2 } });
    expect(log.records.some((r) => r.msg === 'router closed with events still in mailboxes')).toBe(
      true,
    );
  });
});

describe('router introspection', () => {
  it('keeps a bounded history, newest last, filterable by any spelling', () => {
    fresh({ historySize: 5 });
    for (let n = 0; n < 8; n++) router.publish('TRAINING_PROGRESS', { n });
    router.publish('HOST_ONLINE', { host: 'h' });
    const recent = router.getRecentEvents();
    expect(recent).toHaveLength(5);
    expect(recent.at(-1)?.type).toBe('HOST_ONLINE');
    expect(
      router.getRecentEvents({ type: 'training_progress', limit: 2 }).map((e) => e.payload.n),
    ).toEqual([6, 7]);
  });

  it('counts by type and per subscriber', async () => {
    fresh();
    router.subscribe('HOST_ONLINE', () => {}, { name: 'watcher' });
    router.publish('HOST_ONLINE', { host: 'h' });
    router.publish('HOST_ONLINE', { host: 'h' });
    router.publish('TRAINING_PROGRESS', {});
    await router.whenIdle();
    const stats = router.getStats();
    expect(stats.byType).toEqual({ HOST_ONLINE: 2, TRAINING_PROGRESS: 1 });
    expect(stats.subscribers).toEqual([
      { name: 'watcher', pattern: 'HOST_ONLINE', delivered: 2, failed: 0, timedOut: 0, depth: 0 },
    ]);
  });

  it('reports health after routing events, without throwing', async () => {
    fresh();
    router.subscribe('*', () => {});
    for (let n = 0; n < 20; n++) router.publish('TRAINING_PROGRESS', { n });
    await router.whenIdle();
    expect(router.health()).toMatchObject({
      healthy: true,
      published: 20,
      subscriptions: 1,
      problems: [],
    });
    await router.close();
    expect(router.health()).toMatchObject({ healthy: false, problems: ['router is closed'] });
  });

  it('validates declared wiring against the catalog and live subscriptions', () => {
    fresh();
    router.subscribe('TRAINING_COMPLETED', () => {});
    const report = router.validateWiring({
      FeedbackLoop: {
        subscribes: ['TRAINING_COMPLETED', 'EVALUATION_COMPLETED'],
        emits: ['MODEL_PROMOTED'],
      },
      Trainer: { emits: ['training_complete', 'TRAINING_EXPLODED'] },
    });
    expect(report.ok).toBe(false);
    expect(report.unknownTypes.map((u) => u.type)).toEqual(['TRAINING_EXPLODED']);
    expect(report.notSubscribed).toEqual([
      { component: 'FeedbackLoop', type: 'EVALUATION_COMPLETED' },
    ]);
    expect(report.noEmitter).toEqual(['EVALUATION_COMPLETED']);
    expect(report.noSubscriber).toEqual(['MODEL_PROMOTED']);
  });
});

describe('RINGRIFT_EVENT_TRACE', () => {
  it('logs every publish and delivery at debug with id, type, source, subscriber and duration', async () => {
    fresh({ trace: true });
    router.subscribe('HOST_ONLINE', () => {}, { name: 'watcher' });
    const e = router.publish('HOST_ONLINE', { host: 'h' }, { source: 'p2p' });
    await router.whenIdle();
    expect(log.records.find((r) => r.msg === 'publish')).toMatchObject({
      level: 20,
      event_id: e.id,
      type: 'HOST_ONLINE',
      source: 'p2p',
    });
    const delivered = log.records.find((r) => r.msg === 'delivered');
    expect(delivered).toMatchObject({ event_id: e.id, subscriber: 'watcher' });
    expect(typeof delivered?.duration_ms).toBe('number');
  });

  it('is off by default: no debug lines', async () => {
    fresh();
    router.subscribe('HOST_ONLINE', () => {});
    router.publish('HOST_ONLINE', { host: 'h' });
    await router.whenIdle();
    expect(log.records.filter((r) => r.level === 20)).toEqual([]);
  });
});

it('HandlerTimeoutError names the subscriber, the event and the limit', () => {
  expect(new HandlerTimeoutError('ev-1', 'slow', 30_000).message).toBe(
    "handler 'slow' did not finish event ev-1 within 30000 ms",
  );
});
