/**
 * TRAINING_TRIGGER: NEW_GAMES_AVAILABLE -> count new games per config -> once a config has
 * `threshold` of them, TRAINING_THRESHOLD_REACHED and the count starts again.
 */
import { assign, enqueueActions, setup } from 'xstate';

type Ev = { type: string; payload: Record<string, unknown> };

export const trainingTriggerMachine = setup({
  types: {
    context: {} as {
      threshold: number;
      pending: Readonly<Record<string, number>>;
      triggered: number;
    },
    events: {} as Ev,
    input: {} as { threshold?: number },
  },
  guards: {
    noConfig: ({ event }) => typeof event.payload.config_key !== 'string',
    reachesThreshold: ({ context, event }) =>
      (context.pending[event.payload.config_key as string] ?? 0) +
        Number(event.payload.new_games) >=
      context.threshold,
  },
}).createMachine({
  id: 'trainingTrigger',
  context: ({ input }) => ({ threshold: input.threshold ?? 500, pending: {}, triggered: 0 }),
  initial: 'collecting',
  states: {
    collecting: {
      tags: ['ready'],
      on: {
        NEW_GAMES_AVAILABLE: [
          {
            guard: 'noConfig',
            actions: enqueueActions(({ enqueue }) =>
              enqueue.emit({
                type: 'daemon.rejected',
                reason: 'NEW_GAMES_AVAILABLE without config_key',
                event: 'NEW_GAMES_AVAILABLE',
              } as never),
            ),
          },
          {
            guard: 'reachesThreshold',
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const config = event.payload.config_key as string;
                enqueue.emit({
                  type: 'TRAINING_THRESHOLD_REACHED',
                  payload: {
                    config_key: config,
                    games: (context.pending[config] ?? 0) + Number(event.payload.new_games),
                  },
                } as never);
              }),
              assign(({ context, event }) => ({
                pending: { ...context.pending, [event.payload.config_key as string]: 0 },
                triggered: context.triggered + 1,
              })),
            ],
          },
          {
            actions: assign({
              pending: ({ context, event }) => {
                const config = event.payload.config_key as string;
                return {
                  ...context.pending,
                  [config]: (context.pending[config] ?? 0) + Number(event.payload.new_games),
                };
              },
            }),
          },
        ],
      },
    },
  },
});
