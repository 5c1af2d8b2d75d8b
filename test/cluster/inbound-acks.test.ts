/**
 * The inbound consumer's acknowledgements, counted on the wire. Its AckPolicy.All lets one
 * acknowledgement cover every message before it, and at a steady rate each message arrives on its
 * own: acknowledging each at once was one socket write per event on the receiving host (and one
 * per event of its own coming back on the sending host). The bridge now acknowledges what is
 * committed a window at a time (`src/cluster/ack-window.ts`): after 256 messages or 20 ms, and
 * at stop. Acknowledgements are plain NATS messages to `$JS.ACK.<stream>.<consumer>...`, so a core
 * subscription on another connection sees every one of them.
 */
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { ACK_DELAY_MS, AckWindow } from '../../src/cluster/ack-window.js';
import { natsUnavailable, startNats } from '../support/nats.js';
import { bridgeRuntime, clusterScratch, eventually, rowsOf } from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`inbound acknowledgement tests not run: ${unavailable}`);

const STREAM = 'RINGRIFT_ringrift';
const EVENTS = 100;
const GAP_MS = 5;

describe.skipIf(unavailable !== null)('inbound acknowledgements (real nats-server)', () => {
  const { servers, dir } = clusterScratch('ringrift-acks-');

  it('acknowledges committed messages a window at a time, not one per event, and leaves none pending while idle or after stop', async () => {
    const nats = await startNats();
    servers.push(nats);
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
    const b = bridgeRuntime(bFile, nats.url, 'b');
    try {
      await a.start();
      await b.start();
      await eventually(
        () => a.status().cluster?.state === 'ok' && b.status().cluster?.state === 'ok',
        10_000,
        'both bridges ok',
      );
      acks.clear();
      const ids = new Set<string>();
      for (let i = 0; i < EVENTS; i++) {
        ids.add(a.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' }).id);
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
      const received = () =>
        rowsOf(bFile, 'TRAINING_STARTED').filter((r) => ids.has(r.envelope_id));
      await eventually(() => received().length === EVENTS, 10_000, `all ${EVENTS} on b`);
      // While b stays up and idle, its last window is acknowledged by the timer.
      await eventually(
        async () => (await jsm.consumers.info(STREAM, 'host_b')).num_ack_pending === 0,
        5_000,
        "b's consumer has nothing waiting for an acknowledgement",
      );
      await eventually(
        async () => (await jsm.consumers.info(STREAM, 'host_a')).num_ack_pending === 0,
        5_000,
        "a's consumer (its own events coming back) has nothing waiting either",
      );
      // Events 5 ms apart and a 20 ms window: about one acknowledgement per 4 events. Before, one
      // per event (100). A slow machine bunches events up, which only makes fewer.
      const bound = Math.ceil(EVENTS / (ACK_DELAY_MS / GAP_MS / 2));
      for (const consumer of ['host_a', 'host_b']) {
        const n = acks.get(consumer) ?? 0;
        expect(n, `${consumer}'s acknowledgements for ${EVENTS} events`).toBeGreaterThanOrEqual(1);
        expect(n, `${consumer}'s acknowledgements for ${EVENTS} events`).toBeLessThanOrEqual(bound);
      }
      expect(received().length).toBe(EVENTS);

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
    await jsm.consumers.add('ACKS', { durable_name: 'c', ack_policy: AckPolicy.All });
    const js = jetstream(nc);
    await js.publish('acks.one', 'x');
    const msg = await (await js.consumers.get('ACKS', 'c')).next({ expires: 2_000 });
    expect(msg).not.toBeNull();
    await nc.close();
    const window = new AckWindow(100, 60_000);
    if (msg) window.committed(msg, 1);
    expect(() => window.flush()).not.toThrow();
    expect(window.pending).toBe(0);
  }, 30_000);
});
