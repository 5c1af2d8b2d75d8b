/**
 * Acknowledges the inbound consumer's messages a window at a time.
 *
 * The consumer's AckPolicy.All lets one acknowledgement of the last committed message cover
 * every message delivered before it. At a steady rate each message arrives alone and is a
 * batch of its own, so acknowledging each batch at once was one socket write per event in this
 * process (and, on a host that mostly sends, one per event of its own coming back) and one more
 * message for nats-server to handle: on these machines a loopback write costs 60 to 80 µs of
 * CPU, as much as the inbound transaction. Waiting a few milliseconds costs no latency, since the
 * event is committed and handed to the router before its acknowledgement; what it costs is that
 * after a kill -9 up to one window is delivered again, which the inbox's envelope ids drop.
 */
import type { JsMsg } from '@nats-io/jetstream';

/** At most this many committed messages wait for their acknowledgement (max_ack_pending: 2,000). */
export const ACK_EVERY = 256;
/** And at most this long (ack_wait: 30 s). */
export const ACK_DELAY_MS = 20;

export class AckWindow {
  private last: JsMsg | null = null;
  private waiting = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly every = ACK_EVERY,
    private readonly delayMs = ACK_DELAY_MS,
  ) {}

  /**
   * `msg` and the `count` messages before it (since the last call) are committed, dead-lettered
   * or this host's own: it may be acknowledged, and with it all of them.
   */
  committed(msg: JsMsg, count: number): void {
    this.last = msg;
    this.waiting += count;
    if (this.waiting >= this.every) {
      this.flush();
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      // A window waiting for its timer must not keep a process alive that is otherwise done.
      this.timer.unref();
    }
  }

  /** Acknowledges what is committed now (at stop, so that the next run is not sent it again). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const msg = this.last;
    this.last = null;
    this.waiting = 0;
    msg?.ack();
  }

  /** Messages committed and not yet acknowledged. */
  get pending(): number {
    return this.waiting;
  }
}
