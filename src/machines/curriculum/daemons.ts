/** The Curriculum & Quality section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import {
  CURRICULUM_CONTROLLER_SUBSCRIBES,
  curriculumControllerMachine,
} from './curriculum-controller.js';
import {
  CURRICULUM_INTEGRATION_SUBSCRIBES,
  curriculumIntegrationMachine,
} from './curriculum-integration.js';
import { ELO_SYNC_SUBSCRIBES, eloSyncMachine } from './elo-sync.js';
import { QUALITY_MONITOR_SUBSCRIBES, qualityMonitorMachine } from './quality-monitor.js';
import { QUEUE_POPULATOR_SUBSCRIBES, queuePopulatorMachine } from './queue-populator.js';
import {
  SELFPLAY_ORCHESTRATOR_SUBSCRIBES,
  selfplayOrchestratorMachine,
} from './selfplay-orchestrator.js';
import { UNIFIED_FEEDBACK_SUBSCRIBES, unifiedFeedbackMachine } from './unified-feedback.js';

export function qualityMonitorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'QUALITY_MONITOR',
    machine: qualityMonitorMachine,
    machineVersion: ctx.machineVersion,
    subscribes: QUALITY_MONITOR_SUBSCRIBES,
    emits: ['QUALITY_SCORE_UPDATED', 'QUALITY_DEGRADED'],
  };
}

export function eloSyncDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'ELO_SYNC',
    machine: eloSyncMachine,
    machineVersion: ctx.machineVersion,
    input: {},
    subscribes: ELO_SYNC_SUBSCRIBES,
    emits: ['ELO_SIGNIFICANT_CHANGE'],
  };
}

export function queuePopulatorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'QUEUE_POPULATOR',
    machine: queuePopulatorMachine,
    machineVersion: ctx.machineVersion,
    subscribes: QUEUE_POPULATOR_SUBSCRIBES,
    emits: ['ELO_VELOCITY_CHANGED'],
  };
}

export function curriculumIntegrationDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'CURRICULUM_INTEGRATION',
    machine: curriculumIntegrationMachine,
    machineVersion: ctx.machineVersion,
    subscribes: CURRICULUM_INTEGRATION_SUBSCRIBES,
    emits: ['CURRICULUM_REBALANCED'],
  };
}

export function curriculumControllerDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'CURRICULUM_CONTROLLER',
    machine: curriculumControllerMachine,
    machineVersion: ctx.machineVersion,
    subscribes: CURRICULUM_CONTROLLER_SUBSCRIBES,
    emits: ['CURRICULUM_ADVANCED'],
  };
}

export function unifiedFeedbackDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'UNIFIED_FEEDBACK',
    machine: unifiedFeedbackMachine,
    machineVersion: ctx.machineVersion,
    subscribes: UNIFIED_FEEDBACK_SUBSCRIBES,
    emits: ['EXPLORATION_BOOST'],
  };
}

export function selfplayOrchestratorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'SELFPLAY_ORCHESTRATOR',
    machine: selfplayOrchestratorMachine,
    machineVersion: ctx.machineVersion,
    subscribes: SELFPLAY_ORCHESTRATOR_SUBSCRIBES,
    emits: ['SELFPLAY_ALLOCATION_UPDATED'],
  };
}
