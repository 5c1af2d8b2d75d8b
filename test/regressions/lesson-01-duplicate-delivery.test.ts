// Lesson 1: a publish came back through a bridge and was dispatched again; stage events three times.
import { expect, it } from 'vitest';
import { StageEventBus } from '../../src/index.js';
import { testRouter } from '../support/router.js';

it('delivers one publish once to a data, a stage and a wildcard subscriber', async () => {
  const { router } = testRouter();
  const stages = new StageEventBus(router);
  const counts = { data: 0, stage: 0, wildcard: 0 };
  router.subscribe('TRAINING_COMPLETED', () => void counts.data++);
  stages.subscribe('TRAINING_COMPLETE', () => void counts.stage++);
  router.subscribe('*', () => void counts.wildcard++);
  stages.emit({
    event: 'TRAINING_COMPLETE',
    success: true,
    config_key: 'x',
    metadata: { duration: 1 },
  });
  router.publish('TRAINING_COMPLETED', { config_key: 'x', success: true, duration: 1 });
  await router.whenIdle();
  expect(counts).toEqual({ data: 2, stage: 2, wildcard: 2 });
  expect(router.getStats().published).toBe(2);
  await router.close();
});
