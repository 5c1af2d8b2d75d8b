/**
 * The cluster's JetStream resources, created or brought up to date at every start (idempotent:
 * every member does it, in any order): one stream for the cluster's events (subjects
 * `ringrift.<cluster>.events.<TYPE>.<host>`, file storage, limits retention so every host's durable
 * consumer sees every event, a duplicate window so a republished envelope id is stored once),
 * and the two KV buckets (presence, leader lease), kept apart because each has one TTL on 2.9.
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterSetupError } from '../errors.js';
import { type ResolvedCluster, safeToken } from './options.js';

const NS_PER_MS = 1_000_000;

export function streamConfig(cluster: ResolvedCluster): Partial<StreamConfig> & { name: string } {
  return {
    name: cluster.streamName,
    subjects: [`${cluster.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: cluster.replicas,
    max_age: cluster.maxAgeMs * NS_PER_MS,
    max_bytes: cluster.maxBytes,
    duplicate_window: cluster.duplicateWindowMs * NS_PER_MS,
  };
}

export interface ClusterResources {
  readonly jsm: JetStreamManager;
  readonly presence: KV;
  readonly leader: KV;
}

/** @throws {ClusterSetupError} naming the resource and what the server said. */
export async function ensureResources(
  nc: NatsConnection,
  cluster: ResolvedCluster,
): Promise<ClusterResources> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (error) {
    throw new ClusterSetupError(
      'the JetStream context',
      `${(error as Error).message} (is the server started with -js?)`,
      { cause: error },
    );
  }
  const config = streamConfig(cluster);
  try {
    const existing = await jsm.streams.info(cluster.streamName).catch((error: Error) => {
      if (/stream not found/i.test(error.message)) return null;
      throw error;
    });
    if (existing === null) await jsm.streams.add(config);
    else await jsm.streams.update(cluster.streamName, { ...existing.config, ...config });
  } catch (error) {
    throw new ClusterSetupError(`stream ${cluster.streamName}`, (error as Error).message, {
      cause: error,
    });
  }
  const kvm = new Kvm(nc);
  const bucket = async (name: string, ttl: number) => {
    try {
      return await kvm.create(name, { ttl, history: 1, replicas: cluster.replicas });
    } catch (error) {
      throw new ClusterSetupError(`KV bucket ${name}`, (error as Error).message, { cause: error });
    }
  };
  return {
    jsm,
    presence: await bucket(cluster.presenceBucket, cluster.presenceTtlMs),
    leader: await bucket(cluster.leaderBucket, cluster.leaseTtlMs),
  };
}

/**
 * The subject an event of `type` from this host is published on:
 * `ringrift.<cluster>.events.<TYPE>.<host>`. The host token lets a receiver skip its own events
 * without reading them (every host's consumer sees the whole stream), and an operator subscribe
 * to one type from every host (`...events.TRAINING_COMPLETED.*`).
 */
export function subjectOf(cluster: ResolvedCluster, type: string): string {
  return `${cluster.subjectPrefix}.${type}.${safeToken(cluster.host)}`;
}
