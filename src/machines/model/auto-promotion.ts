/**
 * AUTO_PROMOTION: EVALUATION_COMPLETED -> compare with the current best of its config ->
 * MODEL_PROMOTED when the win rate and the Elo gain clear the thresholds, PROMOTION_REJECTED
 * otherwise. PROMOTION_FAILED when it cannot judge: the evaluation names no model file (also a
 * logged rejection), or its gauntlet played less than `minPlayedShare` of the games it planned
 * (preempted: too few games for the scores to mean anything; the original required a minimum
 * game count per player count, here the gauntlet's own plan is the measure, since its size
 * already follows ADAPTIVE_PARAMS_CHANGED).
 * A rollback (PROMOTION_ROLLED_BACK of the config's best) makes the restored model the best
 * again, with the Elo it was promoted at: the regressed model's gauntlet Elo was the measure that
 * let it through, and keeping it would hold every next model to a bar the production model no
 * longer sets. The last `HISTORY` promotions per config are kept for this; a restored model older
 * than those (or promoted before this daemon's snapshot) leaves the best as it is, which errs on
 * the side of promoting less.
 * The scores the gate reads (config_key, elo, win_rate) are required by the catalog's schema: an
 * evaluation without them never reaches the machine (publish refuses it, the event log's reader
 * sends it to the dead letters).
 */
import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, rejection } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const AUTO_PROMOTION_SUBSCRIBES = subscriptions(
  'EVALUATION_COMPLETED',
  'PROMOTION_ROLLED_BACK',
);

/** Promotions kept per config, newest last: what a rollback can restore. */
const HISTORY = 10;

export interface AutoPromotionInput {
  /** Win rate against the baselines a model needs; 0.55. */
  readonly minWinRate?: number;
  /** Elo a model must gain over the current best of its config; 10. */
  readonly minEloGain?: number;
  /** Share of its planned games a gauntlet must have played to be judged; 0.5. */
  readonly minPlayedShare?: number;
}

interface Best {
  readonly elo: number;
  readonly modelId: string;
}

/** A config's current best: its newest promotion (a rollback trims the history back to the restored one). */
const bestOf = (history: Readonly<Record<string, readonly Best[]>>, config: string) =>
  history[config]?.at(-1);

export const autoPromotionMachine = setup({
  types: {
    context: {} as {
      minWinRate: number;
      minEloGain: number;
      minPlayedShare: number;
      /** Config -> its last promotions, newest (the current best) last. */
      history: Readonly<Record<string, readonly Best[]>>;
      promoted: number;
      rejected: number;
    },
    events: {} as DaemonMachineEvent<typeof AUTO_PROMOTION_SUBSCRIBES>,
    emitted: {} as Emitted,
    input: {} as AutoPromotionInput,
  },
  guards: {
    noModelFile: ({ event }) =>
      event.type === 'EVALUATION_COMPLETED' && event.payload.model_path === undefined,
    tooFewGames: ({ context, event }) =>
      event.type === 'EVALUATION_COMPLETED' &&
      event.payload.games_planned !== undefined &&
      event.payload.games_played < context.minPlayedShare * event.payload.games_planned,
    clearsGate: ({ context, event }) => {
      if (event.type !== 'EVALUATION_COMPLETED') return false;
      const p = event.payload;
      const best = bestOf(context.history, p.config_key);
      return (
        p.win_rate >= context.minWinRate &&
        (best === undefined || p.elo - best.elo >= context.minEloGain)
      );
    },
  },
}).createMachine({
  id: 'autoPromotion',
  context: ({ input }) => ({
    minWinRate: input.minWinRate ?? 0.55,
    minEloGain: input.minEloGain ?? 10,
    minPlayedShare: input.minPlayedShare ?? 0.5,
    history: {},
    promoted: 0,
    rejected: 0,
  }),
  initial: 'judging',
  states: {
    judging: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: [
          {
            guard: 'noModelFile',
            actions: enqueueActions(({ event, enqueue }) => {
              const p = event.payload;
              enqueue.emit(rejection(event.type, 'EVALUATION_COMPLETED has no model_path'));
              enqueue.emit({
                type: 'PROMOTION_FAILED',
                payload: {
                  config_key: p.config_key,
                  model_id: p.model_id ?? 'unknown',
                  error: 'the evaluation names no model file',
                },
              });
            }),
          },
          {
            guard: 'tooFewGames',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const p = event.payload;
              enqueue.emit({
                type: 'PROMOTION_FAILED',
                payload: {
                  config_key: p.config_key,
                  model_id: p.model_id ?? (p.model_path as string),
                  error: `the gauntlet played ${p.games_played} of its ${p.games_planned} games (under ${context.minPlayedShare * 100}%): too few to judge`,
                },
              });
            }),
          },
          {
            guard: 'clearsGate',
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const p = event.payload;
                const modelPath = p.model_path as string; // the noModelFile guard came first
                const previous = bestOf(context.history, p.config_key);
                enqueue.emit({
                  type: 'MODEL_PROMOTED',
                  payload: {
                    model_id: p.model_id ?? modelPath,
                    config_key: p.config_key,
                    elo: p.elo,
                    elo_gain: previous ? p.elo - previous.elo : 0,
                    model_path: modelPath,
                  },
                });
              }),
              assign(({ context, event }) => {
                const p = event.payload;
                const best = { elo: p.elo, modelId: p.model_id ?? (p.model_path as string) };
                const history = [...(context.history[p.config_key] ?? []), best].slice(-HISTORY);
                return {
                  history: { ...context.history, [p.config_key]: history },
                  promoted: context.promoted + 1,
                };
              }),
            ],
          },
          {
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const p = event.payload;
                const best = bestOf(context.history, p.config_key);
                const gain = best ? p.elo - best.elo : 0;
                const reason =
                  p.win_rate < context.minWinRate
                    ? `win rate ${p.win_rate.toFixed(3)} below ${context.minWinRate}`
                    : `Elo gain ${gain.toFixed(1)} below ${context.minEloGain}`;
                enqueue.emit({
                  type: 'PROMOTION_REJECTED',
                  payload: {
                    config_key: p.config_key,
                    model_id: p.model_id ?? (p.model_path as string),
                    reason,
                    elo_improvement: gain,
                  },
                });
              }),
              assign({ rejected: ({ context }) => context.rejected + 1 }),
            ],
          },
        ],
        PROMOTION_ROLLED_BACK: {
          actions: assign(({ context, event }) => {
            const p = event.payload;
            if (bestOf(context.history, p.config_key)?.modelId !== p.model_id) return {};
            const history = context.history[p.config_key] ?? [];
            const at = history.findLastIndex((b) => b.modelId === p.restored_model_id);
            if (at < 0) return {};
            return {
              history: { ...context.history, [p.config_key]: history.slice(0, at + 1) },
            };
          }),
        },
      },
    },
  },
});
