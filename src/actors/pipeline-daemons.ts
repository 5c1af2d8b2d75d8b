/**
 * The training pipeline's daemons as specs, with the worker provided to the machines that do
 * work. So far the model promotion flow of the guide: EVENT_ROUTER, FEEDBACK_LOOP, EVALUATION,
 * AUTO_PROMOTION and MODEL_DISTRIBUTION (issue 5 adds the data and training daemons).
 */
import { type AutoPromotionInput, autoPromotionMachine } from '../machines/auto-promotion.js';
import { evaluationMachine } from '../machines/evaluation.js';
import { eventRouterMachine } from '../machines/event-router.js';
import { type FeedbackLoopInput, feedbackLoopMachine } from '../machines/feedback-loop.js';
import { createModelDistributionMachine } from '../machines/model-distribution.js';
import type { Worker } from '../workers/worker.js';
import type { DaemonSpec } from './daemon-spec.js';
import { workerActor } from './worker-actor.js';

export interface PipelineDaemonOptions {
  readonly worker: Worker;
  /** Nodes that promoted models are distributed to; ['localhost']. */
  readonly targetHosts?: readonly string[];
  readonly feedback?: FeedbackLoopInput;
  readonly promotion?: AutoPromotionInput;
}

/**
 * @example
 * const daemons = createPipelineDaemons({ worker: createSimulatedWorker({ seed: 1 }) });
 * const runtime = createRuntime({ profile: daemons.map((d) => d.type), daemons, dbPath: false });
 */
export function createPipelineDaemons(options: PipelineDaemonOptions): DaemonSpec[] {
  const runJob = workerActor(options.worker);
  return [
    {
      type: 'EVENT_ROUTER',
      machine: eventRouterMachine,
      machineVersion: '1',
      subscribes: [],
      emits: [],
    },
    {
      type: 'FEEDBACK_LOOP',
      machine: feedbackLoopMachine,
      machineVersion: '1',
      input: options.feedback ?? {},
      subscribes: ['TRAINING_COMPLETED', 'MODEL_PROMOTED', 'TRAINING_EARLY_STOPPED'],
      emits: ['EVALUATION_REQUESTED', 'HYPERPARAMETER_UPDATED'],
    },
    {
      type: 'EVALUATION',
      machine: evaluationMachine.provide({ actors: { runJob } }),
      machineVersion: '1',
      subscribes: ['EVALUATION_REQUESTED'],
      emits: [
        'EVALUATION_STARTED',
        'EVALUATION_PROGRESS',
        'EVALUATION_COMPLETED',
        'EVALUATION_FAILED',
      ],
    },
    {
      type: 'AUTO_PROMOTION',
      machine: autoPromotionMachine,
      machineVersion: '1',
      input: options.promotion ?? {},
      subscribes: ['EVALUATION_COMPLETED'],
      emits: ['MODEL_PROMOTED', 'PROMOTION_REJECTED', 'PROMOTION_FAILED'],
    },
    {
      type: 'MODEL_DISTRIBUTION',
      machine: createModelDistributionMachine(options.targetHosts ?? ['localhost']).provide({
        actors: { runJob },
      }),
      machineVersion: '1',
      subscribes: ['MODEL_PROMOTED'],
      emits: [
        'MODEL_DISTRIBUTION_STARTED',
        'MODEL_DISTRIBUTION_COMPLETE',
        'MODEL_DISTRIBUTION_FAILED',
      ],
    },
  ];
}
