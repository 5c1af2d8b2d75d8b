/**
 * The training pipeline's daemons as specs, with the worker provided to the machines that do
 * work: the three flows of the guide (data sync, training completion, model promotion), and
 * optionally the MasterLoop that drives iterations.
 */

import type { DaemonSpec } from '../actors/daemon-spec.js';
import { PROFILES } from '../actors/daemon-types.js';
import { workerActor } from '../actors/worker-actor.js';
import { InvalidOptionError } from '../errors.js';
import { evaluationMachine } from '../machines/evaluation/evaluation.js';
import { eventRouterMachine } from '../machines/lifecycle/event-router.js';
import {
  MASTER_LOOP_SUBSCRIBES,
  type MasterLoopInput,
  masterLoopMachine,
} from '../machines/lifecycle/master-loop.js';
import {
  AUTO_PROMOTION_SUBSCRIBES,
  type AutoPromotionInput,
  autoPromotionMachine,
} from '../machines/model/auto-promotion.js';
import { createModelDistributionMachine } from '../machines/model/model-distribution.js';
import { createAutoSyncMachine } from '../machines/sync/auto-sync.js';
import { createDataPipelineMachine } from '../machines/sync/data-pipeline.js';
import { selfplayCoordinatorMachine } from '../machines/sync/selfplay-coordinator.js';
import {
  FEEDBACK_LOOP_SUBSCRIBES,
  type FeedbackLoopInput,
  feedbackLoopMachine,
} from '../machines/training/feedback-loop.js';
import { createTrainingCoordinatorMachine } from '../machines/training/training-coordinator.js';
import {
  TRAINING_TRIGGER_SUBSCRIBES,
  trainingTriggerMachine,
} from '../machines/training/training-trigger.js';
import type { Worker } from '../workers/worker.js';

export interface PipelineDaemonOptions {
  readonly worker: Worker;
  /** Nodes that promoted models are distributed to, and selfplay data is synced to; ['localhost']. */
  readonly targetHosts?: readonly string[];
  readonly feedback?: FeedbackLoopInput;
  readonly promotion?: AutoPromotionInput;
  /** New games per config that trigger training; 500. */
  readonly trainingThreshold?: number;
  /** Epochs per training run; 10. */
  readonly epochs?: number;
  /** This host, where selfplay data is produced; 'localhost'. */
  readonly host?: string;
  /** Adds the MasterLoop (type MASTER_LOOP, critical) that runs iterations. */
  readonly masterLoop?: MasterLoopInput;
  /**
   * FEEDBACK_LOOP and CONTINUOUS_TRAINING_LOOP, whose every subscription crosses processes, read
   * them from the event log with their own cursor: a request that arrives while one restarts (or
   * before a training node's process is up again) waits for it. Needs a runtime with a dbPath.
   */
  readonly durable?: boolean;
  /**
   * Set when the runtime is in a cluster: the training daemon takes only the requests the leader
   * addressed to this host, and sync and distribution go to the hosts present (presence) instead
   * of `targetHosts`.
   */
  readonly cluster?: { readonly host: string };
}

export type PipelineProfile = 'standalone' | 'coordinator' | 'training_node';

const ALL_PIPELINE_DAEMONS = [
  'EVENT_ROUTER',
  'FEEDBACK_LOOP',
  'SELFPLAY_COORDINATOR',
  'AUTO_SYNC',
  'DATA_PIPELINE',
  'TRAINING_TRIGGER',
  'CONTINUOUS_TRAINING_LOOP',
  'EVALUATION',
  'AUTO_PROMOTION',
  'MODEL_DISTRIBUTION',
  'MASTER_LOOP',
] as const;

/**
 * Stored with each daemon's snapshot; a snapshot of another version is not restored. Version 2
 * (session 2): the job daemons' context has `notes`, TRAINING_TRIGGER keeps hyperparameters, the
 * MasterLoop ends chains on TRAINING_THRESHOLD_PENDING. Version 3 (session 4): sync and
 * distribution keep the hosts present in their notes, requests carry their targets. Bump it when a machine's states or
 * context change shape.
 */
const MACHINE_VERSION = '3';

/**
 * Where the pipeline daemons run, by the profile names of `ringrift-coord run --profile`.
 * `standalone` runs them all in one process. Split across processes that share one event log,
 * the training node runs the training and the coordinator everything else: the original
 * registry's hard dependencies tie the rest together (AUTO_SYNC needs DATA_PIPELINE and
 * FEEDBACK_LOOP; MODEL_DISTRIBUTION needs EVALUATION and AUTO_PROMOTION), and training's events
 * are the ones that cross processes (TRAINING_THRESHOLD_REACHED in; TRAINING_STARTED, _COMPLETED,
 * _FAILED and _EARLY_STOPPED out).
 */
export const PIPELINE_PROFILES: Readonly<Record<PipelineProfile, readonly string[]>> = {
  standalone: ALL_PIPELINE_DAEMONS,
  coordinator: ALL_PIPELINE_DAEMONS.filter((t) => t !== 'CONTINUOUS_TRAINING_LOOP'),
  training_node: ['EVENT_ROUTER', 'CONTINUOUS_TRAINING_LOOP'],
};

/** @throws {InvalidOptionError} naming the known profiles. */
export function pipelineProfile(name: string): PipelineProfile {
  if (!Object.hasOwn(PIPELINE_PROFILES, name))
    throw new InvalidOptionError(
      '--profile',
      `one of ${Object.keys(PIPELINE_PROFILES).join(', ')}`,
      name,
    );
  return name as PipelineProfile;
}

/**
 * The daemons of the original's profile of that name that this runtime has no machine for: what
 * a host running that profile here does not get.
 */
export function unimplementedOfOriginalProfile(profile: PipelineProfile): readonly string[] {
  const original = PROFILES[profile];
  if (!original || original === 'all') return [];
  const implemented = new Set<string>(PIPELINE_PROFILES.standalone);
  return original.filter((t) => !implemented.has(t));
}

/**
 * @example
 * const daemons = createPipelineDaemons({ worker: createSimulatedWorker({ seed: 1 }) });
 * const runtime = createRuntime({ profile: daemons.map((d) => d.type), daemons, dbPath: false });
 */
export function createPipelineDaemons(options: PipelineDaemonOptions): DaemonSpec[] {
  const runJob = workerActor(options.worker);
  const host = options.cluster?.host ?? options.host ?? 'localhost';
  const targets = options.targetHosts ?? ['localhost'];
  const specs: DaemonSpec[] = [
    {
      type: 'EVENT_ROUTER',
      machine: eventRouterMachine,
      machineVersion: MACHINE_VERSION,
      subscribes: [],
      emits: [],
    },
    {
      type: 'FEEDBACK_LOOP',
      durable: options.durable,
      machine: feedbackLoopMachine,
      machineVersion: MACHINE_VERSION,
      input: options.feedback ?? {},
      subscribes: FEEDBACK_LOOP_SUBSCRIBES,
      emits: ['EVALUATION_REQUESTED', 'HYPERPARAMETER_UPDATED'],
    },
    {
      type: 'SELFPLAY_COORDINATOR',
      machine: selfplayCoordinatorMachine.provide({ actors: { runJob } }),
      machineVersion: MACHINE_VERSION,
      subscribes: ['SELFPLAY_TARGET_UPDATED', 'NEW_GAMES_AVAILABLE'],
      emits: ['SELFPLAY_COMPLETE', 'TASK_FAILED'],
    },
    {
      type: 'AUTO_SYNC',
      machine: createAutoSyncMachine(host, targets, options.cluster !== undefined).provide({
        actors: { runJob },
      }),
      machineVersion: MACHINE_VERSION,
      subscribes: ['SELFPLAY_COMPLETE', 'HOST_ONLINE', 'HOST_OFFLINE'],
      emits: ['DATA_SYNC_STARTED', 'DATA_SYNC_COMPLETED', 'DATA_SYNC_FAILED'],
    },
    {
      type: 'DATA_PIPELINE',
      machine: createDataPipelineMachine(host).provide({ actors: { runJob } }),
      machineVersion: MACHINE_VERSION,
      subscribes: ['DATA_SYNC_COMPLETED', 'TRAINING_COMPLETED', 'PROMOTION_FAILED'],
      emits: [
        'NPZ_EXPORT_STARTED',
        'NPZ_EXPORT_COMPLETE',
        'NEW_GAMES_AVAILABLE',
        'EXPORT_VALIDATION_FAILED',
      ],
    },
    {
      type: 'TRAINING_TRIGGER',
      machine: trainingTriggerMachine,
      machineVersion: MACHINE_VERSION,
      input: { threshold: options.trainingThreshold ?? 500 },
      subscribes: TRAINING_TRIGGER_SUBSCRIBES,
      emits: ['TRAINING_THRESHOLD_REACHED', 'TRAINING_THRESHOLD_PENDING'],
    },
    {
      // The original's TrainingCoordinator runs in its continuous training loop daemon.
      type: 'CONTINUOUS_TRAINING_LOOP',
      durable: options.durable,
      machine: createTrainingCoordinatorMachine(options.epochs ?? 10, options.cluster).provide({
        actors: { runJob },
      }),
      machineVersion: MACHINE_VERSION,
      subscribes: ['TRAINING_THRESHOLD_REACHED'],
      emits: [
        'TRAINING_STARTED',
        'TRAINING_COMPLETED',
        'TRAINING_FAILED',
        'TRAINING_EARLY_STOPPED',
      ],
    },
    {
      type: 'EVALUATION',
      machine: evaluationMachine.provide({ actors: { runJob } }),
      machineVersion: MACHINE_VERSION,
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
      machineVersion: MACHINE_VERSION,
      input: options.promotion ?? {},
      subscribes: AUTO_PROMOTION_SUBSCRIBES,
      emits: ['MODEL_PROMOTED', 'PROMOTION_REJECTED', 'PROMOTION_FAILED'],
    },
    {
      type: 'MODEL_DISTRIBUTION',
      machine: createModelDistributionMachine(
        targets,
        options.cluster ? { self: options.cluster.host } : undefined,
      ).provide({ actors: { runJob } }),
      machineVersion: MACHINE_VERSION,
      subscribes: ['MODEL_PROMOTED', 'HOST_ONLINE', 'HOST_OFFLINE'],
      emits: [
        'MODEL_DISTRIBUTION_STARTED',
        'MODEL_DISTRIBUTION_COMPLETE',
        'MODEL_DISTRIBUTION_FAILED',
      ],
    },
  ];
  if (options.masterLoop) {
    specs.push({
      type: 'MASTER_LOOP',
      machine: masterLoopMachine,
      machineVersion: MACHINE_VERSION,
      input: options.masterLoop,
      dependsOn: ['EVENT_ROUTER'],
      // Critical, so that ALL_CRITICAL_DAEMONS_READY cannot be published before it listens.
      critical: true,
      restart: 'transient',
      subscribes: MASTER_LOOP_SUBSCRIBES,
      // Every runtime on the event log announces its readiness; only its own starts the loop.
      localOnly: ['ALL_CRITICAL_DAEMONS_READY'],
      emits: ['SELFPLAY_TARGET_UPDATED', 'ITERATION_COMPLETE'],
    });
  }
  return specs;
}
