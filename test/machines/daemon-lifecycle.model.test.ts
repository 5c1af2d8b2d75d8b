/**
 * Model-based test of the daemon lifecycle machine. An abstract model (no timers, a restart
 * counter instead of timestamps) is explored with xstate/graph; every path to every model state,
 * extended by every event, is replayed on the real machine driven by a SimulatedClock, and the
 * two must agree after every step. The real machine's transitions that the replays took are
 * counted against all of its transitions (toDirectedGraph) and the coverage is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { assign, createActor, fromCallback, SimulatedClock, setup } from 'xstate';
import { getShortestPaths, toDirectedGraph } from 'xstate/graph';
import {
  daemonLifecycleMachine,
  type LifecycleEvent,
} from '../../src/machines/daemon-lifecycle.js';
import { DEFAULT_BACKOFF, type RestartType } from '../../src/machines/supervision.js';

const MAX_RESTARTS = 2;

type ModelEvent =
  | { type: 'START' }
  | { type: 'DEPS_READY' }
  | { type: 'READY' }
  | { type: 'START_FAILED' }
  | { type: 'EXIT_ERROR' }
  | { type: 'EXIT_NORMAL' }
  | { type: 'STOP' }
  | { type: 'STOPPED' }
  | { type: 'RESTART' }
  | { type: 'BACKOFF_ELAPSED' };

const EVENTS: ModelEvent[] = (
  [
    'START',
    'DEPS_READY',
    'READY',
    'START_FAILED',
    'EXIT_ERROR',
    'EXIT_NORMAL',
    'STOP',
    'STOPPED',
    'RESTART',
    'BACKOFF_ELAPSED',
  ] as const
).map((type) => ({ type }));

/** What the lifecycle should do, said as simply as possible. */
const model = setup({
  types: {
    context: {} as { restarts: number; type: RestartType; restartAfterStop: boolean },
    events: {} as ModelEvent,
    input: {} as { type: RestartType },
  },
  guards: {
    temporary: ({ context }) => context.type === 'temporary',
    permanent: ({ context }) => context.type === 'permanent',
    exceeded: ({ context }) => context.restarts + 1 > MAX_RESTARTS,
    restartAfterStop: ({ context }) => context.restartAfterStop,
  },
  actions: {
    count: assign({ restarts: ({ context }) => context.restarts + 1 }),
  },
}).createMachine({
  context: ({ input }) => ({ restarts: 0, type: input.type, restartAfterStop: false }),
  initial: 'idle',
  states: {
    idle: { on: { START: 'waiting' } },
    waiting: { on: { DEPS_READY: 'starting', STOP: 'stopped' } },
    starting: {
      on: {
        READY: 'running',
        START_FAILED: [
          { guard: 'temporary', target: 'stopped' },
          { guard: 'exceeded', target: 'failed' },
          { target: 'backingOff', actions: 'count' },
        ],
        STOP: { target: 'stopping', actions: assign({ restartAfterStop: false }) },
      },
    },
    running: {
      on: {
        EXIT_ERROR: [
          { guard: 'temporary', target: 'stopped' },
          { guard: 'exceeded', target: 'failed' },
          { target: 'backingOff', actions: 'count' },
        ],
        EXIT_NORMAL: [
          {
            guard: ({ context }) =>
              context.type === 'permanent' && context.restarts + 1 > MAX_RESTARTS,
            target: 'failed',
          },
          { guard: 'permanent', target: 'backingOff', actions: 'count' },
          { target: 'stopped' },
        ],
        STOP: { target: 'stopping', actions: assign({ restartAfterStop: false }) },
        RESTART: { target: 'stopping', actions: assign({ restartAfterStop: true }) },
      },
    },
    backingOff: { on: { BACKOFF_ELAPSED: 'waiting', STOP: 'stopped', RESTART: 'waiting' } },
    failed: { on: { RESTART: { target: 'waiting', actions: assign({ restarts: 0 }) } } },
    stopping: {
      on: {
        STOPPED: [
          {
            guard: 'restartAfterStop',
            target: 'waiting',
            actions: assign({ restartAfterStop: false }),
          },
          { target: 'stopped' },
        ],
        // Whatever the reason, an exit while stopping is the stop.
        EXIT_ERROR: [
          {
            guard: 'restartAfterStop',
            target: 'waiting',
            actions: assign({ restartAfterStop: false }),
          },
          { target: 'stopped' },
        ],
        EXIT_NORMAL: [
          {
            guard: 'restartAfterStop',
            target: 'waiting',
            actions: assign({ restartAfterStop: false }),
          },
          { target: 'stopped' },
        ],
      },
    },
    stopped: { on: { START: 'waiting', RESTART: 'waiting' } },
  },
});

/** Every transition of the real machine: `source|event|target`. */
function allTransitions(): Set<string> {
  const edges = new Set<string>();
  const walk = (node: ReturnType<typeof toDirectedGraph>) => {
    for (const edge of node.edges) {
      const event = edge.label.text.startsWith('xstate.after') ? 'after' : edge.label.text;
      edges.add(`${edge.source.key}|${event}|${edge.target.key}`);
    }
    for (const child of node.children) walk(child);
  };
  walk(toDirectedGraph(daemonLifecycleMachine));
  return edges;
}

const covered = new Set<string>();
const statesSeen = new Set<string>();

/** Replays model events on the real machine; returns the real state after each step. */
function replay(type: RestartType, events: readonly ModelEvent[]): string[] {
  const clock = new SimulatedClock();
  // Fake effects that only record that they run: the machine invokes them itself.
  const running = new Set<string>();
  const effect = (name: string) =>
    fromCallback<LifecycleEvent, void>(() => {
      running.add(name);
      return () => running.delete(name);
    });
  const machine = daemonLifecycleMachine.provide({
    actors: {
      startDaemon: effect('start'),
      watchDaemon: effect('watch'),
      stopDaemon: effect('stop'),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      daemon: 'D',
      restartType: type,
      intensity: { maxRestarts: MAX_RESTARTS, periodMs: 1e12 },
      backoff: { ...DEFAULT_BACKOFF, jitter: 0 },
    },
  });
  actor.start();
  const states: string[] = [];
  for (const e of events) {
    const before = String(actor.getSnapshot().value);
    let sent: string;
    if (e.type === 'BACKOFF_ELAPSED') {
      sent = 'after';
      if (before === 'backingOff') clock.increment(actor.getSnapshot().context.delayMs);
    } else {
      const real = toReal(e, clock.now());
      sent = real.type;
      actor.send(real);
    }
    const after = String(actor.getSnapshot().value);
    if (before !== after) covered.add(`${before}|${sent}|${after}`);
    statesSeen.add(after);
    // Each state runs exactly its effect: start while starting, watch while running, stop while stopping.
    const expectedEffect = EFFECT_OF[after];
    expect([...running], `effects in ${after}`).toEqual(expectedEffect ? [expectedEffect] : []);
    states.push(after);
  }
  actor.stop();
  return states;
}

const EFFECT_OF: Record<string, string> = { starting: 'start', running: 'watch', stopping: 'stop' };

function toReal(e: ModelEvent, at: number): LifecycleEvent {
  switch (e.type) {
    case 'START':
      return { type: 'child.start' };
    case 'DEPS_READY':
      return { type: 'child.dependencies_ready' };
    case 'READY':
      return { type: 'child.ready', at };
    case 'START_FAILED':
      return { type: 'child.start_failed', at, error: 'boom', random: 0.5 };
    case 'EXIT_ERROR':
      return { type: 'child.exited', at, reason: 'error', error: 'crash', random: 0.5 };
    case 'EXIT_NORMAL':
      return { type: 'child.exited', at, reason: 'normal', random: 0.5 };
    case 'STOP':
      return { type: 'child.stop' };
    case 'STOPPED':
      return { type: 'child.stopped' };
    case 'RESTART':
      return { type: 'child.restart' };
    default:
      throw new Error(`no real event for ${e.type}`);
  }
}

describe('daemon lifecycle machine (model-based)', () => {
  for (const type of ['permanent', 'transient', 'temporary'] as const) {
    it(`agrees with the model on every path, ${type} restarts`, () => {
      const paths = getShortestPaths(model, { events: EVENTS, input: { type } });
      let replayed = 0;
      for (const path of paths) {
        const prefix = path.steps
          .map((s) => s.event)
          .filter((e) => (e.type as string) !== 'xstate.init') as ModelEvent[];
        for (const next of EVENTS) {
          const events = [...prefix, next];
          const expected: string[] = [];
          const modelActor = createActor(model, { input: { type } });
          modelActor.start();
          for (const e of events) {
            modelActor.send(e);
            expected.push(String(modelActor.getSnapshot().value));
          }
          expect(replay(type, events), `${type}: ${events.map((e) => e.type).join(' ')}`).toEqual(
            expected,
          );
          replayed++;
        }
      }
      expect(replayed).toBeGreaterThan(50);
    });
  }

  afterAll(() => {
    const all = allTransitions();
    const missing = [...all].filter((t) => !covered.has(t));
    const states = Object.keys(daemonLifecycleMachine.root.states);
    console.log(
      `daemon lifecycle coverage: states ${states.filter((s) => statesSeen.has(s)).length}/${states.length}, transitions ${all.size - missing.length}/${all.size}`,
    );
    expect(missing, 'transitions no path took').toEqual([]);
    expect(states.filter((s) => !statesSeen.has(s))).toEqual([]);
  });
});
