/**
 * Issue 9.3: a daemon that failed before it was ready (an entry action that throws, an error
 * final state while starting) hung in `starting` for ever: no restart, no FAILED, lastError null,
 * the runtime healthy, `whenReady()` never settled. The daemon host's exit listener cleared the
 * supervisor's mirror of the child before the start rejection was seen. Now the lifecycle
 * machine invokes the start itself, and a failed start is an exit like any other.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMachine, setup } from 'xstate';
import {
  createRuntime,
  DaemonFailedError,
  type DaemonSpec,
  type Envelope,
} from '../../src/index.js';
import { simulatedTime } from '../support/simulated-time.js';

const throwsOnEntry = setup({
  actions: {
    boom: () => {
      throw new Error('cannot open the model registry');
    },
  },
}).createMachine({ id: 'entry', initial: 'booting', states: { booting: { entry: 'boom' } } });

const errorFinalWhileStarting = createMachine({
  id: 'final',
  initial: 'booting',
  output: { error: 'no GPU visible' },
  states: { booting: { always: 'gone' }, gone: { type: 'final' } },
});

const spec = (type: string, machine: DaemonSpec['machine']): DaemonSpec => ({
  type,
  machine,
  machineVersion: '1',
  subscribes: [],
  emits: [],
  critical: true,
  backoff: { jitter: 0 },
});

describe.each([
  ['an entry action that throws', throwsOnEntry, 'cannot open the model registry'],
  ['an error final state while starting', errorFinalWhileStarting, 'no GPU visible'],
])('a daemon with %s', (_, machine, message) => {
  it('is restarted with backoff, ends FAILED after the intensity limit, and whenReady() rejects naming it', async () => {
    const { clock, settle } = simulatedTime();
    const runtime = createRuntime({
      profile: ['BROKEN'],
      daemons: [spec('BROKEN', machine)],
      dbPath: false,
      logger: pino({ level: 'silent' }),
      clock,
    });
    const events: Envelope[] = [];
    runtime.router.subscribe('*', (e: Envelope) => {
      events.push(e);
    });
    await runtime.start();
    const ready = runtime.whenReady().then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await settle();
    const status = () => runtime.status().daemons[0];
    // Not hanging in starting: a start failure, with its error, backing off.
    expect(status()?.state).toBe('backing_off');
    expect(status()?.lastError).toContain(message);
    for (let i = 0; i < 200 && status()?.state !== 'failed'; i++) {
      clock.increment(1_000);
      await settle();
    }
    expect(status()?.state).toBe('failed');
    expect(status()?.restarts).toBe(5);
    expect(runtime.status().healthy).toBe(false);
    const outcome = await ready;
    expect(outcome).toBeInstanceOf(DaemonFailedError);
    expect((outcome as DaemonFailedError).daemon).toBe('BROKEN');
    expect((outcome as Error).message).toContain(message);
    // A late caller is told at once too.
    await expect(runtime.whenReady()).rejects.toBeInstanceOf(DaemonFailedError);
    await runtime.router.whenIdle();
    expect(events.filter((e) => e.type === 'DAEMON_PERMANENTLY_FAILED')).toHaveLength(1);
    expect(
      events.filter(
        (e) => e.type === 'DAEMON_STATUS_CHANGED' && e.payload.new_status === 'starting',
      ),
    ).toHaveLength(6);
    await runtime.stop();
  });
});
