/**
 * Publishes the outbox to JetStream: each message with `Nats-Msg-Id` (JetStream's duplicate
 * window stores a resend once) and a reply subject of its own under one wildcard subscription,
 * on which JetStream answers with the PubAck.
 *
 * Why not the client's `js.publish`: it is a request per message, with a timer, an inbox entry
 * and several Error objects (each capturing a stack) per message; measured on the sender of
 * `bench/cluster.bench.ts`, that was the largest share of its CPU after SQLite, on the core
 * that also runs the router. Here a message costs a header and a map entry; one sweep a second
 * times out the acknowledgements that never came (a server gone away, a partition).
 */
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

/** A publish JetStream did not acknowledge: refused, no stream, or no answer in time. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
}

interface Waiting {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly at: number;
}

export class JetStreamPublisher {
  private readonly prefix: string;
  private readonly subscription: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private readonly sweep: NodeJS.Timeout;
  private next = 0;
  private closed = false;

  constructor(
    readonly nc: NatsConnection,
    private readonly timeoutMs = 5_000,
  ) {
    this.prefix = createInbox('_INBOX.bridge');
    this.subscription = nc.subscribe(`${this.prefix}.*`, {
      callback: (error, msg) => (error ? this.failAll(error.message) : this.answer(msg)),
    });
    // The subscription ends with the connection: nothing pending will be answered then.
    void this.subscription.closed.then(() => this.failAll('the NATS connection closed'));
    this.sweep = setInterval(() => this.expire(), Math.min(1_000, timeoutMs));
    this.sweep.unref();
  }

  /** Resolves once JetStream stored the message (or had it already: a duplicate is stored once). */
  publish(subject: string, data: string, msgID: string): Promise<void> {
    if (this.closed) return Promise.reject(new PublishError('the publisher is closed'));
    const token = (this.next++).toString(36);
    const h = headers();
    h.set('Nats-Msg-Id', msgID);
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, at: performance.now() });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (error) {
        // A closed or draining connection refuses at once.
        this.waiting.delete(token);
        reject(error as Error);
      }
    });
  }

  private answer(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const w = this.waiting.get(token);
    if (!w) return; // timed out already: the resend is stored once
    this.waiting.delete(token);
    // A status instead of a PubAck: 503 when no stream listens on the subject.
    if (msg.headers?.hasError) {
      w.reject(
        new PublishError(
          msg.headers.code === 503
            ? 'no JetStream stream answered (503 no responders)'
            : `JetStream answered ${msg.headers.code} ${msg.headers.description}`,
        ),
      );
      return;
    }
    let ack: { stream?: string; error?: { code?: number; description?: string } };
    try {
      ack = JSON.parse(msg.string()) as typeof ack;
    } catch {
      w.reject(new PublishError('JetStream answered with something that is not a PubAck'));
      return;
    }
    if (ack.error)
      w.reject(
        new PublishError(
          `JetStream refused the message: ${ack.error.description ?? ack.error.code}`,
        ),
      );
    else if (!ack.stream) w.reject(new PublishError('JetStream answered without a stream'));
    else w.resolve();
  }

  private expire(): void {
    const limit = performance.now() - this.timeoutMs;
    for (const [token, w] of this.waiting) {
      // Insertion order is publish order: the first one young enough ends the sweep.
      if (w.at > limit) break;
      this.waiting.delete(token);
      w.reject(new PublishError(`no acknowledgement from JetStream in ${this.timeoutMs} ms`));
    }
  }

  private failAll(why: string): void {
    for (const w of this.waiting.values()) w.reject(new PublishError(why));
    this.waiting.clear();
  }

  /** Rejects what is still waiting (resent later from the outbox) and stops listening. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    this.subscription.unsubscribe();
    this.failAll('the publisher is closed');
  }
}
