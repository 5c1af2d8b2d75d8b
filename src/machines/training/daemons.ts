/** The Training Pipeline section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { FEEDBACK_LOOP_SUBSCRIBES, feedbackLoopMachine } from './feedback-loop.js';
import { createTrainingCoordinatorMachine } from './training-coordinator.js';
import { TRAINING_TRIGGER_SUBSCRIBES, trainingTriggerMachine } from './training-trigger.js';

export function feedbackLoopDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'FEEDBACK_LOOP',
    durable: ctx.durable,
    machine: feedbackLoopMachine,
    machineVersion: ctx.machineVersion,
    input: ctx.feedback ?? {},
    subscribes: FEEDBACK_LOOP_SUBSCRIBES,
    emits: ['EVALUATION_REQUESTED', 'HYPERPARAMETER_UPDATED'],
  };
}

export function trainingTriggerDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'TRAINING_TRIGGER',
    machine: trainingTriggerMachine,
    machineVersion: ctx.machineVersion,
    input: { threshold: ctx.trainingThreshold ?? 500 },
    subscribes: TRAINING_TRIGGER_SUBSCRIBES,
    emits: ['TRAINING_THRESHOLD_REACHED', 'TRAINING_THRESHOLD_PENDING'],
  };
}

/** The original's TrainingCoordinator runs in its continuous training loop daemon. */
export function trainingCoordinatorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'CONTINUOUS_TRAINING_LOOP',
    durable: ctx.durable,
    machine: createTrainingCoordinatorMachine(ctx.epochs ?? 10, ctx.cluster).provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: ['TRAINING_THRESHOLD_REACHED'],
    emits: ['TRAINING_STARTED', 'TRAINING_COMPLETED', 'TRAINING_FAILED', 'TRAINING_EARLY_STOPPED'],
  };
}
