/**
 * Model-based test of the MasterLoop: two configs, two iterations, on a SimulatedClock. The model
 * tracks the iteration and which config's chain is still running; xstate/graph walks its paths
 * and the real machine must agree on state, iteration and what it emits at every step, and take
 * each of its transitions (each kind of chain end included).
 */
import { assign, setup } from 'xstate';
import { CHAIN_ENDS, masterLoopMachine } from '../../src/machines/lifecycle/master-loop.js';
import { describeModelBased, type ModelBasedSpec } from '../support/model-based.js';

const ITERATIONS = 2;
const TIMEOUT_MS = 1_000;
type Step = {
  type: 'READY' | 'END_A' | 'END_B' | 'STALE_END' | 'TIMEOUT' | 'RESTORED';
};
const STEPS: Step[] = (
  ['READY', 'END_A', 'END_B', 'STALE_END', 'TIMEOUT', 'RESTORED'] as const
).map((type) => ({ type }));

type Ctx = { iteration: number; a: boolean; b: boolean; out: string[] };
const nothing = { actions: assign<Ctx, Step, undefined, Step, never>({ out: [] }) };
const model = setup({ types: { context: {} as Ctx, events: {} as Step } }).createMachine({
  context: { iteration: 0, a: false, b: false, out: [] },
  initial: 'waitingForDaemons',
  on: {
    READY: nothing,
    END_A: nothing,
    END_B: nothing,
    STALE_END: nothing,
    TIMEOUT: nothing,
    RESTORED: nothing,
  },
  states: {
    waitingForDaemons: {
      on: {
        READY: {
          target: 'iterating',
          actions: assign({
            iteration: 1,
            a: true,
            b: true,
            out: ['SELFPLAY_TARGET_UPDATED:a', 'SELFPLAY_TARGET_UPDATED:b'],
          }),
        },
      },
    },
    iterating: {
      always: [
        {
          guard: ({ context }) => !context.a && !context.b && context.iteration < ITERATIONS,
          target: 'iterating',
          actions: assign({
            iteration: ({ context }) => context.iteration + 1,
            a: true,
            b: true,
            out: ({ context }) => [
              ...context.out,
              'ITERATION_COMPLETE:-',
              'SELFPLAY_TARGET_UPDATED:a',
              'SELFPLAY_TARGET_UPDATED:b',
            ],
          }),
        },
        {
          guard: ({ context }) => !context.a && !context.b,
          target: 'finished',
          actions: assign({ out: ({ context }) => [...context.out, 'ITERATION_COMPLETE:-'] }),
        },
      ],
      on: {
        END_A: {
          guard: ({ context }) => context.a,
          actions: assign({ a: false, out: [] }),
        },
        END_B: {
          guard: ({ context }) => context.b,
          actions: assign({ b: false, out: [] }),
        },
        TIMEOUT: { actions: assign({ a: false, b: false, out: [] }) },
      },
    },
    finished: {},
  },
});

const END_TYPES = Object.keys(CHAIN_ENDS);
let ends = 0;
const spec: ModelBasedSpec<Step> = {
  model,
  events: STEPS,
  machine: masterLoopMachine,
  input: {
    configs: ['a', 'b'],
    iterations: ITERATIONS,
    gamesPerBatch: 10,
    iterationTimeoutMs: TIMEOUT_MS,
  },
  apply(step, { actor, clock }) {
    // A finished MasterLoop is a stopped actor; the model ignores what follows, and so does it.
    if (actor.getSnapshot().status === 'done') return;
    const iteration = actor.getSnapshot().context.iteration as number;
    const end = (config: string, correlationId: string) =>
      actor.send({
        // Every kind of chain end in turn across the replays (the counter is not reset), so that
        // each of the machine's transitions is taken.
        type: END_TYPES[ends++ % END_TYPES.length],
        payload: { config_key: config },
        envelope: { correlationId },
      });
    switch (step.type) {
      case 'READY':
        actor.send({ type: 'ALL_CRITICAL_DAEMONS_READY', payload: {} });
        return;
      case 'END_A':
        return end('a', `iteration-${iteration}:a`);
      case 'END_B':
        return end('b', `iteration-${iteration}:b`);
      case 'STALE_END':
        return end('a', `iteration-${iteration - 1}:a`);
      case 'TIMEOUT':
        clock.increment(TIMEOUT_MS);
        return;
      case 'RESTORED':
        actor.send({ type: 'daemon.restored' });
        return;
    }
  },
  observe: ({ actor, takeEmitted }) => {
    const snapshot = actor.getSnapshot();
    return {
      state: typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0],
      iteration: snapshot.context.iteration,
      out: takeEmitted().map(
        (e) => `${e.type}:${(e.payload as { config_key?: string }).config_key ?? '-'}`,
      ),
    };
  },
  predict: (m) => ({ state: m.value, iteration: m.context.iteration, out: m.context.out }),
};

describeModelBased('MASTER_LOOP', spec, 30);
