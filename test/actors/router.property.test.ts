/**
 * Random interleavings of subscribe, unsubscribe, publish and waiting: every subscription gets
 * exactly the events published while it was active, once each, in publish order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/index.js';
import { testRouter } from '../support/router.js';

type Op =
  | { kind: 'subscribe'; slot: number; type: number; async: boolean }
  | { kind: 'unsubscribe'; slot: number }
  | { kind: 'publish'; type: number }
  | { kind: 'yield' };

const TYPES = ['TRAINING_HEARTBEAT', 'TRAINING_PROGRESS', '*'] as const;

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('subscribe' as const),
    slot: fc.integer({ min: 0, max: 4 }),
    type: fc.integer({ min: 0, max: 2 }),
    async: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('unsubscribe' as const), slot: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('publish' as const), type: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant('yield' as const) }),
);

describe('router (property)', () => {
  it('never delivers twice, never out of order, never outside the subscription window', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const { router } = testRouter();
        let seq = 0;
        // Per subscription: what it must receive and what it did.
        const windows: { expected: number[]; got: number[] }[] = [];
        const slots = new Map<number, { off: () => void; window: number; type: string }>();
        const published: { n: number; type: string }[] = [];
        for (const o of ops) {
          if (o.kind === 'subscribe' && !slots.has(o.slot)) {
            const window = windows.push({ expected: [], got: [] }) - 1;
            const type = TYPES[o.type] as string;
            const record = (e: Envelope) => void windows[window]?.got.push(e.payload.n as number);
            const handler = o.async
              ? async (e: Envelope) => {
                  await Promise.resolve();
                  record(e);
                }
              : record;
            slots.set(o.slot, { off: router.subscribe(type, handler), window, type });
          } else if (o.kind === 'unsubscribe') {
            slots.get(o.slot)?.off();
            slots.delete(o.slot);
          } else if (o.kind === 'publish') {
            const type = TYPES[o.type] as string;
            const n = seq++;
            router.publish(type, { n });
            published.push({ n, type });
            for (const s of slots.values()) {
              if (s.type === '*' || s.type === type) windows[s.window]?.expected.push(n);
            }
          } else if (o.kind === 'yield') {
            await Promise.resolve();
          }
        }
        await router.whenIdle();
        await router.close();
        for (const w of windows) expect(w.got).toEqual(w.expected);
      }),
      { numRuns: 200 },
    );
  });
});
