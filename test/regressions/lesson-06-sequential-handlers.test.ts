// Lesson 6: handlers ran one after another with a 600 s timeout; sync handlers had none.
import { expect, it } from 'vitest';
import { testRouter, tick } from '../support/router.js';

it('does not make the publisher or other handlers wait for a slow handler', async () => {
  const { router } = testRouter({ handlerTimeoutMs: 50 });
  const fast: number[] = [];
  router.subscribe('TRAINING_PROGRESS', () => new Promise((r) => setTimeout(r, 10_000)), {
    name: 'slow',
  });
  router.subscribe('TRAINING_PROGRESS', (e) => void fast.push(e.payload.n as number));
  const started = performance.now();
  for (let n = 0; n < 3; n++) router.publish('TRAINING_PROGRESS', { n });
  const publishMs = performance.now() - started;
  await tick(5);
  expect(fast).toEqual([0, 1, 2]);
  expect(publishMs).toBeLessThan(1_000); // publish never waits for a handler at all
  await router.whenIdle(); // the slow handler is cut off by its 50 ms timeout, three times
  expect(router.getStats().handlerTimeouts).toBe(3);
  await router.close();
});
