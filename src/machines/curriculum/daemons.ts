/** The Curriculum & Quality section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { QUALITY_MONITOR_SUBSCRIBES, qualityMonitorMachine } from './quality-monitor.js';

export function qualityMonitorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'QUALITY_MONITOR',
    machine: qualityMonitorMachine,
    machineVersion: ctx.machineVersion,
    subscribes: QUALITY_MONITOR_SUBSCRIBES,
    emits: ['QUALITY_SCORE_UPDATED', 'QUALITY_DEGRADED'],
  };
}
