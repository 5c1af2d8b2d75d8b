/**
 * The OTP supervisor scenarios that apply, on simulated time (XState's SimulatedClock drives the
 * router, the daemon hosts, the lifecycle machines and the daemons): start order, the
 * restart-type x exit-reason matrix, one_for_one, rest_for_one, intensity exceeded, a restart
 * that fails, a child that ignores stop until its timeout, and a temporary bystander.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createRuntime,
  type DaemonSpec,
  type Envelope,
  type Runtime,
  type RuntimeOptions,
} from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { simulatedTime } from '../support/simulated-time.js';

function setup(daemons: DaemonSpec[], options: Partial<RuntimeOptions> = {}) {
  const time = simulatedTime();
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: false,
    logger: pino({ level: 'silent' }),
    clock: time.clock,
    random: () => 0.5,
    ...options,
  });
  const events: Envelope[] = [];
  runtime.router.subscribe('*', (e) => void events.push(e));
  return { runtime, events, time };
}
const state = (r: Runtime, daemon: string) =>
  r.status().daemons.find((d) => d.daemon === daemon)?.state;
const crash = (r: Runtime, target: string, error: 'throw' | 'exit' | 'error-exit' = 'throw') =>
  r.router.publish('TASK_FAILED', { task_id: 't', task_type: 'x', node_id: 'n', error, target });
/** Default backoff without jitter: 1 s, 2 s, 4 s ... */
const otp = (type: string, extra: Parameters<typeof testDaemon>[1] = {}): DaemonSpec => {
  const { backoff: _fast, ...spec } = testDaemon(type, extra);
  return { ...spec, backoff: { jitter: 0 } };
};

describe('OTP scenarios (simulated time)', () => {
  it('starts children in order, each after its dependencies', async () => {
    const { runtime, events, time } = setup([
      otp('C', { dependsOn: ['B'] }),
      otp('B', { dependsOn: ['A'], readyAfterMs: 500 }),
      otp('A', { readyAfterMs: 1_000 }),
    ]);
    await runtime.start();
    await time.advanceUntil(() => runtime.status().daemons.every((d) => d.ready));
    expect(
      events.filter((e) => e.type === 'DAEMON_STARTED').map((e) => e.payload.daemon_name),
    ).toEqual(['A', 'B', 'C']);
    const startup = events.find(
      (e) => e.type === 'DAEMON_STARTED' && e.payload.daemon_name === 'C',
    );
    expect(startup?.timestamp).toBeCloseTo(1.5, 3); // 1 s for A, then 0.5 s for B, in simulated seconds
    await runtime.stop();
  });

  const matrix: [
    'permanent' | 'transient' | 'temporary',
    'throw' | 'exit' | 'error-exit',
    boolean,
  ][] = [
    ['permanent', 'throw', true],
    ['permanent', 'exit', true],
    ['permanent', 'error-exit', true],
    ['transient', 'throw', true],
    ['transient', 'exit', false],
    ['transient', 'error-exit', true],
    ['temporary', 'throw', false],
    ['temporary', 'exit', false],
    ['temporary', 'error-exit', false],
  ];
  for (const [restart, exit, restarted] of matrix) {
    it(`${restart} child, ${exit}: ${restarted ? 'restarted after 1 s' : 'not restarted'}`, async () => {
      const { runtime, time } = setup([otp('D', { restart })]);
      await runtime.start();
      await time.advanceUntil(() => state(runtime, 'D') === 'running');
      crash(runtime, 'D', exit);
      await time.settle();
      if (restarted) {
        expect(state(runtime, 'D')).toBe('backing_off');
        expect(await time.advanceUntil(() => state(runtime, 'D') === 'running')).toBe(1_000);
      } else {
        expect(state(runtime, 'D')).toBe('stopped');
        await time.advance(120_000, 10_000);
        expect(state(runtime, 'D')).toBe('stopped');
      }
      await runtime.stop();
    });
  }

  it('one_for_one restarts only the failed child; a temporary bystander is left alone', async () => {
    const { runtime, events, time } = setup([
      otp('A'),
      otp('B', { dependsOn: ['A'] }),
      otp('T', { restart: 'temporary' }),
    ]);
    await runtime.start();
    await time.advanceUntil(() => runtime.status().daemons.every((d) => d.ready));
    crash(runtime, 'A');
    await time.advanceUntil(() => state(runtime, 'A') === 'running');
    await runtime.router.whenIdle();
    const restartedOthers = events.filter(
      (e) => e.type === 'DAEMON_STATUS_CHANGED' && e.payload.new_status === 'stopping',
    );
    expect(restartedOthers).toEqual([]);
    expect(state(runtime, 'T')).toBe('running');
    await runtime.stop();
  });

  it('rest_for_one restarts the failed child and its dependents, in start order', async () => {
    const { runtime, events, time } = setup(
      [
        otp('A'),
        otp('B', { dependsOn: ['A'] }),
        otp('C', { dependsOn: ['B'] }),
        otp('T', { restart: 'temporary' }),
      ],
      {
        strategy: 'rest_for_one',
      },
    );
    await runtime.start();
    await time.advanceUntil(() => runtime.status().daemons.every((d) => d.ready));
    crash(runtime, 'A');
    await time.advanceUntil(
      () => runtime.status().daemons.every((d) => d.ready) && state(runtime, 'A') === 'running',
    );
    await runtime.router.whenIdle();
    const stopping = events
      .filter((e) => e.type === 'DAEMON_STATUS_CHANGED' && e.payload.new_status === 'stopping')
      .map((e) => e.payload.daemon_name);
    expect(stopping).toEqual(['B', 'C']);
    expect(state(runtime, 'T')).toBe('running');
    await runtime.stop();
  });

  it('marks the child FAILED when the intensity is exceeded, and escalates a critical one', async () => {
    const { runtime, events, time } = setup([
      otp('CRIT', { critical: true, intensity: { maxRestarts: 3, periodMs: 60_000 } }),
    ]);
    await runtime.start();
    for (let i = 0; i < 4; i++) {
      await time.advanceUntil(() => state(runtime, 'CRIT') === 'running');
      crash(runtime, 'CRIT');
      await time.settle();
    }
    expect(state(runtime, 'CRIT')).toBe('failed');
    expect(runtime.status().healthy).toBe(false);
    await runtime.router.whenIdle();
    expect(events.filter((e) => e.type === 'DAEMON_PERMANENTLY_FAILED')).toHaveLength(1);
    await runtime.stop();
  });

  it('retries a restart that fails (never ready) with growing backoff until FAILED', async () => {
    const { runtime, events, time } = setup([
      otp('NEVER', { neverReady: true, startTimeoutMs: 5_000, intensity: { maxRestarts: 2 } }),
    ]);
    await runtime.start();
    await time.advanceUntil(() => state(runtime, 'NEVER') === 'failed', 60_000);
    await runtime.router.whenIdle();
    const failures = events
      .filter((e) => e.type === 'DAEMON_STATUS_CHANGED' && e.payload.new_status === 'backing_off')
      .map((e) => e.timestamp);
    // Start timeout 5 s, backoff 1 s, start timeout 5 s, backoff 2 s, start timeout 5 s -> FAILED.
    expect(failures).toEqual([5, 11]);
    expect(runtime.status().daemons[0]?.lastError).toMatch(/did not become ready within 5000 ms/);
    await runtime.stop();
  });

  it('waits for a child that ignores stop until its shutdown timeout, then kills it', async () => {
    const { runtime, events, time } = setup([
      otp('STUBBORN', { stopTakesMs: Number.POSITIVE_INFINITY, shutdownTimeoutMs: 3_000 }),
      otp('POLITE', { dependsOn: ['STUBBORN'], stopTakesMs: 500, shutdownTimeoutMs: 2_000 }),
    ]);
    await runtime.start();
    await time.advanceUntil(() => runtime.status().daemons.every((d) => d.ready));
    let stopped = false;
    const stopping = runtime.stop().then(() => {
      stopped = true;
    });
    const took = await time.advanceUntil(() => stopped, 10_000);
    await stopping;
    expect(took).toBeGreaterThanOrEqual(3_500); // POLITE's 0.5 s, then STUBBORN's full 3 s
    expect(took).toBeLessThan(4_000);
    expect(
      events.filter((e) => e.type === 'DAEMON_STOPPED').map((e) => e.payload.daemon_name),
    ).toEqual(['POLITE', 'STUBBORN']);
  });
});
