/**
 * TRAINING_TRIGGER: NEW_GAMES_AVAILABLE -> count new games per config -> once a config has
 * `threshold` of them, TRAINING_THRESHOLD_REACHED and the count starts again; below it,
 * TRAINING_THRESHOLD_PENDING, so that a loop waiting on this data learns that no training follows
 * yet (rather than waiting for its timeout). A payload without a config or a game count is a
 * named rejection: counting it under a made-up key would hide it.
 *
 * HYPERPARAMETER_UPDATED (the FEEDBACK_LOOP's learning rate after a promotion) is kept per config
 * and sent with the config's next TRAINING_THRESHOLD_REACHED as `hyperparameters`, so that the
 * next training run uses it.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, isConfigKey, reject } from './emitted.js';

type Ev = { type: string; payload: Record<string, unknown> };

const newGames = (event: Ev) => event.payload.new_games as number;
const configOf = (event: Ev) => event.payload.config_key as string;

export const trainingTriggerMachine = setup({
  types: {
    context: {} as {
      threshold: number;
      pending: Readonly<Record<string, number>>;
      hyperparameters: Readonly<Record<string, Readonly<Record<string, number>>>>;
      triggered: number;
    },
    events: {} as Ev,
    input: {} as { threshold?: number },
  },
  guards: {
    noConfig: ({ event }) => !isConfigKey(event.payload.config_key),
    noGameCount: ({ event }) => !Number.isInteger(event.payload.new_games) || newGames(event) < 0,
    badParameter: ({ event }) =>
      typeof event.payload.config_key !== 'string' ||
      typeof event.payload.param_name !== 'string' ||
      typeof event.payload.new_value !== 'number',
    reachesThreshold: ({ context, event }) =>
      (context.pending[configOf(event)] ?? 0) + newGames(event) >= context.threshold,
  },
}).createMachine({
  id: 'trainingTrigger',
  context: ({ input }) => ({
    threshold: input.threshold ?? 500,
    pending: {},
    hyperparameters: {},
    triggered: 0,
  }),
  initial: 'collecting',
  states: {
    collecting: {
      tags: ['ready'],
      on: {
        NEW_GAMES_AVAILABLE: [
          {
            guard: 'noConfig',
            actions: reject('NEW_GAMES_AVAILABLE', 'NEW_GAMES_AVAILABLE without config_key'),
          },
          {
            guard: 'noGameCount',
            actions: reject(
              'NEW_GAMES_AVAILABLE',
              'NEW_GAMES_AVAILABLE without a whole, non-negative new_games',
            ),
          },
          {
            guard: 'reachesThreshold',
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const config = configOf(event);
                const hyperparameters = context.hyperparameters[config];
                enqueue.emit({
                  type: 'TRAINING_THRESHOLD_REACHED',
                  payload: {
                    config_key: config,
                    games: (context.pending[config] ?? 0) + newGames(event),
                    ...(hyperparameters ? { hyperparameters } : {}),
                  },
                } satisfies Emitted as never);
              }),
              assign(({ context, event }) => ({
                pending: { ...context.pending, [configOf(event)]: 0 },
                triggered: context.triggered + 1,
              })),
            ],
          },
          {
            actions: [
              assign({
                pending: ({ context, event }) => ({
                  ...context.pending,
                  [configOf(event)]: (context.pending[configOf(event)] ?? 0) + newGames(event),
                }),
              }),
              enqueueActions(({ context, event, enqueue }) =>
                enqueue.emit({
                  type: 'TRAINING_THRESHOLD_PENDING',
                  payload: {
                    config_key: configOf(event),
                    games: context.pending[configOf(event)] ?? 0,
                    threshold: context.threshold,
                  },
                } satisfies Emitted as never),
              ),
            ],
          },
        ],
        HYPERPARAMETER_UPDATED: [
          {
            guard: 'badParameter',
            actions: reject(
              'HYPERPARAMETER_UPDATED',
              'HYPERPARAMETER_UPDATED without config_key, param_name and a numeric new_value',
            ),
          },
          {
            actions: assign({
              hyperparameters: ({ context, event }) => {
                const p = event.payload as {
                  config_key: string;
                  param_name: string;
                  new_value: number;
                };
                return {
                  ...context.hyperparameters,
                  [p.config_key]: {
                    ...context.hyperparameters[p.config_key],
                    [p.param_name]: p.new_value,
                  },
                };
              },
            }),
          },
        ],
      },
    },
  },
});
