/**
 * The supervisor on simulated time (XState's SimulatedClock drives the router, the daemon hosts,
 * the lifecycle machines and the daemons): the default backoff is exact, and nothing waits on
 * the wall clock.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRuntime, type Envelope } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { simulatedTime } from '../support/simulated-time.js';

describe('supervisor with a simulated clock', () => {
  it('restarts after 1 s, 2 s, 4 s (default backoff, no jitter) and is FAILED after the sixth crash in ten minutes', async () => {
    const { clock, settle } = simulatedTime();
    const { backoff: _testBackoff, ...spec } = testDaemon('CRASHY', { critical: true });
    const runtime = createRuntime({
      profile: ['CRASHY'],
      daemons: [{ ...spec, backoff: { jitter: 0 } }],
      dbPath: false,
      logger: pino({ level: 'silent' }),
      clock,
    });
    const events: Envelope[] = [];
    runtime.router.subscribe('*', (e) => void events.push(e));
    await runtime.start();
    await settle();
    const state = () => runtime.status().daemons[0]?.state;
    expect(state()).toBe('running');
    const crash = () =>
      runtime.router.publish('TASK_FAILED', {
        task_id: 't',
        task_type: 'x',
        node_id: 'n',
        error: 'throw',
        target: 'CRASHY',
      });

    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      crash();
      await settle();
      expect(state()).toBe('backing_off');
      // Step the clock until the daemon runs again; the step count is the delay.
      let waited = 0;
      while (state() !== 'running' && waited < 120_000) {
        clock.increment(100);
        waited += 100;
        await settle();
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    crash();
    await settle();
    expect(state()).toBe('failed');
    expect(runtime.status().healthy).toBe(false);
    await runtime.router.whenIdle();
    expect(events.filter((e) => e.type === 'DAEMON_PERMANENTLY_FAILED')).toHaveLength(1);
    clock.increment(3_600_000);
    await settle();
    expect(state()).toBe('failed'); // final until an operator acts
    await runtime.stop();
  });
});
