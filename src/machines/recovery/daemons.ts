/** The Recovery section of the guide (and the RecoveryOrchestrator of its other tables). */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { PIPELINE_RECOVERY_SUBSCRIBES, pipelineRecoveryMachine } from './pipeline-recovery.js';

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
