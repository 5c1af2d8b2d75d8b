/**
 * A host's inbound durable made again when it is missing (deleted by an operator, an upgrade that
 * failed between delete and add, a server that lost its store) starts after the floor its file
 * recorded, not "from new": what was published while it was missing still reaches the host, once.
 */
import { join } from 'node:path';
import { DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { durableStart, floorOf } from '../../src/cluster/inbound-floor.js';
import { memoryLogger } from '../support/memory-logger.js';
import { natsUnavailable, startNats } from '../support/nats.js';
import { bridgeRuntime, clusterScratch, duplicateIds, eventually, rowsOf } from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`inbound floor tests not run: ${unavailable}`);

const STREAM = 'RINGRIFT_ringrift';

/** What b's file records of its durable. */
function recordedFloor(file: string): { floor: number; stream: string | null } {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare('SELECT in_floor AS floor, in_stream AS stream FROM cluster_bridge WHERE id = 1')
      .get() as { floor: number; stream: string | null };
  } finally {
    db.close();
  }
}

describe('durableStart', () => {
  it('from now for a file that never read the cluster, after the floor on the same stream, from the first message of a stream made again since', () => {
    expect(durableStart({ floor: 0, stream: null }, 's1')).toEqual({
      deliver_policy: DeliverPolicy.New,
      why: 'first',
    });
    expect(durableStart({ floor: 41, stream: 's1' }, 's1')).toEqual({
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 42,
      why: 'resumed',
    });
    expect(durableStart({ floor: 41, stream: 's1' }, 's2')).toEqual({
      deliver_policy: DeliverPolicy.All,
      why: 'new-stream',
    });
  });
});

describe('floorOf', () => {
  it("the server's ack floor while messages wait for their acknowledgement; what was delivered when none does (a durable's ack floor is 0 before its first acknowledgement)", () => {
    const progress = (ack: number, delivered: number, pending: number) => ({
      ack_floor: { stream_seq: ack },
      delivered: { stream_seq: delivered },
      num_ack_pending: pending,
    });
    expect(floorOf(progress(0, 5, 0))).toBe(5); // a durable made "from new" after 5 messages
    expect(floorOf(progress(7, 9, 2))).toBe(7);
    expect(floorOf(progress(0, 9, 2))).toBe(0);
    expect(floorOf(progress(9, 9, 0))).toBe(9);
  });
});

describe.skipIf(unavailable !== null)('inbound floor (real nats-server)', () => {
  const { servers, dir } = clusterScratch('ringrift-floor-');

  it('a durable deleted while its host was down: at the next start the host gets every event published meanwhile, each once, none twice', async () => {
    const nats = await startNats();
    servers.push(nats);
    const scratch = dir();
    const bFile = join(scratch, 'b.db');
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const a = bridgeRuntime(join(scratch, 'a.db'), nats.url, 'a');
    const b = bridgeRuntime(bFile, nats.url, 'b');
    const log = memoryLogger();
    const b2 = bridgeRuntime(bFile, nats.url, 'b', log.logger);
    try {
      await a.start();
      await b.start();
      await eventually(
        () => a.status().cluster?.state === 'ok' && b.status().cluster?.state === 'ok',
        10_000,
        'both bridges ok',
      );
      const before = Array.from({ length: 5 }, () =>
        a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' }),
      );
      await eventually(
        () => rowsOf(bFile, 'TRAINING_STARTED').length === before.length,
        10_000,
        'the first events on b',
      );
      // The floor is polled from the server every 5 s: b's file records that it had them all.
      const last = (await jsm.streams.info(STREAM)).state.last_seq;
      await eventually(() => recordedFloor(bFile).floor >= last, 15_000, "b's floor past them");
      await b.stop();

      await jsm.consumers.delete(STREAM, 'host_b');
      const meanwhile = Array.from({ length: 7 }, () =>
        a.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' }),
      );
      await eventually(
        () => a.status().cluster?.bridgeStats?.sent === before.length + meanwhile.length,
        10_000,
        'a has sent them',
      );

      await b2.start();
      const ids = () => new Set(rowsOf(bFile, 'TRAINING_STARTED').map((r) => r.envelope_id));
      await eventually(
        () => meanwhile.every((e) => ids().has(e.id)),
        10_000,
        'the events published while b had no durable, on b',
      );
      expect(duplicateIds(bFile)).toEqual([]);
      expect(rowsOf(bFile, 'TRAINING_STARTED')).toHaveLength(before.length + meanwhile.length);
      // Resumed after the recorded floor: nothing b had was delivered to it again.
      expect(b2.status().cluster?.bridgeStats?.duplicates).toBe(0);
      expect(log.records.some((r) => /inbound consumer was missing; made again/.test(r.msg))).toBe(
        true,
      );
    } finally {
      await b2.stop();
      await b.stop();
      await a.stop();
      await nc.close();
    }
  }, 60_000);

  it("a new host whose durable goes missing before it acknowledged anything is not sent the stream's history", async () => {
    const nats = await startNats();
    servers.push(nats);
    const scratch = dir();
    const bFile = join(scratch, 'b.db');
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const a = bridgeRuntime(join(scratch, 'a.db'), nats.url, 'a');
    const b = bridgeRuntime(bFile, nats.url, 'b');
    const b2 = bridgeRuntime(bFile, nats.url, 'b');
    try {
      await a.start();
      await eventually(() => a.status().cluster?.state === 'ok', 10_000, 'a ok');
      // History from before b joined: b must never act on it.
      for (let i = 0; i < 3; i++) a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
      await eventually(() => a.status().cluster?.bridgeStats?.sent === 3, 10_000, 'a has sent it');
      await b.start();
      await eventually(() => b.status().cluster?.state === 'ok', 10_000, 'b ok');
      const last = (await jsm.streams.info(STREAM)).state.last_seq;
      // Recorded at once, not at the first poll: made "from new", b's floor is the stream's end.
      expect(recordedFloor(bFile).floor).toBe(last);
      await b.stop();
      await jsm.consumers.delete(STREAM, 'host_b');
      await b2.start();
      await eventually(() => b2.status().cluster?.state === 'ok', 10_000, 'b again ok');
      const after = a.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' });
      await eventually(
        () => rowsOf(bFile, 'TRAINING_STARTED').some((r) => r.envelope_id === after.id),
        10_000,
        'the event after b came back, on b',
      );
      expect(rowsOf(bFile, 'TRAINING_STARTED').map((r) => r.envelope_id)).toEqual([after.id]);
    } finally {
      await b2.stop();
      await b.stop();
      await a.stop();
      await nc.close();
    }
  }, 60_000);

  it('a stream made again while a host was down (the floor counts in the old one): the host gets every message of the new stream', async () => {
    const nats = await startNats();
    servers.push(nats);
    const scratch = dir();
    const bFile = join(scratch, 'b.db');
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const a = bridgeRuntime(join(scratch, 'a.db'), nats.url, 'a');
    const b = bridgeRuntime(bFile, nats.url, 'b');
    const c = bridgeRuntime(join(scratch, 'c.db'), nats.url, 'c');
    const log = memoryLogger();
    const b2 = bridgeRuntime(bFile, nats.url, 'b', log.logger);
    try {
      await a.start();
      await b.start();
      await eventually(
        () => a.status().cluster?.state === 'ok' && b.status().cluster?.state === 'ok',
        10_000,
        'both bridges ok',
      );
      const first = a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
      await eventually(
        () => rowsOf(bFile, 'TRAINING_STARTED').some((r) => r.envelope_id === first.id),
        10_000,
        'the first event on b',
      );
      const oldStream = recordedFloor(bFile).stream;
      expect(oldStream).not.toBe(null);
      await b.stop();
      await a.stop();
      // The stream is gone (a server that lost its store), and c, a new host, makes it again.
      await jsm.streams.delete(STREAM);
      await c.start();
      await eventually(() => c.status().cluster?.state === 'ok', 10_000, 'c ok');
      const fresh = Array.from({ length: 3 }, () =>
        c.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' }),
      );
      await eventually(
        () => c.status().cluster?.bridgeStats?.sent === fresh.length,
        10_000,
        'c has sent them',
      );

      await b2.start();
      const ids = () => new Set(rowsOf(bFile, 'TRAINING_STARTED').map((r) => r.envelope_id));
      await eventually(
        () => fresh.every((e) => ids().has(e.id)),
        10_000,
        "the new stream's events on b",
      );
      expect(duplicateIds(bFile)).toEqual([]);
      expect(recordedFloor(bFile).stream).not.toBe(oldStream);
      expect(log.records.some((r) => /the stream is not the one this host read/.test(r.msg))).toBe(
        true,
      );
    } finally {
      await b2.stop();
      await b.stop();
      await c.stop();
      await a.stop();
      await nc.close();
    }
  }, 60_000);
});
