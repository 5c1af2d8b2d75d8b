/** The Data Sync section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { createAutoSyncMachine, SYNC_ROUTER_EVENTS } from './auto-sync.js';
import { createDataPipelineMachine, DATA_PIPELINE_LISTENS } from './data-pipeline.js';
import { createSelfplayCoordinatorMachine } from './selfplay-coordinator.js';
import { createSyncPlannerMachine, SYNC_PLANNER_LISTENS } from './sync-planner.js';

export function selfplayCoordinatorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'SELFPLAY_COORDINATOR',
    machine: createSelfplayCoordinatorMachine(ctx.host).provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: [
      'SELFPLAY_TARGET_UPDATED',
      'IDLE_RESOURCE_DETECTED',
      'NEW_GAMES_AVAILABLE',
      'CURRICULUM_REBALANCED',
      'ELO_VELOCITY_CHANGED',
      'TRAINING_PAUSED',
      'HOST_ONLINE',
      'HOST_OFFLINE',
      'NODE_RECOVERED',
      'LEADER_ELECTED',
    ],
    emits: ['SELFPLAY_COMPLETE', 'TASK_FAILED', 'SELFPLAY_RATE_CHANGED', 'TASK_ABANDONED'],
  };
}

export function autoSyncDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'AUTO_SYNC',
    machine: createAutoSyncMachine(ctx.host, ctx.targets, ctx.cluster !== undefined).provide(
      ctx.jobs,
    ),
    machineVersion: ctx.machineVersion,
    subscribes: ['SELFPLAY_COMPLETE', 'SYNC_REQUEST', ...SYNC_ROUTER_EVENTS],
    emits: ['DATA_SYNC_STARTED', 'DATA_SYNC_COMPLETED', 'DATA_SYNC_FAILED'],
  };
}

export function dataPipelineDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'DATA_PIPELINE',
    machine: createDataPipelineMachine(ctx.host).provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: ['DATA_SYNC_COMPLETED', ...DATA_PIPELINE_LISTENS],
    emits: [
      'NPZ_EXPORT_STARTED',
      'NPZ_EXPORT_COMPLETE',
      'NEW_GAMES_AVAILABLE',
      'EXPORT_VALIDATION_FAILED',
      'SYNC_REQUEST',
      'CIRCUIT_BREAKER_OPENED',
      'CIRCUIT_BREAKER_CLOSED',
    ],
  };
}

/** The guide's SyncPlanner: catch-up syncs for a training host back from away. */
export function syncPlannerDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'SYNC_PLANNER',
    machine: createSyncPlannerMachine(ctx.host).provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: ['NODE_RECOVERED', ...SYNC_PLANNER_LISTENS],
    emits: ['DATA_SYNC_STARTED', 'DATA_SYNC_COMPLETED', 'DATA_SYNC_FAILED'],
  };
}
