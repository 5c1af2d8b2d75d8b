/**
 * The inbound consumer's acknowledgements, on the wire. At a steady rate each message arrives
 * on its own, and acknowledging each at once was one socket write per event on the receiving
 * host (and one per event of its own coming back on the sending host). The bridge acknowledges
 * what is committed a window at a time (`src/cluster/ack-window.ts`: after 256 messages or 20 ms,
 * and at stop), each message for itself (AckPolicy.Explicit): a message delivered to an
 * incarnation that died before committing it is delivered again, where AckPolicy.All let the next
 * incarnation's first acknowledgement cover it for good. Acknowledgements are plain NATS messages
 * to `$JS.ACK.<stream>.<consumer>...`, so a core subscription on another connection sees each.
 */
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { AckWindow } from '../../src/cluster/ack-window.js';
import { memoryLogger } from '../support/memory-logger.js';
import { natsUnavailable, startNats } from '../support/nats.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { bridgeRuntime, clusterScratch, eventually, rowsOf } from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`inbound acknowledgement tests not run: ${unavailable}`);

const STREAM = 'RINGRIFT_ringrift';
const EVENTS = 100;
const GAP_MS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable !== null)('inbound acknowledgements (real nats-server)', () => {
  const { servers, dir } = clusterScratch('ringrift-acks-');

  it('acknowledges every committed message once, a window at a time in a few socket writes, and leaves none pending while idle or after stop', async () => {
    const nats = await startNats();
    servers.push(nats);
    // b talks to the server through a proxy that counts b's socket writes.
    const proxy = await startTcpProxy(nats.port);
    const observer = await connect({ servers: nats.url });
    const acks = new Map<string, number>();
    observer.subscribe('$JS.ACK.>', {
      callback: (_error, m) => {
        // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ms>.<pending>
        const consumer = m.subject.split('.')[3] ?? '?';
        acks.set(consumer, (acks.get(consumer) ?? 0) + 1);
      },
    });
    await observer.flush();
    const jsm = await jetstreamManager(observer);
    const scratch = dir();
    const bFile = join(scratch, 'b.db');
    const a = bridgeRuntime(join(scratch, 'a.db'), nats.url, 'a');
    const b = bridgeRuntime(bFile, proxy.url, 'b');
    try {
      await a.start();
      await b.start();
      await eventually(
        () => a.status().cluster?.state === 'ok' && b.status().cluster?.state === 'ok',
        10_000,
        'both bridges ok',
      );
      const received = () => rowsOf(bFile, 'TRAINING_STARTED');
      await sleep(200);
      acks.clear();
      const writesBefore = proxy.clientChunks();
      for (let i = 0; i < EVENTS; i++) {
        a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
        await sleep(GAP_MS);
      }
      await eventually(() => received().length === EVENTS, 10_000, `all ${EVENTS} on b`);
      // While b stays up and idle, its last window is acknowledged by the timer.
      for (const consumer of ['host_b', 'host_a'])
        await eventually(
          async () => (await jsm.consumers.info(STREAM, consumer)).num_ack_pending === 0,
          5_000,
          `${consumer} has nothing waiting for an acknowledgement`,
        );
      // Each message once: b's from a, and a's own coming back to it.
      expect(acks.get('host_b')).toBe(EVENTS);
      expect(acks.get('host_a')).toBe(EVENTS);
      // Events 5 ms apart and a 20 ms window: about one write of acknowledgements per 4 events,
      // where one per event was 100 writes. A slow machine bunches events up, which makes fewer.
      const writes = proxy.clientChunks() - writesBefore;
      expect(writes, "b's socket writes while 100 events came").toBeLessThanOrEqual(EVENTS / 2);

      // Stopping right after a commit leaves nothing unacknowledged behind (the window is flushed
      // at stop when its timer has not fired yet; ack-window.test.ts pins that down).
      let handled: () => void = () => {};
      const onB = new Promise<void>((resolve) => {
        handled = resolve;
      });
      const last = a.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' });
      b.router.subscribe('TRAINING_STARTED', (e) => {
        if (e.id === last.id) handled();
      });
      await onB;
      await b.stop();
      const info = await jsm.consumers.info(STREAM, 'host_b');
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_pending).toBe(0);
    } finally {
      await b.stop();
      await a.stop();
      await observer.close();
      await proxy.close();
    }
  }, 60_000);

  it('a message delivered to an incarnation that died before committing it is delivered again, after the next one acknowledged newer messages', async () => {
    const nats = await startNats();
    servers.push(nats);
    const scratch = dir();
    const bFile = join(scratch, 'b.db');
    const a = bridgeRuntime(join(scratch, 'a.db'), nats.url, 'a');
    const first = bridgeRuntime(bFile, nats.url, 'b');
    const nc = await connect({ servers: nats.url });
    const observer = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(observer);
    let b = first;
    try {
      await a.start();
      await first.start();
      await eventually(() => first.status().cluster?.state === 'ok', 10_000, 'b ok');
      await first.stop();
      // The dying incarnation: b's consumer delivers it a message on a connection that then
      // goes away without acknowledging it (as a kill -9 between delivery and commit does).
      const lost = a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
      const consumer = await jetstream(nc).consumers.get(STREAM, 'host_b');
      const delivered = await consumer.next({ expires: 5_000 });
      expect(delivered?.json<{ envelope_id: string }>().envelope_id).toBe(lost.id);
      await nc.close();
      // The next incarnation gets and acknowledges a newer message first.
      b = bridgeRuntime(bFile, nats.url, 'b');
      await b.start();
      const newer = a.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' });
      const ids = () => rowsOf(bFile, 'TRAINING_STARTED').map((r) => r.envelope_id);
      await eventually(() => ids().includes(newer.id), 10_000, 'the newer event on b');
      await eventually(
        async () => (await jsm.consumers.info(STREAM, 'host_b')).num_ack_pending === 1,
        5_000,
        "only the dead incarnation's message still pending (with AckPolicy.All it was covered: 0)",
      );
      // ack_wait is 30 s: then it comes again, and b writes it once.
      await eventually(() => ids().includes(lost.id), 45_000, 'the lost event redelivered to b');
      expect(ids().filter((id) => id === lost.id)).toHaveLength(1);
    } finally {
      await b.stop();
      await a.stop();
      if (!nc.isClosed()) await nc.close();
      await observer.close();
    }
  }, 90_000);

  it('a durable of an earlier version (AckPolicy.All) is made again with explicit acknowledgements, from after its last acknowledged message', async () => {
    const nats = await startNats();
    servers.push(nats);
    const scratch = dir();
    const a = bridgeRuntime(join(scratch, 'a.db'), nats.url, 'a');
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const bFile = join(scratch, 'b.db');
    const log = memoryLogger();
    const b = bridgeRuntime(bFile, nats.url, 'b', log.logger);
    try {
      await a.start();
      await eventually(() => a.status().cluster?.state === 'ok', 10_000, 'a ok');
      // b's durable as an earlier version made it; it had acknowledged nothing yet.
      await jsm.consumers.add(STREAM, {
        durable_name: 'host_b',
        ack_policy: AckPolicy.All,
        deliver_policy: DeliverPolicy.New,
        ack_wait: 30_000_000_000,
      });
      const waiting = a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
      await eventually(
        async () => (await jsm.consumers.info(STREAM, 'host_b')).num_pending === 1,
        5_000,
        'the event waiting for b',
      );
      await b.start();
      await eventually(
        () => rowsOf(bFile, 'TRAINING_STARTED').some((r) => r.envelope_id === waiting.id),
        10_000,
        'the waiting event on b',
      );
      const info = await jsm.consumers.info(STREAM, 'host_b');
      expect(info.config.ack_policy).toBe(AckPolicy.Explicit);
      expect(log.records.some((r) => /made again with explicit acknowledgements/.test(r.msg))).toBe(
        true,
      );
    } finally {
      await b.stop();
      await a.stop();
      await nc.close();
    }
  }, 60_000);

  // The window's timer may fire after the connection closed (a stop that closed it first): the
  // client then buffers the acknowledgement on the dead connection and does not throw, so no
  // timer can end the process. The message is delivered again and dropped by envelope id.
  it('an acknowledgement after the connection closed does not throw', async () => {
    const nats = await startNats();
    servers.push(nats);
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ACKS', subjects: ['acks.>'] });
    await jsm.consumers.add('ACKS', { durable_name: 'c', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    await js.publish('acks.one', 'x');
    const msg = await (await js.consumers.get('ACKS', 'c')).next({ expires: 2_000 });
    expect(msg).not.toBeNull();
    await nc.close();
    const window = new AckWindow(100, 60_000);
    if (msg) window.committed([msg]);
    expect(() => window.flush()).not.toThrow();
    expect(window.pending).toBe(0);
  }, 30_000);
});
