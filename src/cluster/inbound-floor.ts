/**
 * Where a host's inbound durable starts when it has to be made again. The durable survives the
 * host's restarts, so normally this is never read; but an operator may delete it, an upgrade
 * deletes one of an earlier policy and may fail before it adds the new one, and a server may lose
 * its store. Made "from new" then, the durable would never deliver what was published while it
 * was missing: lost for this host. So the host's file keeps the durable's ack floor (the stream
 * sequence below which every message was acknowledged, which the bridge only does after the
 * commit), polled from the server every few seconds, with the creation time of the stream it
 * counts in. A durable made again starts right after it: at least once, and what comes twice is
 * dropped by the inbox (envelope id).
 */
import { DeliverPolicy } from '@nats-io/jetstream';
import type Database from 'better-sqlite3';

/** What the file records of the inbound durable. */
export interface FloorRecord {
  /** Every stream message up to this sequence was acknowledged by this host; 0: none known. */
  readonly floor: number;
  /** The creation time of the stream the floor counts in (JetStream's `created`). */
  readonly stream: string | null;
}

export type DurableStart =
  | { readonly deliver_policy: DeliverPolicy; readonly why: 'first' }
  | {
      readonly deliver_policy: DeliverPolicy;
      readonly opt_start_seq: number;
      readonly why: 'resumed';
    }
  | { readonly deliver_policy: DeliverPolicy; readonly why: 'new-stream' };

/**
 * The start of a durable made for this host: after its recorded floor on the same stream; every
 * message of a stream made again since (the floor counted in another one); from now for a file
 * that never read this cluster.
 */
export function durableStart(record: FloorRecord, streamCreated: string): DurableStart {
  if (record.stream === null) return { deliver_policy: DeliverPolicy.New, why: 'first' };
  if (record.stream !== streamCreated)
    return { deliver_policy: DeliverPolicy.All, why: 'new-stream' };
  return {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: record.floor + 1,
    why: 'resumed',
  };
}

/** What the server says of a durable (`consumers.info`), as far as the floor goes. */
export interface DurableProgress {
  readonly ack_floor: { readonly stream_seq: number };
  readonly delivered: { readonly stream_seq: number };
  readonly num_ack_pending: number;
}

/**
 * The stream sequence up to which every message was acknowledged. The server's `ack_floor` is 0
 * until a first acknowledgement, also for a durable that starts after thousands of messages; but
 * with nothing waiting for an acknowledgement, everything delivered is acknowledged, and
 * `delivered` starts just before the durable's first message.
 */
export function floorOf(progress: DurableProgress): number {
  return progress.num_ack_pending === 0
    ? Math.max(progress.ack_floor.stream_seq, progress.delivered.stream_seq)
    : progress.ack_floor.stream_seq;
}

/** Reads and writes the record in `cluster_bridge` (a file without the row records nothing). */
export class FloorStore {
  private readonly read;
  private readonly write;

  constructor(db: Database.Database) {
    this.read = db.prepare(
      'SELECT in_floor AS floor, in_stream AS stream FROM cluster_bridge WHERE id = 1',
    );
    this.write = db.prepare('UPDATE cluster_bridge SET in_floor = ?, in_stream = ? WHERE id = 1');
  }

  load(): FloorRecord {
    return (this.read.get() as FloorRecord | undefined) ?? { floor: 0, stream: null };
  }

  /** Synchronous: run it inside the caller's write (`persist`). */
  save(record: FloorRecord): void {
    this.write.run(record.floor, record.stream);
  }
}
