/**
 * FEEDBACK_LOOP (the original's FeedbackLoopController): TRAINING_COMPLETED -> request an
 * evaluation of the new model; MODEL_PROMOTED -> update the training parameters of its config
 * (the learning rate decays with each promotion) and announce them.
 *
 * It also plays the guide's EvaluationFeedbackHandler, which applies the ImprovementOptimizer's
 * tuning to the next training and gauntlet: HYPERPARAMETER_UPDATED `learning_rate_multiplier`
 * scales the config's learning rate (announced again as `learning_rate`, which TRAINING_TRIGGER
 * passes to the training), and ADAPTIVE_PARAMS_CHANGED `evaluation_games_multiplier` scales the
 * games of its next EVALUATION_REQUESTED. Its own `learning_rate` announcements, heard back, and
 * parameters it does not apply change nothing.
 */

import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { modelIdOf } from '../model/model-id.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const FEEDBACK_LOOP_SUBSCRIBES = subscriptions(
  'TRAINING_COMPLETED',
  'MODEL_PROMOTED',
  'TRAINING_EARLY_STOPPED',
  'HYPERPARAMETER_UPDATED',
  'ADAPTIVE_PARAMS_CHANGED',
);

/** The multiplier of the learning rate the optimizer tunes. */
const LR_MULTIPLIER = 'learning_rate_multiplier';
const GAMES_MULTIPLIER = 'evaluation_games_multiplier';

export interface FeedbackLoopInput {
  /** Games per evaluation; 200. */
  readonly evaluationGames?: number;
  /** Learning rate of a config before its first promotion; 0.001. */
  readonly initialLearningRate?: number;
  /** Multiplied into the learning rate at each promotion; 0.9. */
  readonly decay?: number;
}

interface Ctx {
  readonly evaluationGames: number;
  readonly initialLearningRate: number;
  readonly decay: number;
  /** Config -> its learning rate before the optimizer's multiplier. */
  readonly learningRates: Readonly<Record<string, number>>;
  /** Config -> the optimizer's multipliers in effect (1 when absent). */
  readonly lrMultipliers: Readonly<Record<string, number>>;
  readonly gamesMultipliers: Readonly<Record<string, number>>;
  readonly evaluationsRequested: number;
  readonly failedTrainings: number;
  readonly earlyStops: number;
}

/**
 * Says the config's learning rate as the next training will use it (its base times the
 * optimizer's multiplier), and keeps both.
 */
function announce(
  enqueue: {
    emit: (e: Emitted) => void;
    assign: (a: Partial<Ctx>) => void;
  },
  context: Ctx,
  config: string,
  base: number,
  multipliers: Readonly<Record<string, number>>,
): void {
  const effective = (b: number, m: Readonly<Record<string, number>>) => b * (m[config] ?? 1);
  enqueue.emit({
    type: 'HYPERPARAMETER_UPDATED',
    payload: {
      config_key: config,
      param_name: 'learning_rate',
      old_value: effective(
        context.learningRates[config] ?? context.initialLearningRate,
        context.lrMultipliers,
      ),
      new_value: effective(base, multipliers),
      optimizer: 'feedback_loop',
    },
  });
  enqueue.assign({
    learningRates: { ...context.learningRates, [config]: base },
    lrMultipliers: multipliers,
  });
}

export const feedbackLoopMachine = setup({
  types: {
    context: {} as Ctx,
    events: {} as DaemonMachineEvent<typeof FEEDBACK_LOOP_SUBSCRIBES>,
    emitted: {} as Emitted,
    input: {} as FeedbackLoopInput,
  },
}).createMachine({
  id: 'feedbackLoop',
  context: ({ input }) => ({
    evaluationGames: input.evaluationGames ?? 200,
    initialLearningRate: input.initialLearningRate ?? 0.001,
    decay: input.decay ?? 0.9,
    learningRates: {},
    lrMultipliers: {},
    gamesMultipliers: {},
    evaluationsRequested: 0,
    failedTrainings: 0,
    earlyStops: 0,
  }),
  initial: 'listening',
  states: {
    listening: {
      tags: ['ready'],
      on: {
        TRAINING_COMPLETED: [
          {
            guard: ({ event }) => event.payload.success !== true,
            actions: assign({ failedTrainings: ({ context }) => context.failedTrainings + 1 }),
          },
          {
            guard: ({ event }) =>
              typeof event.payload.model_path !== 'string' ||
              typeof event.payload.config_key !== 'string',
            actions: reject(
              'TRAINING_COMPLETED',
              'TRAINING_COMPLETED has no model_path and config_key to evaluate',
            ),
          },
          {
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const modelPath = event.payload.model_path as string;
                enqueue.emit({
                  type: 'EVALUATION_REQUESTED',
                  payload: {
                    config_key: event.payload.config_key as string,
                    model_path: modelPath,
                    model_id: modelIdOf(modelPath),
                    games: Math.max(
                      1,
                      Math.round(
                        context.evaluationGames *
                          (context.gamesMultipliers[event.payload.config_key as string] ?? 1),
                      ),
                    ),
                  },
                });
              }),
              assign({ evaluationsRequested: ({ context }) => context.evaluationsRequested + 1 }),
            ],
          },
        ],
        MODEL_PROMOTED: [
          {
            guard: ({ event }) => typeof event.payload.config_key !== 'string',
            actions: reject(
              'MODEL_PROMOTED',
              'MODEL_PROMOTED without config_key: no training parameters to update',
            ),
          },
          {
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const config = event.payload.config_key as string;
                const base = context.learningRates[config] ?? context.initialLearningRate;
                announce(enqueue, context, config, base * context.decay, context.lrMultipliers);
              }),
            ],
          },
        ],
        HYPERPARAMETER_UPDATED: {
          guard: ({ event }) =>
            event.payload.param_name === LR_MULTIPLIER &&
            typeof event.payload.new_value === 'number',
          actions: enqueueActions(({ context, event, enqueue }) => {
            const config = event.payload.config_key;
            const base = context.learningRates[config] ?? context.initialLearningRate;
            announce(enqueue, context, config, base, {
              ...context.lrMultipliers,
              [config]: event.payload.new_value as number,
            });
          }),
        },
        ADAPTIVE_PARAMS_CHANGED: {
          guard: ({ event }) => event.payload.params[GAMES_MULTIPLIER] !== undefined,
          actions: assign({
            gamesMultipliers: ({ context, event }) => ({
              ...context.gamesMultipliers,
              [event.payload.config_key]: event.payload.params[GAMES_MULTIPLIER] as number,
            }),
          }),
        },
        TRAINING_EARLY_STOPPED: {
          actions: assign({ earlyStops: ({ context }) => context.earlyStops + 1 }),
        },
      },
    },
  },
});
