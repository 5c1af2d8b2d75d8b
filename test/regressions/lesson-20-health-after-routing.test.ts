// Lesson 20: the router's own health check crashed once any event had been routed.
import { expect, it } from 'vitest';
import { StageEventBus } from '../../src/index.js';
import { testRouter } from '../support/router.js';

it('answers health() after events of every kind were routed', async () => {
  const { router } = testRouter();
  const stages = new StageEventBus(router);
  router.subscribe('*', () => {});
  router.subscribe('HOST_ONLINE', () => {
    throw new Error('handler error');
  });
  router.publish('HOST_ONLINE', { host: 'h' });
  router.fireAndForget('TRAINING_PROGRESS', {});
  stages.emit({ event: 'ITERATION_COMPLETE', success: true, iteration: 1 });
  await router.whenIdle();
  const health = router.health();
  expect(health).toMatchObject({ healthy: true, published: 3, handlerErrors: 1 });
  await router.close();
});
