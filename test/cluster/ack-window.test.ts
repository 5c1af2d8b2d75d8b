/**
 * The acknowledgement window's rules, with messages that record their acknowledgements (the
 * bridge acknowledges with `JsMsg.ack()` and nothing else; inbound-acks.test.ts counts them on a
 * real server).
 */
import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { AckWindow } from '../../src/cluster/ack-window.js';

function messages(seqs: number[], acked: number[]): JsMsg[] {
  return seqs.map((seq) => ({ seq, ack: () => acked.push(seq) }) as unknown as JsMsg);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AckWindow', () => {
  it('acknowledges every message, in order, once the window is full', () => {
    const acked: number[] = [];
    const window = new AckWindow(4, 60_000);
    window.committed(messages([1], acked));
    window.committed(messages([2, 3], acked));
    expect(acked).toEqual([]);
    expect(window.pending).toBe(3);
    window.committed(messages([4], acked));
    expect(acked).toEqual([1, 2, 3, 4]);
    expect(window.pending).toBe(0);
  });

  it('acknowledges what waits after its delay, once', async () => {
    const acked: number[] = [];
    const window = new AckWindow(100, 10);
    window.committed(messages([1], acked));
    window.committed(messages([2], acked));
    await sleep(40);
    expect(acked).toEqual([1, 2]);
    await sleep(30);
    expect(acked).toEqual([1, 2]);
  });

  it('flushes at once (at stop), and a flush with nothing waiting sends nothing', () => {
    const acked: number[] = [];
    const window = new AckWindow(100, 60_000);
    window.flush();
    window.committed([]);
    expect(acked).toEqual([]);
    window.committed(messages([5, 6, 7], acked));
    window.flush();
    expect(acked).toEqual([5, 6, 7]);
    window.flush();
    expect(acked).toEqual([5, 6, 7]);
  });

  it('a full window cancels the timer it started', async () => {
    const acked: number[] = [];
    const window = new AckWindow(2, 10);
    window.committed(messages([1], acked));
    window.committed(messages([2], acked));
    expect(acked).toEqual([1, 2]);
    await sleep(40);
    expect(acked).toEqual([1, 2]);
  });
});
