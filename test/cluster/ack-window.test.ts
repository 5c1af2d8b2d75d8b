/**
 * The acknowledgement window's rules, with a message that counts its acknowledgements (the bridge
 * acknowledges with `JsMsg.ack()` and nothing else; inbound-acks.test.ts counts
 * them on a real server).
 */
import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { AckWindow } from '../../src/cluster/ack-window.js';

function message(seq: number, acked: number[]): JsMsg {
  return { seq, ack: () => acked.push(seq) } as unknown as JsMsg;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AckWindow', () => {
  it('acknowledges only the last message, once the window is full', () => {
    const acked: number[] = [];
    const window = new AckWindow(4, 60_000);
    window.committed(message(1, acked), 1);
    window.committed(message(3, acked), 2);
    expect(acked).toEqual([]);
    expect(window.pending).toBe(3);
    window.committed(message(4, acked), 1);
    expect(acked).toEqual([4]);
    expect(window.pending).toBe(0);
  });

  it('acknowledges what waits after its delay, once', async () => {
    const acked: number[] = [];
    const window = new AckWindow(100, 10);
    window.committed(message(1, acked), 1);
    window.committed(message(2, acked), 1);
    await sleep(40);
    expect(acked).toEqual([2]);
    await sleep(30);
    expect(acked).toEqual([2]);
  });

  it('flushes at once (at stop), and a flush with nothing waiting sends nothing', () => {
    const acked: number[] = [];
    const window = new AckWindow(100, 60_000);
    window.flush();
    expect(acked).toEqual([]);
    window.committed(message(7, acked), 5);
    window.flush();
    expect(acked).toEqual([7]);
    window.flush();
    expect(acked).toEqual([7]);
  });

  it('a full window cancels the timer it started', async () => {
    const acked: number[] = [];
    const window = new AckWindow(2, 10);
    window.committed(message(1, acked), 1);
    window.committed(message(2, acked), 1);
    expect(acked).toEqual([2]);
    await sleep(40);
    expect(acked).toEqual([2]);
  });
});
