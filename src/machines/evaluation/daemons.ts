/** The Evaluation section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { evaluationMachine } from './evaluation.js';
import { METRICS_ANALYSIS_SUBSCRIBES, metricsAnalysisMachine } from './metrics-analysis.js';
import { MONITORING_SUBSCRIBES, monitoringMachine } from './monitoring.js';

export function evaluationDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'EVALUATION',
    machine: evaluationMachine.provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: ['EVALUATION_REQUESTED'],
    emits: [
      'EVALUATION_STARTED',
      'EVALUATION_PROGRESS',
      'EVALUATION_COMPLETED',
      'EVALUATION_FAILED',
    ],
  };
}

export function monitoringDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'MONITORING',
    machine: monitoringMachine,
    machineVersion: ctx.machineVersion,
    dependsOn: ['EVENT_ROUTER'],
    subscribes: MONITORING_SUBSCRIBES,
    emits: [],
  };
}

export function metricsAnalysisDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'METRICS_ANALYSIS',
    machine: metricsAnalysisMachine,
    machineVersion: ctx.machineVersion,
    subscribes: METRICS_ANALYSIS_SUBSCRIBES,
    emits: ['PLATEAU_DETECTED'],
  };
}
