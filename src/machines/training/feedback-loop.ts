/**
 * FEEDBACK_LOOP (the original's FeedbackLoopController): TRAINING_COMPLETED -> request an
 * evaluation of the new model; MODEL_PROMOTED -> update the training parameters of its config
 * (the learning rate decays with each promotion) and announce them.
 */

import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { modelIdOf } from '../model/model-id.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const FEEDBACK_LOOP_SUBSCRIBES = subscriptions(
  'TRAINING_COMPLETED',
  'MODEL_PROMOTED',
  'TRAINING_EARLY_STOPPED',
);

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
  readonly learningRates: Readonly<Record<string, number>>;
  readonly evaluationsRequested: number;
  readonly failedTrainings: number;
  readonly earlyStops: number;
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
                    games: context.evaluationGames,
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
                const old = context.learningRates[config] ?? context.initialLearningRate;
                enqueue.emit({
                  type: 'HYPERPARAMETER_UPDATED',
                  payload: {
                    config_key: config,
                    param_name: 'learning_rate',
                    old_value: old,
                    new_value: old * context.decay,
                    optimizer: 'feedback_loop',
                  },
                });
              }),
              assign({
                learningRates: ({ context, event }) => {
                  const config = event.payload.config_key as string;
                  return {
                    ...context.learningRates,
                    [config]:
                      (context.learningRates[config] ?? context.initialLearningRate) *
                      context.decay,
                  };
                },
              }),
            ],
          },
        ],
        TRAINING_EARLY_STOPPED: {
          actions: assign({ earlyStops: ({ context }) => context.earlyStops + 1 }),
        },
      },
    },
  },
});
