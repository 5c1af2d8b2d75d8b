/**
 * The bridge's JetStream publisher on a real nats-server: a PubAck resolves, a resend of the same
 * msgID is stored once, a subject no stream listens on and a server that went away reject with a
 * PublishError (so the outbox keeps the event), never hang.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JetStreamPublisher, PublishError } from '../../src/cluster/publisher.js';
import { type NatsServer, natsUnavailable, startNats } from '../support/nats.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`publisher tests not run: ${unavailable}`);

describe.skipIf(unavailable !== null)('JetStreamPublisher (real nats-server)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;

  beforeEach(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, reconnectTimeWait: 200, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: 'PUB',
      subjects: ['pub.>'],
      duplicate_window: 120_000_000_000,
    });
  });

  afterEach(async () => {
    await nc.close();
    await nats.dispose();
  });

  it('resolves on the PubAck, in any number in flight; a resend of a msgID is stored once', async () => {
    const publisher = new JetStreamPublisher(nc);
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        publisher.publish(`pub.e.${i % 7}`, `{"n":${i}}`, `id-${i}`),
      ),
    );
    await publisher.publish('pub.e.0', '{"n":0}', 'id-0'); // a resend after a crash
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('PUB')).state.messages).toBe(500);
    publisher.close();
  });

  it('a subject no stream listens on is refused at once (503), not after a timeout', async () => {
    const publisher = new JetStreamPublisher(nc, 30_000);
    const started = performance.now();
    const error = await publisher.publish('nowhere.e', '{}', 'x').catch((e: Error) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(/503/);
    expect(performance.now() - started).toBeLessThan(10_000);
    publisher.close();
  });

  it('a server that went away: the acknowledgement times out (PublishError), and publishing works again once it is back', async () => {
    const publisher = new JetStreamPublisher(nc, 1_500);
    await publisher.publish('pub.e.1', '{}', 'before');
    await nats.stop();
    const error = await publisher.publish('pub.e.1', '{}', 'during').catch((e: Error) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(/no acknowledgement from JetStream in 1500 ms/);
    await nats.start();
    // The client reconnects by itself; the same publisher (its subscription with it) goes on.
    let stored = false;
    for (let i = 0; i < 40 && !stored; i++)
      stored = await publisher.publish('pub.e.1', '{}', 'after').then(
        () => true,
        () => false,
      );
    expect(stored).toBe(true);
    publisher.close();
  });

  it('closing rejects what still waits and refuses new messages', async () => {
    const publisher = new JetStreamPublisher(nc);
    await nats.stop();
    const waiting = publisher.publish('pub.e.2', '{}', 'w').catch((e: Error) => e);
    publisher.close();
    expect(await waiting).toBeInstanceOf(PublishError);
    expect(await publisher.publish('pub.e.2', '{}', 'late').catch((e: Error) => e)).toBeInstanceOf(
      PublishError,
    );
    await nats.start();
  });
});
