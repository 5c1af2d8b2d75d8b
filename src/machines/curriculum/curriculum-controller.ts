/**
 * CURRICULUM_CONTROLLER (the guide's CurriculumController): each config climbs the original's
 * curriculum tiers, beginner -> easy -> medium -> hard -> expert. A config leaves its tier once
 * its gauntlets (EVALUATION_COMPLETED) have played the tier's games and the last one won at
 * least the tier's share: 0.60 after 50 games, 0.55 after 100, 0.52 after 150, 0.50 after 200
 * (the original's thresholds and game counts; expert is the last). Each step is a
 * CURRICULUM_ADVANCED, which DATA_PIPELINE tracks.
 *
 * The original's CurriculumController is a training-side class that emits no event (its
 * CURRICULUM_ADVANCED came from several feedback paths); this daemon plays the guide's row.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const CURRICULUM_CONTROLLER_SUBSCRIBES = subscriptions('EVALUATION_COMPLETED');

export const TIERS = ['beginner', 'easy', 'medium', 'hard', 'expert'] as const;
export type Tier = (typeof TIERS)[number];
/** What leaving each tier takes (expert is the last). */
export const ADVANCE: Readonly<
  Record<Exclude<Tier, 'expert'>, { winRate: number; games: number }>
> = {
  beginner: { winRate: 0.6, games: 50 },
  easy: { winRate: 0.55, games: 100 },
  medium: { winRate: 0.52, games: 150 },
  hard: { winRate: 0.5, games: 200 },
};

export interface CurriculumControllerContext {
  /** Config -> its tier and the gauntlet games played at it. */
  readonly configs: Readonly<Record<string, { readonly tier: Tier; readonly games: number }>>;
}

export const curriculumControllerMachine = setup({
  types: {
    context: {} as CurriculumControllerContext,
    events: {} as DaemonMachineEvent<typeof CURRICULUM_CONTROLLER_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
}).createMachine({
  id: 'curriculumController',
  context: { configs: {} },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = event.payload;
            const at = context.configs[p.config_key] ?? { tier: 'beginner' as Tier, games: 0 };
            const games = at.games + p.games_played;
            const rule = at.tier === 'expert' ? undefined : ADVANCE[at.tier];
            if (!rule || games < rule.games || p.win_rate < rule.winRate) {
              enqueue.assign({
                configs: { ...context.configs, [p.config_key]: { tier: at.tier, games } },
              });
              return;
            }
            const next = TIERS[TIERS.indexOf(at.tier) + 1] as Tier;
            enqueue.emit({
              type: 'CURRICULUM_ADVANCED',
              payload: {
                config_key: p.config_key,
                old_tier: at.tier,
                new_tier: next,
                trigger_reason: `won ${p.win_rate.toFixed(2)} (at least ${rule.winRate}) after ${games} games at ${at.tier}`,
                elo: p.elo,
                win_rate: p.win_rate,
                games_at_tier: games,
              },
            });
            enqueue.assign({
              configs: { ...context.configs, [p.config_key]: { tier: next, games: 0 } },
            });
          }),
        },
      },
    },
  },
});
