import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, fromPromise, setup } from 'xstate';
import { createRuntime, type Runtime } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';

let runtime: Runtime | null = null;
afterEach(async () => {
  await runtime?.stop();
  runtime = null;
});
const silent = pino({ level: 'silent' });
const statusOf = (r: Runtime, daemon: string) =>
  r.status().daemons.find((d) => d.daemon === daemon);

describe('daemon host faults', () => {
  it('turns an invoked actor that fails unhandled into a fault of the daemon', async () => {
    const machine = setup({
      actors: { work: fromPromise(async () => Promise.reject(new Error('disk full'))) },
    }).createMachine({
      initial: 'ready',
      states: {
        ready: { tags: ['ready'], on: { HOST_ONLINE: 'working' } },
        // No onError: XState would drop the failure silently.
        working: { tags: ['ready'], invoke: { src: 'work' }, on: { HOST_ONLINE: 'working' } },
      },
    });
    runtime = createRuntime({
      profile: ['WORKER'],
      daemons: [
        {
          type: 'WORKER',
          machine,
          machineVersion: '1',
          subscribes: ['HOST_ONLINE'],
          emits: [],
          restart: 'temporary',
        },
      ],
      dbPath: false,
      logger: silent,
    });
    await runtime.start();
    await until(() => statusOf(runtime as Runtime, 'WORKER')?.ready === true);
    runtime.router.publish('HOST_ONLINE', { host: 'h' });
    await new Promise((r) => setTimeout(r, 20));
    runtime.router.publish('HOST_ONLINE', { host: 'h' });
    await until(() => statusOf(runtime as Runtime, 'WORKER')?.state === 'stopped');
    // XState escalates it to the daemon's actor, or the host finds the dead child: a fault either way.
    expect(statusOf(runtime, 'WORKER')?.lastError).toMatch(/disk full/);
  });
});

describe('supervisor admin API and soft dependencies', () => {
  it('stops and starts a daemon on request, and reports status', async () => {
    runtime = createRuntime({
      profile: ['A'],
      daemons: [testDaemon('A')],
      dbPath: false,
      logger: silent,
    });
    await runtime.start();
    await until(() => statusOf(runtime as Runtime, 'A')?.ready === true);
    expect(statusOf(runtime, 'A')).toMatchObject({
      state: 'running',
      restarts: 0,
      lastError: null,
      critical: false,
    });
    expect(statusOf(runtime, 'A')?.uptimeMs).toBeGreaterThanOrEqual(0);
    await runtime.supervisor.stopDaemon('A');
    expect(statusOf(runtime, 'A')).toMatchObject({
      state: 'stopped',
      ready: false,
      uptimeMs: null,
    });
    runtime.supervisor.startDaemon('A');
    await until(() => statusOf(runtime as Runtime, 'A')?.ready === true);
    expect(() => runtime?.supervisor.startDaemon('NOPE')).toThrow(
      "daemon 'NOPE': is not part of profile 'custom'",
    );
  });

  it('waits for a soft dependency up to its timeout, then starts degraded', async () => {
    runtime = createRuntime({
      profile: ['WANTS', 'SLOW'],
      daemons: [
        testDaemon('WANTS', { softDependsOn: ['SLOW'] }),
        testDaemon('SLOW', { readyAfterMs: 10_000 }),
      ],
      dbPath: false,
      logger: silent,
      softDependencyTimeoutMs: 50,
    });
    await runtime.start();
    await until(() => statusOf(runtime as Runtime, 'WANTS')?.ready === true);
    expect(statusOf(runtime, 'SLOW')?.ready).toBe(false);
    expect(statusOf(runtime, 'WANTS')?.degraded).toEqual(['SLOW']);
  });
});

describe('localOnly subscriptions', () => {
  it("handles its own runtime's event of a localOnly type and ignores another runtime's", async () => {
    const machine = setup({
      types: {
        context: {} as { seen: string[] },
        events: {} as { type: string; payload: { profile: string } },
      },
    }).createMachine({
      context: { seen: [] },
      initial: 'ready',
      states: {
        ready: {
          tags: ['ready'],
          on: {
            ALL_CRITICAL_DAEMONS_READY: {
              actions: assign({
                seen: ({ context, event }) => [...context.seen, event.payload.profile],
              }),
            },
          },
        },
      },
    });
    runtime = createRuntime({
      profile: ['LOOP'],
      daemons: [
        {
          type: 'LOOP',
          machine,
          machineVersion: '1',
          critical: true,
          subscribes: ['ALL_CRITICAL_DAEMONS_READY'],
          localOnly: ['ALL_CRITICAL_DAEMONS_READY'],
          emits: [],
        },
      ],
      dbPath: false,
      logger: silent,
    });
    await runtime.start();
    await runtime.whenReady();
    const own = runtime.router.getRecentEvents({ type: 'ALL_CRITICAL_DAEMONS_READY' })[0];
    expect(own).toBeDefined();
    const foreign = {
      ...(own as NonNullable<typeof own>),
      id: 'other-runtime-1',
      payload: { ...(own as NonNullable<typeof own>).payload, profile: 'theirs' },
      origin: { host: 'elsewhere', pid: 1, runtimeId: 'other-runtime' },
    };
    expect(runtime.router.deliverRemote(foreign as never)).toBe(true);
    runtime.router.publish('ALL_CRITICAL_DAEMONS_READY', {
      profile: 'mine-again',
      daemons: [],
      hostname: 'h',
      startup_ms: 1,
    });
    await runtime.router.whenIdle();
    expect(runtime.supervisor.getDaemonSnapshot('LOOP')?.context).toEqual({
      seen: ['custom', 'mine-again'],
    });
  });

  it('refuses a localOnly type the daemon does not subscribe to', () => {
    expect(() =>
      createRuntime({
        profile: ['LOOP'],
        daemons: [{ ...testDaemon('LOOP'), localOnly: ['TRAINING_STARTED'] }],
        dbPath: false,
        logger: silent,
      }),
    ).toThrow(/'localOnly' names TRAINING_STARTED, which it does not subscribe to/);
  });
});
