/**
 * The envelope that carries every event: who sent it, when, from where, and how it relates to
 * other events. Its `id` is the only thing duplicates are recognised by (lesson 2).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventName, PayloadOf } from './catalog/index.js';

/** Where an event was published: enough to tell two processes on two hosts apart. */
export interface Origin {
  readonly host: string;
  readonly pid: number;
  /** Unique per router instance (and so per runtime). */
  readonly runtimeId: string;
}

export interface Envelope<T extends EventName = EventName> {
  /** Unique across processes, hosts and restarts: `<runtimeId>.<incarnation>-<sequence>`. */
  readonly id: string;
  readonly type: T;
  readonly payload: PayloadOf<T>;
  /** The component that published it (a daemon type, a script). */
  readonly source: string;
  /** When it was published, Unix seconds. */
  readonly timestamp: number;
  readonly origin: Origin;
  /** Shared by every event caused, directly or not, by the same first event. */
  readonly traceId: string;
  /** Set by the publisher to group events of one piece of work (e.g. one training run). */
  readonly correlationId: string | null;
  /** The event whose handling caused this one. */
  readonly parentId: string | null;
}

/** Causality options a publisher may pass. `causedBy` fills the other three from an envelope. */
export interface CausalityOptions {
  readonly causedBy?: Envelope;
  readonly traceId?: string;
  readonly correlationId?: string;
  readonly parentId?: string;
}

/** A new runtime id: 12 base-36 characters from 64 random bits. */
export function newRuntimeId(): string {
  return randomBytes(8).readBigUInt64BE().toString(36).padStart(13, '0');
}

/** The origin of everything a router publishes; one frozen object shared by all its envelopes. */
export function createOrigin(runtimeId: string, host: string = hostname()): Origin {
  return Object.freeze({ host, pid: process.pid, runtimeId });
}

/**
 * Ids are `<runtimeId>.<incarnation>-<sequence>`: unique without coordination and cheap to make.
 * The incarnation (40 random bits, new for each id source) keeps them unique when a process is
 * restarted under the same, stable runtime id (which names its snapshots): a restarted sequence
 * would otherwise repeat ids that peers and durable consumers already saw, and they would drop
 * the new events as duplicates.
 */
export function createIdSource(runtimeId: string): () => string {
  const prefix = `${runtimeId}.${randomBytes(5).readUIntBE(0, 5).toString(36)}-`;
  let seq = 0;
  return () => prefix + (++seq).toString(36);
}

export function stampEnvelope<T extends EventName>(
  id: string,
  type: T,
  payload: PayloadOf<T>,
  source: string,
  timestamp: number,
  origin: Origin,
  causality: CausalityOptions,
): Envelope<T> {
  const parent = causality.causedBy;
  return Object.freeze({
    id,
    type,
    payload,
    source,
    timestamp,
    origin,
    traceId: causality.traceId ?? parent?.traceId ?? id,
    correlationId: causality.correlationId ?? parent?.correlationId ?? null,
    parentId: causality.parentId ?? parent?.id ?? null,
  });
}
