/** The Model section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { AUTO_PROMOTION_SUBSCRIBES, autoPromotionMachine } from './auto-promotion.js';
import { createModelDistributionMachine } from './model-distribution.js';

export function autoPromotionDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'AUTO_PROMOTION',
    machine: autoPromotionMachine,
    machineVersion: ctx.machineVersion,
    input: ctx.promotion ?? {},
    subscribes: AUTO_PROMOTION_SUBSCRIBES,
    emits: ['MODEL_PROMOTED', 'PROMOTION_REJECTED', 'PROMOTION_FAILED'],
  };
}

export function modelDistributionDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'MODEL_DISTRIBUTION',
    machine: createModelDistributionMachine(
      ctx.targets,
      ctx.cluster ? { self: ctx.cluster.host } : undefined,
    ).provide({ actors: { runJob: ctx.runJob } }),
    machineVersion: ctx.machineVersion,
    subscribes: ['MODEL_PROMOTED', 'HOST_ONLINE', 'HOST_OFFLINE'],
    emits: [
      'MODEL_DISTRIBUTION_STARTED',
      'MODEL_DISTRIBUTION_COMPLETE',
      'MODEL_DISTRIBUTION_FAILED',
    ],
  };
}
