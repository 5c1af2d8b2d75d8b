/** The Daemon Lifecycle section of the guide: its daemons as specs. */

import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { ALERT_MANAGER_SUBSCRIBES, alertManagerMachine } from './alert-manager.js';
import { DAEMON_MANAGER_SUBSCRIBES, daemonManagerMachine } from './daemon-manager.js';
import { DAEMON_WATCHDOG_SUBSCRIBES, daemonWatchdogMachine } from './daemon-watchdog.js';
import { eventRouterMachine } from './event-router.js';
import {
  IMPROVEMENT_OPTIMIZER_SUBSCRIBES,
  improvementOptimizerMachine,
} from './improvement-optimizer.js';
import type { MasterLoopInput } from './master-loop.js';
import { MASTER_LOOP_SUBSCRIBES, masterLoopMachine } from './master-loop.js';

export function eventRouterDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'EVENT_ROUTER',
    machine: eventRouterMachine,
    machineVersion: ctx.machineVersion,
    subscribes: [],
    emits: [],
  };
}

export function masterLoopDaemon(ctx: PipelineContext, input: MasterLoopInput): DaemonSpec {
  return {
    type: 'MASTER_LOOP',
    machine: masterLoopMachine,
    machineVersion: ctx.machineVersion,
    input,
    dependsOn: ['EVENT_ROUTER'],
    // Critical, so that ALL_CRITICAL_DAEMONS_READY cannot be published before it listens.
    critical: true,
    restart: 'transient',
    subscribes: MASTER_LOOP_SUBSCRIBES,
    // Every runtime on the event log announces its readiness; only its own starts the loop.
    localOnly: ['ALL_CRITICAL_DAEMONS_READY'],
    emits: ['SELFPLAY_TARGET_UPDATED', 'ITERATION_COMPLETE'],
  };
}

export function daemonManagerDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'DAEMON_MANAGER',
    machine: daemonManagerMachine,
    machineVersion: ctx.machineVersion,
    input: ctx.maxPauseMs === undefined ? {} : { maxPauseMs: ctx.maxPauseMs },
    dependsOn: ['EVENT_ROUTER'],
    subscribes: DAEMON_MANAGER_SUBSCRIBES,
    emits: ['TRAINING_PAUSED', 'TRAINING_RESUMED'],
  };
}

export function alertManagerDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'ALERT_MANAGER',
    machine: alertManagerMachine,
    machineVersion: ctx.machineVersion,
    input: ctx.alerts ?? {},
    dependsOn: ['EVENT_ROUTER'],
    subscribes: ALERT_MANAGER_SUBSCRIBES,
    emits: [],
  };
}

export function daemonWatchdogDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'DAEMON_WATCHDOG',
    machine: daemonWatchdogMachine,
    machineVersion: ctx.machineVersion,
    subscribes: DAEMON_WATCHDOG_SUBSCRIBES,
    emits: ['HEALTH_ALERT'],
  };
}

export function improvementOptimizerDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'IMPROVEMENT_OPTIMIZER',
    machine: improvementOptimizerMachine,
    machineVersion: ctx.machineVersion,
    subscribes: IMPROVEMENT_OPTIMIZER_SUBSCRIBES,
    emits: ['HYPERPARAMETER_UPDATED', 'ADAPTIVE_PARAMS_CHANGED'],
  };
}
