/**
 * Lesson 4 (issue 9.4): `createRuntime` made its own router while `getRouter()`, the module-level
 * `publish` / `subscribe` and the emit helpers used a process singleton, so a host program that
 * followed the guide's Quick Start next to a runtime published into a router no daemon heard.
 * Now the runtime's router is the process router while it runs; a second one only on request.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Envelope,
  emitHostOnline,
  getRouter,
  ProcessRouterTakenError,
  publish,
  resetRouter,
  subscribe,
} from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';

afterEach(() => resetRouter());

const runtimeWith = (extra: { isolatedRouter?: boolean; runtimeId?: string } = {}) =>
  createRuntime({
    profile: ['WATCHER'],
    daemons: [testDaemon('WATCHER')],
    dbPath: false,
    logger: pino({ level: 'silent' }),
    ...extra,
  });

describe('one router per process', () => {
  it("the guide's module-level publish, subscribe and emit helpers reach the runtime's daemons", async () => {
    const runtime = runtimeWith();
    expect(getRouter()).toBe(runtime.router);
    const answers: Envelope[] = [];
    subscribe('HOST_OFFLINE', (e: Envelope) => {
      answers.push(e);
    });
    await runtime.start();
    await runtime.whenReady();
    // The daemon answers each HOST_ONLINE it hears with a HOST_OFFLINE.
    publish('HOST_ONLINE', { host: 'gpu-1' }, { source: 'host_program' });
    emitHostOnline({ host: 'gpu-2' }, { source: 'host_program' });
    await until(() => answers.length === 2, 5_000, 'the daemon to answer both');
    expect(answers.map((a) => a.payload.host)).toEqual(['gpu-1', 'gpu-2']);
    expect(answers.every((a) => a.source === 'WATCHER')).toBe(true);
    await runtime.stop();
    // Stopped: the process router is free again, and fresh.
    expect(getRouter()).not.toBe(runtime.router);
    expect(getRouter().isClosed).toBe(false);
  });

  it('a router made by getRouter() that is in use is not silently replaced', async () => {
    subscribe('HOST_OFFLINE', () => {});
    let error: unknown;
    try {
      runtimeWith({ runtimeId: 'late' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProcessRouterTakenError);
    expect((error as Error).message).toContain("runtime 'late' cannot take the process router");
    expect((error as Error).message).toContain('with 1 subscriptions');
  });

  it('an unused default router is replaced by the runtime’s', async () => {
    const unused = getRouter();
    const runtime = runtimeWith();
    expect(getRouter()).toBe(runtime.router);
    expect(unused.isClosed).toBe(true);
    await runtime.stop();
  });

  it('a second runtime in the process is refused, unless it asks for its own router', async () => {
    const first = runtimeWith({ runtimeId: 'first' });
    expect(() => runtimeWith({ runtimeId: 'second' })).toThrow(
      /runtime 'second' cannot take the process router: runtime 'first' runs in this process/,
    );
    const isolated = runtimeWith({ runtimeId: 'isolated', isolatedRouter: true });
    expect(getRouter()).toBe(first.router);
    expect(isolated.router).not.toBe(first.router);
    await isolated.stop();
    await first.stop();
  });
});
