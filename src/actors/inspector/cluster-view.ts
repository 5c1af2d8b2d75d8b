/**
 * The cluster in the inspector's tree: a `cluster` node (leader and token, connection, outbox)
 * and a `host` node per host present. Fed by a runtime's membership (live) or by reading NATS
 * (`ringrift-coord inspect --nats`); a host that leaves is removed.
 */
import type { PresenceRecord } from '../../cluster/presence.js';
import type { InspectorModel } from './model.js';

export interface ClusterView {
  readonly cluster: string;
  /** `ok`, `degraded`, `standby`, or `unreachable` when read from outside and NATS did not answer. */
  readonly state: string;
  readonly reason: string | null;
  readonly connection: string;
  /** This host's outbox; null when read from outside (each host's is in its record). */
  readonly outbox: number | null;
  readonly leader: { readonly host: string; readonly token: number } | null;
  readonly hosts: readonly PresenceRecord[];
  /** Consumer lag per host, when known. */
  readonly lag?: ReadonlyMap<string, number>;
  /** This runtime's own host: shown as its runtime subtree, not again as a host. */
  readonly self?: string;
}

/** Keeps the model's cluster nodes as `view` says; `shown` remembers the host nodes between calls. */
export function showCluster(model: InspectorModel, view: ClusterView, shown: Set<string>): void {
  const clusterNode = `cluster:${view.cluster}`;
  const leader = view.leader
    ? `leader ${view.leader.host} (token ${view.leader.token})`
    : 'no leader';
  const outbox = view.outbox === null ? '' : `; outbox ${view.outbox}`;
  model.update(clusterNode, {
    kind: 'cluster',
    label: `cluster ${view.cluster}`,
    status: view.state,
    message: `${leader}; NATS ${view.connection}${outbox}${view.reason ? `; ${view.reason}` : ''}`,
  });
  const present = new Set<string>();
  for (const record of view.hosts) {
    if (record.host === view.self) continue;
    const id = `${clusterNode}/${record.host}`;
    present.add(id);
    const lag = view.lag?.get(record.host);
    model.update(id, {
      kind: 'host',
      parent: clusterNode,
      label: `host ${record.host}`,
      host: record.host,
      status: view.leader?.host === record.host ? 'leader' : 'present',
      message: `${record.profile}: ${record.daemons.length} daemons, ${record.gpus} GPUs, ${record.free_slots} free slots, outbox ${record.outbox}${lag === undefined ? '' : `, consumer lag ${lag}`}`,
    });
  }
  for (const id of shown) if (!present.has(id)) model.remove(id);
  shown.clear();
  for (const id of present) shown.add(id);
}
