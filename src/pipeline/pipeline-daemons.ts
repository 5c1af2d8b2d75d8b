/**
 * The training pipeline's daemons as specs, with the worker provided to the machines that do
 * work: the three flows of the guide (data sync, training completion, model promotion), and
 * optionally the MasterLoop that drives iterations.
 */

import { PROFILES } from '../actors/daemon-types.js';
import { workerActor } from '../actors/worker-actor.js';
import { InvalidOptionError } from '../errors.js';
import {
  clusterHealthDaemon,
  idleResourceDaemon,
  leadershipCoordinatorDaemon,
} from '../machines/cluster/daemons.js';
import {
  curriculumControllerDaemon,
  curriculumIntegrationDaemon,
  eloSyncDaemon,
  qualityMonitorDaemon,
  queuePopulatorDaemon,
  selfplayOrchestratorDaemon,
  unifiedFeedbackDaemon,
} from '../machines/curriculum/daemons.js';
import type { DaemonSpec } from '../machines/daemon-spec.js';
import {
  evaluationDaemon,
  metricsAnalysisDaemon,
  monitoringDaemon,
} from '../machines/evaluation/daemons.js';
import type { AlertManagerInput } from '../machines/lifecycle/alert-manager.js';
import {
  alertManagerDaemon,
  daemonManagerDaemon,
  daemonWatchdogDaemon,
  eventRouterDaemon,
  improvementOptimizerDaemon,
  masterLoopDaemon,
} from '../machines/lifecycle/daemons.js';
import type { MasterLoopInput } from '../machines/lifecycle/master-loop.js';
import type { AutoPromotionInput } from '../machines/model/auto-promotion.js';
import {
  autoPromotionDaemon,
  modelDistributionDaemon,
  modelLifecycleDaemon,
  modelRegistryDaemon,
  performanceWatchdogDaemon,
  regressionDetectorDaemon,
} from '../machines/model/daemons.js';
import type { PerformanceWatchdogInput } from '../machines/model/performance-watchdog.js';
import type { JobImplementations, PipelineContext } from '../machines/pipeline-context.js';
import {
  orphanDetectionDaemon,
  pipelineRecoveryDaemon,
  replicationRepairDaemon,
} from '../machines/recovery/daemons.js';
import type { PipelineRecoveryInput } from '../machines/recovery/pipeline-recovery.js';
import {
  autoSyncDaemon,
  dataPipelineDaemon,
  selfplayCoordinatorDaemon,
  syncPlannerDaemon,
} from '../machines/sync/daemons.js';
import {
  feedbackLoopDaemon,
  trainingCoordinatorDaemon,
  trainingTriggerDaemon,
} from '../machines/training/daemons.js';
import type { FeedbackLoopInput } from '../machines/training/feedback-loop.js';
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
  /** MODEL_PERFORMANCE_WATCHDOG's tolerance. */
  readonly watchdog?: PerformanceWatchdogInput;
  /** ALERT_MANAGER's throttle. */
  readonly alerts?: AlertManagerInput;
  /** PIPELINE_RECOVERY's backoff and attempts. */
  readonly recovery?: PipelineRecoveryInput;
  /** IDLE_RESOURCE: seconds without GPU work before this host's GPU counts as idle; 120. */
  readonly idleSeconds?: number;
  /** DAEMON_MANAGER: the longest a regression's pause lasts when its end never reports; 30 min. */
  readonly maxPauseMs?: number;
  /**
   * Every job daemon's wait before attempt n+1 of a failed job (n >= 1); the job daemon's own
   * default (1 s doubling) when absent.
   */
  readonly jobRetryDelayMs?: (attempt: number) => number;
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
  'MODEL_REGISTRY',
  'MODEL_PERFORMANCE_WATCHDOG',
  'REGRESSION_DETECTOR',
  'MODEL_LIFECYCLE',
  'DAEMON_MANAGER',
  'ALERT_MANAGER',
  'QUALITY_MONITOR',
  'MONITORING',
  'METRICS_ANALYSIS',
  'DAEMON_WATCHDOG',
  'PIPELINE_RECOVERY',
  'LEADERSHIP_COORDINATOR',
  'CLUSTER_HEALTH',
  'IDLE_RESOURCE',
  'REPLICATION_REPAIR',
  'ORPHAN_DETECTION',
  'ELO_SYNC',
  'QUEUE_POPULATOR',
  'CURRICULUM_INTEGRATION',
  'CURRICULUM_CONTROLLER',
  'UNIFIED_FEEDBACK',
  'SELFPLAY_ORCHESTRATOR',
  'IMPROVEMENT_OPTIMIZER',
  'SYNC_PLANNER',
  'MASTER_LOOP',
] as const;

/**
 * Stored with each daemon's snapshot; a snapshot of another version is not restored. Version 2
 * (session 2): the job daemons' context has `notes`, TRAINING_TRIGGER keeps hyperparameters, the
 * MasterLoop ends chains on TRAINING_THRESHOLD_PENDING. Version 3 (session 4): sync and
 * distribution keep the hosts present in their notes, requests carry their targets. Version 4
 * (session 6): TRAINING_TRIGGER keeps paused configs, distribution keeps production models.
 * Version 5 (session 7): AUTO_SYNC's and SELFPLAY_COORDINATOR's notes. Version 6 (session 8): the
 * job daemons count abandoned requests; DATA_PIPELINE's and SELFPLAY_COORDINATOR's notes;
 * FEEDBACK_LOOP keeps the optimizer's multipliers. Version 7 (session 9): DAEMON_MANAGER's pauses
 * wait for the restored model's distribution; SELFPLAY_COORDINATOR's notes keep its host pool and
 * the leader, its requests their host; AUTO_SYNC's and REPLICATION_REPAIR's requests their source.
 * Version 8 (session 10): DAEMON_MANAGER's context keeps its pause bound, IDLE_RESOURCE's the
 * other hosts it watches, PIPELINE_RECOVERY's failing syncs their source, AUTO_PROMOTION its
 * promotion history. Bump it when a machine's states or context change shape.
 */
const MACHINE_VERSION = '8';

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

function jobImplementations(options: PipelineDaemonOptions): JobImplementations {
  const actors = { runJob: workerActor(options.worker) };
  const delay = options.jobRetryDelayMs;
  return delay
    ? { actors, delays: { retry: ({ context }) => delay(context.attempt) } }
    : { actors };
}

/**
 * @example
 * const daemons = createPipelineDaemons({ worker: createSimulatedWorker({ seed: 1 }) });
 * const runtime = createRuntime({ profile: daemons.map((d) => d.type), daemons, dbPath: false });
 */
export function createPipelineDaemons(options: PipelineDaemonOptions): DaemonSpec[] {
  const ctx: PipelineContext = {
    jobs: jobImplementations(options),
    host: options.cluster?.host ?? options.host ?? 'localhost',
    targets: options.targetHosts ?? ['localhost'],
    cluster: options.cluster,
    durable: options.durable,
    machineVersion: MACHINE_VERSION,
    feedback: options.feedback,
    promotion: options.promotion,
    trainingThreshold: options.trainingThreshold,
    epochs: options.epochs,
    watchdog: options.watchdog,
    alerts: options.alerts,
    recovery: options.recovery,
    idleSeconds: options.idleSeconds,
    maxPauseMs: options.maxPauseMs,
  };
  const specs = [
    eventRouterDaemon(ctx),
    feedbackLoopDaemon(ctx),
    selfplayCoordinatorDaemon(ctx),
    autoSyncDaemon(ctx),
    dataPipelineDaemon(ctx),
    trainingTriggerDaemon(ctx),
    trainingCoordinatorDaemon(ctx),
    evaluationDaemon(ctx),
    autoPromotionDaemon(ctx),
    modelDistributionDaemon(ctx),
    modelRegistryDaemon(ctx),
    performanceWatchdogDaemon(ctx),
    regressionDetectorDaemon(ctx),
    modelLifecycleDaemon(ctx),
    daemonManagerDaemon(ctx),
    alertManagerDaemon(ctx),
    qualityMonitorDaemon(ctx),
    monitoringDaemon(ctx),
    metricsAnalysisDaemon(ctx),
    daemonWatchdogDaemon(ctx),
    pipelineRecoveryDaemon(ctx),
    leadershipCoordinatorDaemon(ctx),
    clusterHealthDaemon(ctx),
    idleResourceDaemon(ctx),
    replicationRepairDaemon(ctx),
    orphanDetectionDaemon(ctx),
    eloSyncDaemon(ctx),
    queuePopulatorDaemon(ctx),
    curriculumIntegrationDaemon(ctx),
    curriculumControllerDaemon(ctx),
    unifiedFeedbackDaemon(ctx),
    selfplayOrchestratorDaemon(ctx),
    improvementOptimizerDaemon(ctx),
    syncPlannerDaemon(ctx),
  ];
  if (options.masterLoop) specs.push(masterLoopDaemon(ctx, options.masterLoop));
  return specs;
}
