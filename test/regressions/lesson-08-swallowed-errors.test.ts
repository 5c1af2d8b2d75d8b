// Lesson 8: calls to APIs that did not exist were swallowed by broad `except` blocks.
import { expect, it } from 'vitest';
import { testRouter } from '../support/router.js';

it('lets a programming error escape fireAndForget instead of logging it away', async () => {
  const { router } = testRouter();
  const payload = {
    get broken(): never {
      throw new TypeError('a bug in the publisher');
    },
  };
  expect(() => router.fireAndForget('TRAINING_PROGRESS', payload)).toThrow(TypeError);
  expect(router.getStats().fireAndForgetErrors).toBe(0);
  await router.close();
});

it('logs a failing handler at error level with the error, never silently', async () => {
  const { router, log } = testRouter();
  router.subscribe('TRAINING_PROGRESS', () => {
    (undefined as unknown as { notAnApi(): void }).notAnApi();
  });
  router.publish('TRAINING_PROGRESS', {});
  await router.whenIdle();
  const [record] = log.atLeast(50);
  expect((record?.err as { type?: string } | undefined)?.type).toBe('TypeError');
  await router.close();
});
