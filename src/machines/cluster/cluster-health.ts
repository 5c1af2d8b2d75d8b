/**
 * CLUSTER_HEALTH (the guide's UnifiedHealthManager, for HOST_OFFLINE): which of the cluster's
 * known hosts are present, and whether enough are. The original pauses work once half its nodes
 * are offline; here the cluster turns `unhealthy` when at least half of the hosts ever seen (and
 * at least 2) are offline: it publishes P2P_CLUSTER_UNHEALTHY (naming the hosts gone) and a
 * critical HEALTH_ALERT, which ALERT_MANAGER raises; P2P_CLUSTER_HEALTHY when enough are back.
 * NODE_RECOVERED (a host back with a new incarnation) counts the host present at once, before
 * its HOST_ONLINE.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const CLUSTER_HEALTH_SUBSCRIBES = subscriptions(
  'HOST_ONLINE',
  'HOST_OFFLINE',
  'NODE_RECOVERED',
);

export interface ClusterHealthContext {
  /** host -> present or not, for every host seen. */
  readonly hosts: Readonly<Record<string, boolean>>;
}

type HealthEvent = DaemonMachineEvent<typeof CLUSTER_HEALTH_SUBSCRIBES>;

const hostOf = (event: HealthEvent): string | null => {
  if (event.type === 'HOST_ONLINE' || event.type === 'HOST_OFFLINE') return event.payload.host;
  if (event.type === 'NODE_RECOVERED') return event.payload.node_id;
  return null;
};

const offlineHosts = (hosts: ClusterHealthContext['hosts']) =>
  Object.entries(hosts)
    .filter(([, present]) => !present)
    .map(([host]) => host)
    .sort();

/** At least 2 hosts seen, and half or more of them offline. */
export function clusterUnhealthy(hosts: ClusterHealthContext['hosts']): boolean {
  const known = Object.keys(hosts).length;
  return known >= 2 && 2 * offlineHosts(hosts).length >= known;
}

const counts = (hosts: ClusterHealthContext['hosts']) => {
  const node_count = Object.keys(hosts).length;
  return { healthy_nodes: node_count - offlineHosts(hosts).length, node_count };
};

/** The hosts as they are once `event` is recorded. */
const withEvent = (hosts: ClusterHealthContext['hosts'], event: HealthEvent) => {
  const host = hostOf(event);
  return host === null ? hosts : { ...hosts, [host]: event.type !== 'HOST_OFFLINE' };
};

export const clusterHealthMachine = setup({
  types: {
    context: {} as ClusterHealthContext,
    events: {} as HealthEvent,
    emitted: {} as Emitted,
  },
  actions: {
    record: assign({ hosts: ({ context, event }) => withEvent(context.hosts, event) }),
    announceHealthy: enqueueActions(({ context, enqueue }) =>
      enqueue.emit({
        type: 'P2P_CLUSTER_HEALTHY',
        payload: { ...counts(context.hosts), healthy: true },
      }),
    ),
  },
  // Both decide on the hosts as they will be once the event is recorded.
  guards: {
    fails: ({ context, event }) => clusterUnhealthy(withEvent(context.hosts, event)),
    recovers: ({ context, event }) => !clusterUnhealthy(withEvent(context.hosts, event)),
  },
}).createMachine({
  id: 'clusterHealth',
  context: { hosts: {} },
  initial: 'healthy',
  states: {
    healthy: {
      tags: ['ready'],
      on: {
        // A new host seen online can tip it too: with 2 seen, 1 offline is half.
        HOST_ONLINE: [
          { guard: 'fails', target: 'unhealthy', actions: 'record' },
          { actions: 'record' },
        ],
        HOST_OFFLINE: [
          { guard: 'fails', target: 'unhealthy', actions: 'record' },
          { actions: 'record' },
        ],
        NODE_RECOVERED: [
          { guard: 'fails', target: 'unhealthy', actions: 'record' },
          { actions: 'record' },
        ],
      },
    },
    unhealthy: {
      tags: ['ready'],
      entry: enqueueActions(({ context, enqueue }) => {
        const gone = offlineHosts(context.hosts);
        const { healthy_nodes, node_count } = counts(context.hosts);
        enqueue.emit({
          type: 'P2P_CLUSTER_UNHEALTHY',
          payload: { healthy_nodes, node_count, alerts: gone, healthy: false },
        });
        enqueue.emit({
          type: 'HEALTH_ALERT',
          payload: {
            component: 'cluster',
            severity: 'critical',
            message: `${gone.length} of ${node_count} hosts offline: ${gone.join(', ')}`,
          },
        });
      }),
      on: {
        // Still unhealthy after the change: recorded, nothing new to say.
        HOST_ONLINE: [
          { guard: 'recovers', target: 'healthy', actions: ['record', 'announceHealthy'] },
          { actions: 'record' },
        ],
        HOST_OFFLINE: { actions: 'record' },
        NODE_RECOVERED: [
          { guard: 'recovers', target: 'healthy', actions: ['record', 'announceHealthy'] },
          { actions: 'record' },
        ],
      },
    },
  },
});
