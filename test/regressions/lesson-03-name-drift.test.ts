// Lesson 3: subscribe("ELO_UPDATED") and subscribe(ELO_UPDATED) were different keys;
// "new_games_available" reached nobody; two distinct events were merged.
import { expect, it } from 'vitest';
import { CATALOG } from '../../src/index.js';
import { testRouter } from '../support/router.js';

it('uses one key for every spelling, on publish and on subscribe alike', async () => {
  const { router } = testRouter();
  const got: string[] = [];
  router.subscribe(CATALOG.ELO_UPDATED.name, () => void got.push('enum'));
  router.subscribe('elo_updated', () => void got.push('value'));
  router.subscribe('new_games_available', () => void got.push('new_games'));
  expect(router.getSubscriptionCounts()).toEqual({ ELO_UPDATED: 2, NEW_GAMES_AVAILABLE: 1 });
  const elo = { config_key: 'x', model_id: 'm', new_elo: 1, old_elo: 0, games_played: 1 };
  router.publish('ELO_UPDATED', elo);
  router.publish('new_games', { host: 'h', new_games: 1, total_games: 1 });
  await router.whenIdle();
  expect(got.sort()).toEqual(['enum', 'new_games', 'value']);
  await router.close();
});

it('keeps PBT_COMPLETED and PBT_GENERATION_COMPLETE apart', async () => {
  const { router } = testRouter();
  const got: string[] = [];
  router.subscribe('PBT_GENERATION_COMPLETE', (e) => void got.push(e.type));
  router.publish('PBT_COMPLETED', {});
  router.publish('pbt_complete', {});
  await router.whenIdle();
  expect(got).toEqual(['PBT_GENERATION_COMPLETE']);
  await router.close();
});
