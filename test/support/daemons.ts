/**
 * Small daemon machines for runtime tests. Each counts the HOST_ONLINE events it handled, emits
 * HOST_OFFLINE for each when asked, fails on demand, and becomes ready after `readyAfterMs`.
 * Control events are catalog events with a `target` payload field, so that tests drive a daemon
 * through the router exactly as other daemons would:
 * - TASK_FAILED { target, mode: 'throw' | 'exit' | 'error-exit' }: fail in an action, reach the
 *   final state normally, or reach it with an error.
 */
import { assign, emit, setup } from 'xstate';
import type { DaemonSpec } from '../../src/index.js';
import { rearmOnRestore } from '../../src/index.js';

export interface TestDaemonOptions {
  readonly readyAfterMs?: number;
  /** Never becomes ready (start timeout). */
  readonly neverReady?: boolean;
  /** Handles daemon.stop by taking this long to finish; Infinity = ignores it. */
  readonly stopTakesMs?: number;
  /**
   * The events it subscribes to (its spec's `subscribes`): the machine handles exactly these, as
   * the registry requires; HOST_ONLINE and TASK_FAILED as above, any other by counting it.
   */
  readonly subscribes?: readonly string[];
}

type TestEvent = { type: string; payload?: Record<string, unknown> };

const control: readonly string[] = ['HOST_ONLINE', 'TASK_FAILED'];

export function testMachine(name: string, options: TestDaemonOptions = {}) {
  const readyAfter = options.readyAfterMs ?? 0;
  const handles = options.subscribes ?? control;
  const unless = (type: string, transition: object) =>
    handles.includes(type) ? { [type]: transition } : {};
  return setup({
    types: {
      context: {} as { handled: number; name: string; gaveUp: boolean },
      events: {} as TestEvent,
    },
    actions: {
      explode: () => {
        throw new Error(`${name} exploded`);
      },
    },
    delays: {
      ready: readyAfter,
      stop: Number.isFinite(options.stopTakesMs) ? (options.stopTakesMs ?? 0) : 1e9,
    },
  }).createMachine({
    id: name,
    context: { handled: 0, name, gaveUp: false },
    // The machine's output (not a final state's) is what the daemon host reads as the exit reason.
    output: ({ context }) => (context.gaveUp ? { error: `${name} gave up` } : undefined),
    initial: 'booting',
    states: {
      booting: options.neverReady
        ? {}
        : { after: { ready: 'ready' }, on: { ...rearmOnRestore('booting') } },
      ready: {
        tags: ['ready'],
        on: {
          ...Object.fromEntries(
            handles
              .filter((t) => !control.includes(t))
              .map((t) => [
                t,
                { actions: assign({ handled: ({ context }) => context.handled + 1 }) },
              ]),
          ),
          ...unless('HOST_ONLINE', {
            actions: [
              assign({ handled: ({ context }) => context.handled + 1 }),
              emit(({ event, context }: { event: TestEvent; context: { handled: number } }) => ({
                type: 'HOST_OFFLINE',
                payload: {
                  host: String(event.payload?.host),
                  reason: `${name} saw ${context.handled}`,
                },
              })),
            ],
          }),
          ...unless('TASK_FAILED', [
            {
              guard: ({ event }: { event: TestEvent }) =>
                event.payload?.target === name && event.payload?.error === 'throw',
              actions: 'explode',
            },
            {
              guard: ({ event }: { event: TestEvent }) =>
                event.payload?.target === name && event.payload?.error === 'exit',
              target: 'done',
            },
            {
              guard: ({ event }: { event: TestEvent }) =>
                event.payload?.target === name && event.payload?.error === 'error-exit',
              target: 'crashed',
              actions: assign({ gaveUp: true }),
            },
          ]),
          ...(options.stopTakesMs === undefined ? {} : { 'daemon.stop': 'stopping' }),
        },
      },
      stopping: { after: { stop: 'done' } },
      done: { type: 'final' },
      crashed: { type: 'final' },
    },
  });
}

/** A host's own daemon type (not in the original registry). */
export function testDaemon(
  type: string,
  extra: Partial<DaemonSpec> & TestDaemonOptions = {},
): DaemonSpec {
  return {
    type,
    machine: testMachine(type, extra),
    machineVersion: '1',
    subscribes: [...control],
    emits: ['HOST_OFFLINE'],
    backoff: { initialMs: 10, maxMs: 40, jitter: 0 },
    shutdownTimeoutMs: 200,
    startTimeoutMs: 2_000,
    ...extra,
  };
}
