/**
 * Acknowledges the inbound consumer's messages a window at a time.
 *
 * At a steady rate each message arrives alone and is a batch of its own, so acknowledging each
 * batch at once was one socket write per event in this process (and, on a host that mostly
 * sends, one per event of its own coming back): on these machines a loopback write costs 60 to
 * 80 µs of CPU, as much as the inbound transaction. The window acknowledges every committed
 * message of the last 20 ms (or 256 of them) in one turn, and the client sends acknowledgements
 * made in one turn in one write. Waiting costs no latency, since the event is committed and
 * handed to the router before its acknowledgement; what it costs is that after a kill -9 up to
 * one window is delivered again, which the inbox's envelope ids drop.
 *
 * Each message is acknowledged, not the last one for all before it (AckPolicy.Explicit, not
 * All): a message delivered to an incarnation that died before committing it must be delivered
 * again, and with AckPolicy.All the next incarnation's first acknowledgement, of a newer
 * message, would have covered it for good.
 */
import type { JsMsg } from '@nats-io/jetstream';

/** At most this many committed messages wait for their acknowledgement (max_ack_pending: 2,000). */
export const ACK_EVERY = 256;
/** And at most this long (ack_wait: 30 s). */
export const ACK_DELAY_MS = 20;

export class AckWindow {
  private waiting: JsMsg[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly every = ACK_EVERY,
    private readonly delayMs = ACK_DELAY_MS,
  ) {}

  /** `msgs` are committed, dead-lettered or this host's own: they may be acknowledged. */
  committed(msgs: readonly JsMsg[]): void {
    for (const msg of msgs) this.waiting.push(msg);
    if (this.waiting.length >= this.every) {
      this.flush();
      return;
    }
    if (this.timer === null && this.waiting.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      // A window waiting for its timer must not keep a process alive that is otherwise done.
      this.timer.unref();
    }
  }

  /** Acknowledges what is committed now (at stop, so that the next run is not sent it again). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const msgs = this.waiting;
    this.waiting = [];
    for (const msg of msgs) msg.ack();
  }

  /** Messages committed and not yet acknowledged. */
  get pending(): number {
    return this.waiting.length;
  }
}
