/** A fixed-size ring of the most recent envelopes: memory stays flat however many are published. */
import type { Envelope } from '../events/envelope.js';

export class RecentEvents {
  private readonly slots: (Envelope | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array(capacity);
  }

  push(envelope: Envelope): void {
    if (this.capacity === 0) return;
    this.slots[this.next] = envelope;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Oldest first; at most `limit` of the newest, optionally of one type only. */
  list(limit: number, type?: string): Envelope[] {
    const out: Envelope[] = [];
    for (let i = 1; i <= this.count && out.length < limit; i++) {
      const e = this.slots[(this.next - i + this.capacity) % this.capacity];
      if (e && (type === undefined || e.type === type)) out.push(e);
    }
    return out.reverse();
  }
}
