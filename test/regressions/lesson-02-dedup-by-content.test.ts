// Lesson 2: two identical events within 30 s were collapsed by a payload hash.
import { expect, it } from 'vitest';
import { testRouter } from '../support/router.js';

it('delivers two events with identical payloads twice, with distinct ids', async () => {
  const { router } = testRouter();
  const ids: string[] = [];
  router.subscribe('HOST_OFFLINE', (e) => void ids.push(e.id));
  const payload = { host: 'gpu-7', reason: 'heartbeat lost', timestamp: 1_750_000_000 };
  router.publish('HOST_OFFLINE', payload);
  router.publish('HOST_OFFLINE', payload);
  await router.whenIdle();
  expect(ids).toHaveLength(2);
  expect(new Set(ids).size).toBe(2);
  await router.close();
});
