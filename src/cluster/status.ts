/**
 * `ringrift-coord cluster status`: the cluster as NATS sees it, from any machine that reaches a
 * server: the hosts present (age of their presence key, incarnation, profile, daemons, outbox),
 * the leader and its fencing token, each host's inbound consumer lag, and the stream's state.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { CoordinationError } from '../errors.js';
import { natsOptions } from './connection.js';
import type { LeaderRecord } from './leadership.js';
import { describeCluster, durableNameOf, type ResolvedCluster } from './options.js';
import type { PresenceRecord } from './presence.js';

/** NATS did not answer: `cluster status` cannot say anything. */
export class ClusterUnreachableError extends CoordinationError {
  constructor(servers: readonly string[], cause: string) {
    super(`NATS unreachable at ${servers.join(', ')}: ${cause}`);
  }
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly server: string;
  readonly hosts: readonly (PresenceRecord & { readonly ageS: number })[];
  readonly leader: (LeaderRecord & { readonly ageS: number }) | null;
  readonly consumers: readonly {
    readonly name: string;
    readonly lag: number;
    readonly ackPending: number;
    readonly delivered: number;
  }[];
  readonly stream: {
    readonly name: string;
    readonly messages: number;
    readonly bytes: number;
    readonly firstSeq: number;
    readonly lastSeq: number;
    readonly replicas: number;
    readonly leader: string | null;
  } | null;
}

export async function readClusterStatus(cluster: ResolvedCluster): Promise<ClusterStatus> {
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({
      ...natsOptions(cluster, 'status'),
      reconnect: false,
      maxReconnectAttempts: 0,
      timeout: 3_000,
    });
  } catch (error) {
    throw new ClusterUnreachableError(describeCluster(cluster).servers, (error as Error).message);
  }
  try {
    const jsm = await jetstreamManager(nc);
    const kvm = new Kvm(nc);
    const hosts: (PresenceRecord & { ageS: number })[] = [];
    let leader: (LeaderRecord & { ageS: number }) | null = null;
    const open = async (name: string) => {
      try {
        return await kvm.open(name);
      } catch (error) {
        if (/not found/i.test((error as Error).message)) return null;
        throw error;
      }
    };
    const presence = await open(cluster.presenceBucket);
    if (presence) {
      for await (const key of await presence.keys()) {
        const entry = await presence.get(key);
        if (entry?.operation !== 'PUT') continue;
        const ageS = (Date.now() - entry.created.getTime()) / 1000;
        if (ageS * 1000 > cluster.presenceTtlMs) continue;
        hosts.push({ ...entry.json<PresenceRecord>(), ageS });
      }
    }
    const lease = await open(cluster.leaderBucket);
    const entry = lease ? await lease.get('leader') : null;
    if (entry?.operation === 'PUT') {
      const ageS = (Date.now() - entry.created.getTime()) / 1000;
      if (ageS * 1000 <= cluster.leaseTtlMs) leader = { ...entry.json<LeaderRecord>(), ageS };
    }
    const info = await jsm.streams.info(cluster.streamName).catch((error: Error) => {
      if (/stream not found/i.test(error.message)) return null;
      throw error;
    });
    const consumers: ClusterStatus['consumers'][number][] = [];
    if (info)
      for await (const c of jsm.consumers.list(cluster.streamName))
        consumers.push({
          name: c.name,
          lag: c.num_pending,
          ackPending: c.num_ack_pending,
          delivered: c.delivered.stream_seq,
        });
    return {
      cluster: cluster.name,
      server: nc.getServer(),
      hosts: hosts.sort((a, b) => a.host.localeCompare(b.host)),
      leader,
      consumers: consumers.sort((a, b) => a.name.localeCompare(b.name)),
      stream: info
        ? {
            name: info.config.name,
            messages: info.state.messages,
            bytes: info.state.bytes,
            firstSeq: info.state.first_seq,
            lastSeq: info.state.last_seq,
            replicas: info.config.num_replicas,
            leader: info.cluster?.leader ?? null,
          }
        : null,
    };
  } finally {
    await nc.close();
  }
}

export function printClusterStatus(status: ClusterStatus, out: (line: string) => void): void {
  out(`cluster ${status.cluster} (via ${status.server})`);
  out(
    status.leader
      ? `leader: ${status.leader.host} (runtime ${status.leader.runtime_id}, token ${status.leader.token}, lease renewed ${status.leader.ageS.toFixed(1)} s ago)`
      : 'leader: none (no coordinator holds the lease)',
  );
  out(`hosts: ${status.hosts.length}`);
  for (const h of status.hosts) {
    const lag = status.consumers.find((c) => c.name === durableNameOf(h.host));
    out(
      `  ${h.host.padEnd(16)} seen ${h.ageS.toFixed(1)} s ago  incarnation ${h.incarnation}  profile ${h.profile}  outbox ${h.outbox}  inbound lag ${lag ? lag.lag + lag.ackPending : '-'}`,
    );
    out(`    daemons: ${h.daemons.join(', ')}`);
  }
  out('inbound consumers:');
  if (status.consumers.length === 0) out('  (none)');
  for (const c of status.consumers)
    out(
      `  ${c.name.padEnd(20)} lag ${String(c.lag).padEnd(6)} unacked ${String(c.ackPending).padEnd(5)} delivered up to ${c.delivered}`,
    );
  const s = status.stream;
  out(
    s
      ? `stream ${s.name}: ${s.messages} messages, ${s.bytes} bytes, seq ${s.firstSeq}..${s.lastSeq}, replicas ${s.replicas}${s.leader ? `, leader ${s.leader}` : ''}`
      : 'stream: not created yet (no runtime joined this cluster)',
  );
}
