/**
 * A subscriber's mailbox: its events in publish order, handled one at a time. Mailboxes do not
 * wait for each other, so a slow or hung handler delays only its own events (lesson 6).
 *
 * Written with callbacks rather than `async`/`await` on purpose: a sync handler costs no promise
 * and no microtask per event, which is most of the router's throughput.
 */
import type { Envelope } from '../events/envelope.js';

/** What a subscriber's function may be: sync or async, its result ignored. */
export type Handler<E extends Envelope = Envelope> = (envelope: E) => unknown;

/** The router's side of a mailbox: accounting, logging and the timeout watchdog. */
export interface MailboxHost {
  now(): number;
  delivered(box: Mailbox, envelope: Envelope, startedAt: number): void;
  failed(box: Mailbox, envelope: Envelope, error: unknown, startedAt: number): void;
  timedOut(box: Mailbox, envelope: Envelope): void;
  /** A handler settled after its timeout had already been reported. */
  settledLate(box: Mailbox, envelope: Envelope, error: unknown): void;
  asyncStarted(box: Mailbox): void;
  asyncEnded(box: Mailbox): void;
  idle(box: Mailbox): void;
}

export class Mailbox {
  private queue: (Envelope | undefined)[] = [];
  private head = 0;
  private scheduled = false;
  private current: Envelope | null = null;
  /** Bumped when a handler times out, so that its late settlement is recognised and ignored. */
  private token = 0;
  /** When the in-flight async handler must have settled (clock ms). */
  deadline = 0;
  delivered = 0;
  failed = 0;
  timedOut = 0;

  constructor(
    readonly name: string,
    readonly pattern: string,
    readonly handler: Handler,
    readonly timeoutMs: number,
    private readonly host: MailboxHost,
  ) {}

  /** Events waiting plus the one being handled. */
  get depth(): number {
    return this.queue.length - this.head + (this.current ? 1 : 0);
  }

  push(envelope: Envelope): void {
    this.queue.push(envelope);
    if (!this.scheduled && this.current === null) {
      this.scheduled = true;
      queueMicrotask(this.run);
    }
  }

  /** Called by the watchdog once `now >= deadline`: give up on the current handler, move on. */
  expire(): void {
    const envelope = this.current;
    if (!envelope) return;
    this.token++;
    this.current = null;
    this.timedOut++;
    this.host.asyncEnded(this);
    this.host.timedOut(this, envelope);
    this.drain();
  }

  private readonly run = (): void => {
    this.scheduled = false;
    this.drain();
  };

  /**
   * Handles the next event. One event per microtask: with several subscribers, sync handlers
   * of one event all run before any handler of the next one (registration order per event),
   * and a subscriber with a long queue cannot starve the others.
   */
  private drain(): void {
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.host.idle(this);
      return;
    }
    // A mailbox that never empties still must not grow: drop the handled prefix now and then.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    const envelope = this.queue[this.head] as Envelope;
    this.queue[this.head++] = undefined; // let the envelope go once handled
    const startedAt = this.host.now();
    let result: unknown;
    try {
      result = this.handler(envelope);
    } catch (error) {
      this.failed++;
      this.host.failed(this, envelope, error, startedAt);
      this.next();
      return;
    }
    if (isThenable(result)) {
      this.await(result, envelope, startedAt);
      return;
    }
    this.delivered++;
    this.host.delivered(this, envelope, startedAt);
    this.next();
  }

  /** Yields to the other mailboxes before the next event, or goes idle at once when empty. */
  private next(): void {
    if (this.head >= this.queue.length) {
      this.drain();
      return;
    }
    this.scheduled = true;
    queueMicrotask(this.run);
  }

  private await(result: PromiseLike<unknown>, envelope: Envelope, startedAt: number): void {
    const token = ++this.token;
    this.current = envelope;
    this.deadline = startedAt + this.timeoutMs;
    this.host.asyncStarted(this);
    result.then(
      () => this.settle(token, envelope, startedAt, false, undefined),
      (error: unknown) => this.settle(token, envelope, startedAt, true, error),
    );
  }

  private settle(
    token: number,
    envelope: Envelope,
    startedAt: number,
    rejected: boolean,
    error: unknown,
  ): void {
    if (token !== this.token) {
      this.host.settledLate(this, envelope, rejected ? error : undefined);
      return;
    }
    this.current = null;
    this.host.asyncEnded(this);
    if (rejected) {
      this.failed++;
      this.host.failed(
        this,
        envelope,
        error ?? new Error('handler rejected with no reason'),
        startedAt,
      );
    } else {
      this.delivered++;
      this.host.delivered(this, envelope, startedAt);
    }
    // Already in a promise reaction of its own: no need to queue another microtask.
    this.drain();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
