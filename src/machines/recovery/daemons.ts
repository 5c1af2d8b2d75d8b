/** The Recovery section of the guide (and the RecoveryOrchestrator of its other tables). */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { ORPHAN_DETECTION_SUBSCRIBES, orphanDetectionMachine } from './orphan-detection.js';
import { PIPELINE_RECOVERY_SUBSCRIBES, pipelineRecoveryMachine } from './pipeline-recovery.js';
import { createReplicationRepairMachine } from './replication-repair.js';

export function pipelineRecoveryDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'PIPELINE_RECOVERY',
    machine: pipelineRecoveryMachine,
    machineVersion: ctx.machineVersion,
    input: ctx.recovery ?? {},
    dependsOn: ['EVENT_ROUTER'],
    subscribes: PIPELINE_RECOVERY_SUBSCRIBES,
    emits: [
      'RECOVERY_INITIATED',
      'RECOVERY_COMPLETED',
      'RECOVERY_FAILED',
      'TRAINING_THRESHOLD_REACHED',
      'SYNC_REQUEST',
    ],
  };
}

/** The guide's RepairDaemon. */
export function replicationRepairDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'REPLICATION_REPAIR',
    machine: createReplicationRepairMachine(ctx.host).provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: ['DATA_SYNC_COMPLETED'],
    emits: ['REPAIR_COMPLETED', 'REPAIR_FAILED'],
  };
}

/** The guide's OrphanDetectionDaemon. */
export function orphanDetectionDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'ORPHAN_DETECTION',
    machine: orphanDetectionMachine,
    machineVersion: ctx.machineVersion,
    input: { host: ctx.host },
    subscribes: ORPHAN_DETECTION_SUBSCRIBES,
    emits: ['ORPHAN_GAMES_DETECTED'],
  };
}
