/** The Model section of the guide: its daemons as specs. */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { AUTO_PROMOTION_SUBSCRIBES, autoPromotionMachine } from './auto-promotion.js';
import { MODEL_LIFECYCLE_SUBSCRIBES, modelLifecycleMachine } from './lifecycle-coordinator.js';
import { createModelDistributionMachine } from './model-distribution.js';
import { MODEL_REGISTRY_SUBSCRIBES, modelRegistryMachine } from './model-registry.js';
import {
  PERFORMANCE_WATCHDOG_SUBSCRIBES,
  performanceWatchdogMachine,
} from './performance-watchdog.js';
import {
  REGRESSION_DETECTOR_SUBSCRIBES,
  regressionDetectorMachine,
} from './regression-detector.js';

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
    ).provide(ctx.jobs),
    machineVersion: ctx.machineVersion,
    subscribes: ['MODEL_PROMOTED', 'MODEL_UPDATED', 'HOST_ONLINE', 'HOST_OFFLINE'],
    emits: [
      'MODEL_DISTRIBUTION_STARTED',
      'MODEL_DISTRIBUTION_COMPLETE',
      'MODEL_DISTRIBUTION_FAILED',
    ],
  };
}

export function modelRegistryDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'MODEL_REGISTRY',
    machine: modelRegistryMachine,
    machineVersion: ctx.machineVersion,
    dependsOn: ['EVENT_ROUTER'],
    subscribes: MODEL_REGISTRY_SUBSCRIBES,
    emits: ['MODEL_UPDATED'],
  };
}

export function performanceWatchdogDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'MODEL_PERFORMANCE_WATCHDOG',
    machine: performanceWatchdogMachine,
    machineVersion: ctx.machineVersion,
    input: ctx.watchdog ?? {},
    subscribes: PERFORMANCE_WATCHDOG_SUBSCRIBES,
    emits: ['REGRESSION_DETECTED', 'REGRESSION_CLEARED'],
  };
}

export function regressionDetectorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'REGRESSION_DETECTOR',
    machine: regressionDetectorMachine,
    machineVersion: ctx.machineVersion,
    dependsOn: ['EVENT_ROUTER'],
    subscribes: REGRESSION_DETECTOR_SUBSCRIBES,
    emits: ['REGRESSION_CRITICAL'],
  };
}

export function modelLifecycleDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'MODEL_LIFECYCLE',
    machine: modelLifecycleMachine,
    machineVersion: ctx.machineVersion,
    dependsOn: ['EVENT_ROUTER'],
    subscribes: MODEL_LIFECYCLE_SUBSCRIBES,
    emits: ['PROMOTION_ROLLED_BACK'],
  };
}
