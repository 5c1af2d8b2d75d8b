// Lesson 5: `config` vs `config_key`; a missing config_key on EVALUATION_COMPLETED silently
// blocked every promotion for weeks.
import { expect, it } from 'vitest';
import { EventValidationError } from '../../src/index.js';
import { testRouter } from '../support/router.js';

it('refuses EVALUATION_COMPLETED without config_key at publish, naming the field', async () => {
  const { router } = testRouter();
  expect(() =>
    router.publish('EVALUATION_COMPLETED', {
      elo: 1500,
      games_played: 200,
      win_rate: 0.6,
    } as never),
  ).toThrow(
    new EventValidationError('EVALUATION_COMPLETED', [
      { path: 'config_key', message: 'required (missing)' },
    ]),
  );
  await router.close();
});

it('gives subscribers config_key when the publisher wrote the original `config`', async () => {
  const { router } = testRouter();
  const keys: unknown[] = [];
  router.subscribe('EVALUATION_COMPLETED', (e) => void keys.push(e.payload.config_key));
  router.publish('evaluation_completed', {
    config: 'hex8_2p',
    elo: 1500,
    games_played: 200,
    win_rate: 0.6,
  });
  await router.whenIdle();
  expect(keys).toEqual(['hex8_2p']);
  await router.close();
});
