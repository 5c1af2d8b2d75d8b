/**
 * SELFPLAY_ORCHESTRATOR (the guide's SelfplayOrchestrator): the allocation of selfplay across
 * configs, and the selfplay work that was cancelled.
 *
 * - CURRICULUM_REBALANCED ("update priorities"): each config's share of selfplay is its curriculum
 *   weight over the sum of the weights (the SelfplayScheduler applies the same weights to its
 *   batch sizes); SELFPLAY_ALLOCATION_UPDATED says the new shares, which the live view shows.
 * - TASK_ABANDONED of selfplay ("track cancelled jobs"): batches and games abandoned per config,
 *   in its snapshot. One that does not say its config is rejected: it cannot be tracked.
 *
 * (The original's orchestrator also tracked spawned and finished tasks and per-node backpressure;
 * the job daemons keep their own queues here.)
 */
import { enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const SELFPLAY_ORCHESTRATOR_SUBSCRIBES = subscriptions(
  'CURRICULUM_REBALANCED',
  'TASK_ABANDONED',
);

/** Each config's share of the total weight, to 0.001. */
export function allocationOf(weights: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  if (total <= 0) return {};
  return Object.fromEntries(
    Object.keys(weights)
      .sort()
      .map((c) => [c, Math.round(((weights[c] as number) / total) * 1000) / 1000]),
  );
}

export interface SelfplayOrchestratorContext {
  /** Config -> its share of selfplay. */
  readonly allocation: Readonly<Record<string, number>>;
  /** Config -> the selfplay batches and games abandoned. */
  readonly abandoned: Readonly<
    Record<string, { readonly batches: number; readonly games: number }>
  >;
}

export const selfplayOrchestratorMachine = setup({
  types: {
    context: {} as SelfplayOrchestratorContext,
    events: {} as DaemonMachineEvent<typeof SELFPLAY_ORCHESTRATOR_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  guards: {
    notSelfplay: ({ event }) =>
      event.type === 'TASK_ABANDONED' &&
      event.payload.task_type !== undefined &&
      event.payload.task_type !== 'selfplay',
    noConfig: ({ event }) =>
      event.type === 'TASK_ABANDONED' && event.payload.config_key === undefined,
  },
}).createMachine({
  id: 'selfplayOrchestrator',
  context: { allocation: {}, abandoned: {} },
  initial: 'allocating',
  states: {
    allocating: {
      tags: ['ready'],
      on: {
        CURRICULUM_REBALANCED: {
          actions: enqueueActions(({ event, enqueue }) => {
            const allocation = allocationOf(event.payload.new_weights);
            enqueue.assign({ allocation });
            enqueue.emit({
              type: 'SELFPLAY_ALLOCATION_UPDATED',
              payload: {
                config_key: event.payload.config_key,
                allocation_weights: allocation,
                reason: `curriculum rebalanced (${event.payload.trigger ?? 'no trigger given'})`,
              },
            });
          }),
        },
        TASK_ABANDONED: [
          // Another kind of work abandoned is not selfplay's allocation: not this daemon's.
          { guard: 'notSelfplay' },
          {
            guard: 'noConfig',
            actions: reject('TASK_ABANDONED', 'TASK_ABANDONED of selfplay without config_key'),
          },
          {
            actions: enqueueActions(({ context, event, enqueue }) => {
              if (event.type !== 'TASK_ABANDONED') return;
              const config = event.payload.config_key as string; // the noConfig guard came first
              const before = context.abandoned[config] ?? { batches: 0, games: 0 };
              enqueue.assign({
                abandoned: {
                  ...context.abandoned,
                  [config]: {
                    batches: before.batches + 1,
                    games: before.games + (event.payload.games ?? 0),
                  },
                },
              });
            }),
          },
        ],
      },
    },
  },
});
