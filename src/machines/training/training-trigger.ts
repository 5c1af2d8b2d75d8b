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
 *
 * TRAINING_PAUSED (the DaemonManager, on a critical regression) stops requests for its config:
 * new games are still counted and answered TRAINING_THRESHOLD_PENDING, until TRAINING_RESUMED;
 * the next new games after it then request the training the count has earned.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, isConfigKey, reject } from '../emitted.js';
import { type CatalogEvent, type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const TRAINING_TRIGGER_SUBSCRIBES = subscriptions(
  'NEW_GAMES_AVAILABLE',
  'HYPERPARAMETER_UPDATED',
  'TRAINING_PAUSED',
  'TRAINING_RESUMED',
);

type NewGames = CatalogEvent<'NEW_GAMES_AVAILABLE'>;

const newGames = (event: NewGames) => event.payload.new_games;
/** Only after the `noConfig` guard: a config key is then known to be there. */
const configOf = (event: NewGames) => event.payload.config_key as string;

export const trainingTriggerMachine = setup({
  types: {
    context: {} as {
      threshold: number;
      pending: Readonly<Record<string, number>>;
      hyperparameters: Readonly<Record<string, Readonly<Record<string, number>>>>;
      triggered: number;
      /** Config -> why its training is paused. */
      paused: Readonly<Record<string, string>>;
    },
    events: {} as DaemonMachineEvent<typeof TRAINING_TRIGGER_SUBSCRIBES>,
    emitted: {} as Emitted,
    input: {} as { threshold?: number },
  },
  guards: {
    noConfig: ({ event }) =>
      event.type === 'NEW_GAMES_AVAILABLE' && !isConfigKey(event.payload.config_key),
    // The schema says a whole number; a negative count is still nonsense.
    noGameCount: ({ event }) => event.type === 'NEW_GAMES_AVAILABLE' && newGames(event) < 0,
    // The catalog leaves new_value open (the original sends numbers and strings); a learning rate
    // is a number.
    badParameter: ({ event }) =>
      event.type === 'HYPERPARAMETER_UPDATED' && typeof event.payload.new_value !== 'number',
    reachesThreshold: ({ context, event }) =>
      event.type === 'NEW_GAMES_AVAILABLE' &&
      context.paused[configOf(event)] === undefined &&
      (context.pending[configOf(event)] ?? 0) + newGames(event) >= context.threshold,
  },
}).createMachine({
  id: 'trainingTrigger',
  context: ({ input }) => ({
    threshold: input.threshold ?? 500,
    pending: {},
    hyperparameters: {},
    triggered: 0,
    paused: {},
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
                });
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
                }),
              ),
            ],
          },
        ],
        TRAINING_PAUSED: {
          actions: assign({
            paused: ({ context, event }) => ({
              ...context.paused,
              [event.payload.config_key]: event.payload.reason,
            }),
          }),
        },
        TRAINING_RESUMED: {
          actions: assign({
            paused: ({ context, event }) => {
              const { [event.payload.config_key]: _, ...rest } = context.paused;
              return rest;
            },
          }),
        },
        HYPERPARAMETER_UPDATED: [
          {
            guard: 'badParameter',
            actions: reject(
              'HYPERPARAMETER_UPDATED',
              'HYPERPARAMETER_UPDATED without a numeric new_value',
            ),
          },
          {
            actions: assign({
              hyperparameters: ({ context, event }) => {
                const p = event.payload;
                return {
                  ...context.hyperparameters,
                  [p.config_key]: {
                    ...context.hyperparameters[p.config_key],
                    [p.param_name]: p.new_value as number,
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
