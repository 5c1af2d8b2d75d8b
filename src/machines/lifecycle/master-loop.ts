/**
 * The MasterLoop: waits for ALL_CRITICAL_DAEMONS_READY, then runs iterations. Each iteration
 * asks for a selfplay batch per config (SELFPLAY_TARGET_UPDATED, with a correlation id per config
 * and iteration that every event of its chain carries) and ends when every config's chain ended:
 * distributed, rejected, still accumulating data for training, or failed somewhere. It then emits ITERATION_COMPLETE and starts the
 * next, until `iterations` are done (then the machine is done) or forever.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, RESTORED_EVENT, subscriptions } from '../protocol.js';

export interface MasterLoopInput {
  readonly configs: readonly string[];
  /** 0 = forever. */
  readonly iterations: number;
  readonly gamesPerBatch: number;
  /** An iteration whose chains have not all ended by then counts them as timed out; 10 min. */
  readonly iterationTimeoutMs?: number;
}

/** Events that end a config's chain, and the outcome each one means. */
export const CHAIN_ENDS = {
  MODEL_DISTRIBUTION_COMPLETE: 'promoted',
  MODEL_DISTRIBUTION_FAILED: 'distribution_failed',
  PROMOTION_REJECTED: 'rejected',
  PROMOTION_FAILED: 'promotion_failed',
  TRAINING_THRESHOLD_PENDING: 'accumulating',
  EVALUATION_FAILED: 'evaluation_failed',
  TRAINING_FAILED: 'training_failed',
  DATA_SYNC_FAILED: 'sync_failed',
  EXPORT_VALIDATION_FAILED: 'export_failed',
  TASK_FAILED: 'selfplay_failed',
  // A queued batch withdrawn (its config's training paused): the chain ends there.
  TASK_ABANDONED: 'selfplay_abandoned',
} as const;

type ChainEnd = keyof typeof CHAIN_ENDS;

export const MASTER_LOOP_SUBSCRIBES = subscriptions(
  'ALL_CRITICAL_DAEMONS_READY',
  ...(Object.keys(CHAIN_ENDS) as ChainEnd[]),
);

type Ev = DaemonMachineEvent<typeof MASTER_LOOP_SUBSCRIBES>;
/** What it emits: its requests carry the correlation id of their chain. */
type Out = Emitted & { readonly correlationId?: string };
const correlationOf = (event: Ev) => ('envelope' in event ? event.envelope.correlationId : null);

interface Ctx {
  readonly configs: readonly string[];
  readonly iterations: number;
  readonly gamesPerBatch: number;
  readonly iterationTimeoutMs: number;
  readonly iteration: number;
  /** correlation id -> config, for the chains of the current iteration still running. */
  readonly running: Readonly<Record<string, string>>;
  readonly outcomes: Readonly<Record<string, number>>;
}

const correlation = (iteration: number, config: string) => `iteration-${iteration}:${config}`;

export const masterLoopMachine = setup({
  types: { context: {} as Ctx, events: {} as Ev, emitted: {} as Out, input: {} as MasterLoopInput },
  delays: {
    iterationTimeout: ({ context }) => context.iterationTimeoutMs,
  },
  guards: {
    ownsChain: ({ context, event }) => (correlationOf(event) ?? '') in context.running,
    lastChain: ({ context }) => Object.keys(context.running).length === 0,
    moreIterations: ({ context }) =>
      context.iterations === 0 || context.iteration < context.iterations,
  },
  actions: {
    startIteration: enqueueActions(({ context, enqueue }) => {
      const iteration = context.iteration + 1;
      enqueue.assign({
        iteration,
        running: Object.fromEntries(context.configs.map((c) => [correlation(iteration, c), c])),
      });
      for (const config of context.configs) {
        enqueue.emit({
          type: 'SELFPLAY_TARGET_UPDATED',
          payload: {
            config_key: config,
            target_games: context.gamesPerBatch,
            reason: `iteration ${iteration}`,
          },
          correlationId: correlation(iteration, config),
        });
      }
    }),
    endChain: assign(({ context, event }) => {
      // Only after the ownsChain guard: the event is a chain end of a running chain.
      const id = correlationOf(event) as string;
      const { [id]: _ended, ...running } = context.running;
      const outcome = CHAIN_ENDS[event.type as ChainEnd] ?? 'unknown';
      return {
        running,
        outcomes: { ...context.outcomes, [outcome]: (context.outcomes[outcome] ?? 0) + 1 },
      };
    }),
    timeOutChains: assign(({ context }) => ({
      running: {},
      outcomes: {
        ...context.outcomes,
        timed_out: (context.outcomes.timed_out ?? 0) + Object.keys(context.running).length,
      },
    })),
    announceIteration: enqueueActions(({ context, enqueue }) =>
      enqueue.emit({
        type: 'ITERATION_COMPLETE',
        payload: { iteration: context.iteration, success: true },
      }),
    ),
  },
}).createMachine({
  id: 'masterLoop',
  context: ({ input }) => ({
    configs: input.configs,
    iterations: input.iterations,
    gamesPerBatch: input.gamesPerBatch,
    iterationTimeoutMs: input.iterationTimeoutMs ?? 600_000,
    iteration: 0,
    running: {},
    outcomes: {},
  }),
  initial: 'waitingForDaemons',
  states: {
    waitingForDaemons: {
      tags: ['ready'],
      on: { ALL_CRITICAL_DAEMONS_READY: { target: 'iterating', actions: 'startIteration' } },
    },
    // One iteration: its timer runs from entry, however many chains end meanwhile.
    iterating: {
      tags: ['ready'],
      after: { iterationTimeout: { target: 'deciding', actions: 'timeOutChains' } },
      on: { [RESTORED_EVENT]: { target: 'iterating', reenter: true } },
      initial: 'waiting',
      states: {
        waiting: {
          always: { guard: 'lastChain', target: '#masterLoop.deciding' },
          on: Object.fromEntries(
            Object.keys(CHAIN_ENDS).map((type) => [
              type,
              { guard: 'ownsChain', actions: 'endChain' },
            ]),
          ),
        },
      },
    },
    deciding: {
      always: [
        {
          guard: 'moreIterations',
          target: 'iterating',
          actions: ['announceIteration', 'startIteration'],
        },
        { target: 'finished', actions: 'announceIteration' },
      ],
    },
    finished: { type: 'final' },
  },
  output: ({ context }) => ({ iterations: context.iteration, outcomes: context.outcomes }),
});
