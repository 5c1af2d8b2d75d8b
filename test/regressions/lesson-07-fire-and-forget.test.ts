// Lesson 7: un-awaited publishes were never sent; tracked tasks piled up and starved the loop.
import { expect, it } from 'vitest';
import { MailboxFullError } from '../../src/index.js';
import { testRouter } from '../support/router.js';

it('delivers fire-and-forget events without anyone awaiting them', async () => {
  const { router } = testRouter();
  const got: number[] = [];
  router.subscribe('TRAINING_PROGRESS', (e) => void got.push(e.payload.n as number));
  for (let n = 0; n < 100; n++) router.fireAndForget('TRAINING_PROGRESS', { n });
  await router.close();
  expect(got).toHaveLength(100);
});

it('bounds pending work per subscriber instead of piling it up', async () => {
  const { router, log } = testRouter({ mailboxCapacity: 10, handlerTimeoutMs: 20 });
  router.subscribe('TRAINING_PROGRESS', () => new Promise(() => {}), { name: 'stuck' });
  for (let n = 0; n < 50; n++) router.fireAndForget('TRAINING_PROGRESS', { n });
  expect(router.getStats().fireAndForgetErrors).toBe(40);
  expect(log.records.filter((r) => r.msg === 'fireAndForget rejected')).toHaveLength(40);
  expect(() => router.publish('TRAINING_PROGRESS', {})).toThrow(MailboxFullError);
  await router.close();
});
