import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  DependencyCycleError,
  type Envelope,
  InvalidDaemonSpecError,
  type Runtime,
  type RuntimeOptions,
} from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';
import { type MemoryLogger, memoryLogger } from '../support/memory-logger.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let runtime: Runtime | null = null;
let tmp: TempDb | null = null;
let log: MemoryLogger;
afterEach(async () => {
  await runtime?.stop();
  runtime = null;
  tmp?.cleanup();
  tmp = null;
});

function start(options: Partial<RuntimeOptions> & Pick<RuntimeOptions, 'daemons'>): {
  runtime: Runtime;
  events: Envelope[];
} {
  log = memoryLogger('info');
  runtime = createRuntime({
    profile: options.daemons.map((d) => d.type),
    dbPath: false,
    logger: log.logger,
    random: () => 0.5,
    ...options,
  });
  const events: Envelope[] = [];
  runtime.router.subscribe('*', (e) => void events.push(e));
  void runtime.start();
  return { runtime, events };
}

const statusOf = (r: Runtime, daemon: string) =>
  r.status().daemons.find((d) => d.daemon === daemon);

describe('createRuntime() start', () => {
  it('starts daemons in dependency order, each only after its dependencies are ready', async () => {
    const { runtime: r, events } = start({
      daemons: [
        testDaemon('LEAF', { dependsOn: ['MID'] }),
        testDaemon('MID', { dependsOn: ['ROOT'], readyAfterMs: 30 }),
        testDaemon('ROOT', { readyAfterMs: 30, critical: true }),
      ],
    });
    await until(() => r.status().daemons.every((d) => d.ready));
    const started = events
      .filter((e) => e.type === 'DAEMON_STARTED')
      .map((e) => e.payload.daemon_name);
    expect(started).toEqual(['ROOT', 'MID', 'LEAF']);
    // MID entered 'starting' only after ROOT was running.
    const order = events
      .filter((e) => e.type === 'DAEMON_STATUS_CHANGED')
      .map((e) => `${e.payload.daemon_name}:${e.payload.new_status}`);
    expect(order.indexOf('MID:starting')).toBeGreaterThan(order.indexOf('ROOT:running'));
    expect(order.indexOf('LEAF:starting')).toBeGreaterThan(order.indexOf('MID:running'));
  });

  it('emits ALL_CRITICAL_DAEMONS_READY once, when every critical daemon runs', async () => {
    const { runtime: r, events } = start({
      daemons: [
        testDaemon('C1', { critical: true, readyAfterMs: 20 }),
        testDaemon('C2', { critical: true }),
        testDaemon('N'),
      ],
    });
    await r.whenReady();
    await until(() => statusOf(r, 'N')?.ready === true);
    await r.router.whenIdle();
    const ready = events.filter((e) => e.type === 'ALL_CRITICAL_DAEMONS_READY');
    expect(ready).toHaveLength(1);
    expect(ready[0]?.payload).toMatchObject({ daemons: ['C1', 'C2'], profile: 'custom' });
  });

  it('delivers events published while a daemon starts, after it started (subscriptions first)', async () => {
    const { runtime: r, events } = start({ daemons: [testDaemon('SLOW', { readyAfterMs: 50 })] });
    await until(() => statusOf(r, 'SLOW')?.state === 'starting');
    r.router.publish('HOST_ONLINE', { host: 'early' });
    await until(() => events.some((e) => e.type === 'HOST_OFFLINE'));
    const offline = events.find((e) => e.type === 'HOST_OFFLINE');
    expect(offline).toMatchObject({ source: 'SLOW', payload: { host: 'early' } });
    const online = events.find((e) => e.type === 'HOST_ONLINE');
    expect(offline?.parentId).toBe(online?.id);
  });

  it('turns "never ready" into a start failure and retries with backoff', async () => {
    const { runtime: r } = start({
      daemons: [
        testDaemon('STUCK', {
          neverReady: true,
          startTimeoutMs: 30,
          intensity: { maxRestarts: 2 },
        }),
      ],
    });
    await until(() => statusOf(r, 'STUCK')?.state === 'failed', 5_000);
    expect(statusOf(r, 'STUCK')?.lastError).toMatch(/did not become ready within 30 ms/);
    expect(statusOf(r, 'STUCK')?.restarts).toBe(2);
  });

  it('refuses bad specs before starting anything, naming the daemons', () => {
    expect(() =>
      createRuntime({
        profile: ['A'],
        daemons: [testDaemon('A', { dependsOn: ['A'] })],
        dbPath: false,
      }),
    ).toThrow("daemon 'A': depends on itself");
    expect(() =>
      createRuntime({
        profile: ['A'],
        daemons: [testDaemon('A', { dependsOn: ['NOPE'] })],
        dbPath: false,
      }),
    ).toThrow("daemon 'A': depends on 'NOPE', which is neither registered nor a known daemon type");
    expect(() =>
      createRuntime({
        profile: ['A', 'B'],
        daemons: [testDaemon('A', { dependsOn: ['B'] }), testDaemon('B', { dependsOn: ['A'] })],
        dbPath: false,
      }),
    ).toThrow(DependencyCycleError);
    expect(() =>
      createRuntime({
        profile: ['A'],
        daemons: [testDaemon('A', { subscribes: ['HOST_ONLIEN'] })],
        dbPath: false,
      }),
    ).toThrow(
      "daemon 'A': subscribes to unknown event type 'HOST_ONLIEN'; did you mean 'HOST_ONLINE'",
    );
    expect(() =>
      createRuntime({ profile: ['A', 'B'], daemons: [testDaemon('A')], dbPath: false }),
    ).toThrow("daemon 'profile': needs daemons that have no spec: B");
    expect(() =>
      createRuntime({
        profile: ['FEEDBACK_LOOP'],
        daemons: [{ ...testDaemon('FEEDBACK_LOOP'), dependsOn: undefined }],
        dbPath: false,
      }),
    ).toThrow(
      "daemon 'FEEDBACK_LOOP': depends on 'EVENT_ROUTER', which the profile does not start",
    );
    expect(() =>
      createRuntime({
        profile: ['EVENT_ROUTER'],
        daemons: [testDaemon('EVENT_ROUTER', { dependsOn: [] })],
        dbPath: false,
      }),
    ).toThrow(InvalidDaemonSpecError);
  });
});

// The restart-type x exit-reason matrix and the strategies run on simulated time in
// supervisor-otp.test.ts; these are the parts that need the real clock or the logs.
describe('restarts', () => {
  it('marks a daemon FAILED after too many restarts, emits DAEMON_PERMANENTLY_FAILED, and stays down', async () => {
    const { runtime: r, events } = start({
      daemons: [
        testDaemon('FRAGILE', { critical: true, intensity: { maxRestarts: 2, periodMs: 60_000 } }),
      ],
    });
    for (let i = 0; i < 3; i++) {
      await until(() => statusOf(r, 'FRAGILE')?.ready === true);
      r.router.publish('TASK_FAILED', {
        task_id: 't',
        task_type: 'x',
        node_id: 'n',
        error: 'throw',
        target: 'FRAGILE',
      });
      await until(() => statusOf(r, 'FRAGILE')?.ready === false);
    }
    await until(() => statusOf(r, 'FRAGILE')?.state === 'failed');
    await new Promise((res) => setTimeout(res, 100));
    expect(statusOf(r, 'FRAGILE')?.state).toBe('failed'); // final: nothing restarts it
    expect(r.status().healthy).toBe(false);
    await r.router.whenIdle();
    expect(
      events.filter((e) => e.type === 'DAEMON_PERMANENTLY_FAILED').map((e) => e.payload),
    ).toEqual([
      expect.objectContaining({
        daemon_name: 'FRAGILE',
        restart_count: 2,
        requires_intervention: true,
      }),
    ]);
    expect(events.some((e) => e.type === 'DAEMON_CRASH_LOOP_DETECTED')).toBe(true);
    const report = log.records.find(
      (l) => l.msg === 'daemon FAILED: restart intensity exceeded; an operator must restart it',
    );
    expect(report).toMatchObject({
      context: 'child_terminated',
      offender: { id: 'FRAGILE', restart_type: 'permanent' },
    });
    r.supervisor.restartDaemon('FRAGILE'); // the operator
    await until(() => statusOf(r, 'FRAGILE')?.ready === true);
    expect(r.status().healthy).toBe(true);
  });
});

describe('stop()', () => {
  it('stops in reverse start order, forcing a daemon that ignores its shutdown timeout', async () => {
    const { runtime: r, events } = start({
      daemons: [
        testDaemon('FIRST'),
        testDaemon('SECOND', {
          dependsOn: ['FIRST'],
          stopTakesMs: Number.POSITIVE_INFINITY,
          shutdownTimeoutMs: 50,
        }),
        testDaemon('THIRD', { dependsOn: ['SECOND'], stopTakesMs: 5 }),
      ],
    });
    await until(() => r.status().daemons.every((d) => d.ready));
    await r.stop();
    runtime = null;
    const stopped = events
      .filter((e) => e.type === 'DAEMON_STOPPED')
      .map((e) => e.payload.daemon_name);
    expect(stopped).toEqual(['THIRD', 'SECOND', 'FIRST']);
    expect(
      log.records.some(
        (l) => l.msg === 'daemon did not stop in time; stopped by force' && l.daemon === 'SECOND',
      ),
    ).toBe(true);
    expect(r.status().daemons.map((d) => d.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(r.router.isClosed).toBe(true);
  });
});

describe('faults', () => {
  it('treats an undeclared emit as a fault, not a silent event', async () => {
    const { runtime: r } = start({
      daemons: [testDaemon('LIAR', { emits: [], intensity: { maxRestarts: 1 } })],
    });
    await until(() => statusOf(r, 'LIAR')?.ready === true);
    r.router.publish('HOST_ONLINE', { host: 'h' });
    await until(() => (statusOf(r, 'LIAR')?.restarts ?? 0) >= 1);
    expect(statusOf(r, 'LIAR')?.lastError).toBe("emitted undeclared event 'HOST_OFFLINE'");
  });
});

describe('snapshots', () => {
  it('resumes a daemon from its snapshot when the machine version matches, and starts fresh otherwise', async () => {
    tmp = tempDb();
    const path = tmp.path;
    const handled = async (version: string, expected: number) => {
      const r = createRuntime({
        profile: ['COUNTER'],
        daemons: [testDaemon('COUNTER', { machineVersion: version })],
        dbPath: path,
        runtimeId: 'node-1',
        logger: pino({ level: 'silent' }),
      });
      await r.start();
      await until(() => r.status().daemons[0]?.ready === true);
      r.router.publish('HOST_ONLINE', { host: 'h' });
      let count = 0;
      await until(() => {
        count =
          (r.supervisor.getDaemonSnapshot('COUNTER')?.context as { handled: number } | undefined)
            ?.handled ?? 0;
        return count === expected;
      });
      await r.stop();
      return count;
    };
    expect(await handled('1', 1)).toBe(1);
    expect(await handled('1', 2)).toBe(2); // resumed: the count went on
    expect(await handled('2', 1)).toBe(1); // another machine version: fresh
  });
});

describe('snapshots of daemons that ended', () => {
  it('are not restored: a daemon that reached its final state starts fresh, not straight into the end', async () => {
    tmp = tempDb();
    const make = () =>
      createRuntime({
        profile: ['ENDER'],
        daemons: [testDaemon('ENDER', { restart: 'transient' })],
        dbPath: (tmp as TempDb).path,
        runtimeId: 'node-2',
        logger: pino({ level: 'silent' }),
      });
    const first = make();
    await first.start();
    await until(() => first.status().daemons[0]?.ready === true);
    first.router.publish('HOST_ONLINE', { host: 'h' });
    first.router.publish('TASK_FAILED', {
      task_id: 't',
      task_type: 'x',
      node_id: 'n',
      error: 'exit',
      target: 'ENDER',
    });
    await until(() => first.status().daemons[0]?.state === 'stopped');
    await first.stop();
    const second = make();
    await second.start();
    await until(() => second.status().daemons[0]?.ready === true);
    // It resumed the last running state (handled 1), not the final one.
    expect(
      (second.supervisor.getDaemonSnapshot('ENDER')?.context as { handled: number } | undefined)
        ?.handled,
    ).toBe(1);
    await second.stop();
  });
});
