/** The Cluster section of the guide: its daemons as specs (presence itself is the cluster member's). */
import type { DaemonSpec } from '../daemon-spec.js';
import type { PipelineContext } from '../pipeline-context.js';
import { CLUSTER_HEALTH_SUBSCRIBES, clusterHealthMachine } from './cluster-health.js';
import { IDLE_RESOURCE_SUBSCRIBES, idleResourceMachine } from './idle-resource.js';
import {
  LEADERSHIP_COORDINATOR_SUBSCRIBES,
  leadershipCoordinatorMachine,
} from './leadership-coordinator.js';

export function leadershipCoordinatorDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'LEADERSHIP_COORDINATOR',
    machine: leadershipCoordinatorMachine,
    machineVersion: ctx.machineVersion,
    subscribes: LEADERSHIP_COORDINATOR_SUBSCRIBES,
    emits: [],
  };
}

export function clusterHealthDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'CLUSTER_HEALTH',
    machine: clusterHealthMachine,
    machineVersion: ctx.machineVersion,
    subscribes: CLUSTER_HEALTH_SUBSCRIBES,
    emits: ['P2P_CLUSTER_UNHEALTHY', 'P2P_CLUSTER_HEALTHY', 'HEALTH_ALERT'],
  };
}

export function idleResourceDaemon(ctx: PipelineContext): DaemonSpec {
  return {
    type: 'IDLE_RESOURCE',
    machine: idleResourceMachine,
    machineVersion: ctx.machineVersion,
    input: {
      host: ctx.host,
      ...(ctx.idleSeconds === undefined ? {} : { idleSeconds: ctx.idleSeconds }),
    },
    subscribes: IDLE_RESOURCE_SUBSCRIBES,
    emits: ['IDLE_RESOURCE_DETECTED'],
  };
}
