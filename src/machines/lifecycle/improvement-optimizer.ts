/**
 * IMPROVEMENT_OPTIMIZER (the guide's ImprovementOptimizer): tunes the loop from its outcomes,
 * with the original's numbers.
 *
 * - The learning rate follows the gauntlet (EVALUATION_COMPLETED, against the config's previous
 *   one; the original's EvaluationFeedbackHandler rule): Elo up by more than 10 -> x1.1, down by
 *   more than 10 -> x0.8, between (a plateau) -> x0.95. It keeps a multiplier per config (0.1 to
 *   2.0) and says it as HYPERPARAMETER_UPDATED `learning_rate_multiplier`, which the
 *   EvaluationFeedbackHandler (FEEDBACK_LOOP) applies to the config's learning rate.
 * - The gauntlet's length follows promotions (the original's "10% faster after 3 in a row", and
 *   slower after a rejection): from the third promotion in a row each promotion x0.9, each
 *   PROMOTION_REJECTED x1.1, within 0.5 to 2.0 (the original's range for its evaluation interval).
 *   ADAPTIVE_PARAMS_CHANGED `evaluation_games_multiplier`, which FEEDBACK_LOOP applies to the games
 *   of its next EVALUATION_REQUESTED.
 *
 * The original's optimizer only called registered callbacks; this daemon plays the guide's rows.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const IMPROVEMENT_OPTIMIZER_SUBSCRIBES = subscriptions(
  'EVALUATION_COMPLETED',
  'MODEL_PROMOTED',
  'PROMOTION_REJECTED',
);

/** Elo change that counts as a rise or a fall (not a plateau). */
export const ELO_STEP = 10;
export const LR_RANGE = [0.1, 2] as const;
export const GAMES_RANGE = [0.5, 2] as const;
/** Promotions in a row from which the gauntlet shortens. */
export const STREAK = 3;

const within = ([lo, hi]: readonly [number, number], v: number) =>
  Math.round(Math.min(hi, Math.max(lo, v)) * 1000) / 1000;

export function learningRateFactor(eloChange: number): number {
  return eloChange > ELO_STEP ? 1.1 : eloChange < -ELO_STEP ? 0.8 : 0.95;
}

export interface ImprovementOptimizerContext {
  /** Config -> its Elo at its last gauntlet. */
  readonly elo: Readonly<Record<string, number>>;
  readonly learningRate: Readonly<Record<string, number>>;
  readonly evaluationGames: Readonly<Record<string, number>>;
  /** Config -> promotions in a row (capped at STREAK: more change nothing). */
  readonly streak: Readonly<Record<string, number>>;
}

export const improvementOptimizerMachine = setup({
  types: {
    context: {} as ImprovementOptimizerContext,
    events: {} as DaemonMachineEvent<typeof IMPROVEMENT_OPTIMIZER_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  actions: {
    gauntlet: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'MODEL_PROMOTED' && event.type !== 'PROMOTION_REJECTED') return;
      const config = event.payload.config_key;
      const promoted = event.type === 'MODEL_PROMOTED';
      const streak = promoted ? Math.min(STREAK, (context.streak[config] ?? 0) + 1) : 0;
      enqueue.assign({ streak: { ...context.streak, [config]: streak } });
      if (promoted && streak < STREAK) return;
      const before = context.evaluationGames[config] ?? 1;
      const after = within(GAMES_RANGE, before * (promoted ? 0.9 : 1.1));
      if (after === before) return;
      enqueue.emit({
        type: 'ADAPTIVE_PARAMS_CHANGED',
        payload: {
          config_key: config,
          params: { evaluation_games_multiplier: after },
          reason: promoted
            ? `${STREAK} or more promotions in a row: a shorter gauntlet`
            : 'promotion rejected: a longer gauntlet',
        },
      });
      enqueue.assign({ evaluationGames: { ...context.evaluationGames, [config]: after } });
    }),
  },
}).createMachine({
  id: 'improvementOptimizer',
  context: { elo: {}, learningRate: {}, evaluationGames: {}, streak: {} },
  initial: 'tuning',
  states: {
    tuning: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const { config_key: config, elo } = event.payload;
            const previous = context.elo[config];
            enqueue.assign({ elo: { ...context.elo, [config]: elo } });
            if (previous === undefined) return;
            const before = context.learningRate[config] ?? 1;
            const after = within(LR_RANGE, before * learningRateFactor(elo - previous));
            if (after === before) return;
            enqueue.emit({
              type: 'HYPERPARAMETER_UPDATED',
              payload: {
                config_key: config,
                param_name: 'learning_rate_multiplier',
                old_value: before,
                new_value: after,
                optimizer: 'improvement_optimizer',
              },
            });
            enqueue.assign({ learningRate: { ...context.learningRate, [config]: after } });
          }),
        },
        MODEL_PROMOTED: { actions: 'gauntlet' },
        PROMOTION_REJECTED: { actions: 'gauntlet' },
      },
    },
  },
});
