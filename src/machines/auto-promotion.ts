/**
 * AUTO_PROMOTION: EVALUATION_COMPLETED -> compare with the current best of its config ->
 * MODEL_PROMOTED when the win rate and the Elo gain clear the thresholds, PROMOTION_REJECTED
 * otherwise, PROMOTION_FAILED (and a logged rejection) when the evaluation names no model file or
 * lacks the scores the gate reads.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, rejection } from './emitted.js';

export interface AutoPromotionInput {
  /** Win rate against the baselines a model needs; 0.55. */
  readonly minWinRate?: number;
  /** Elo a model must gain over the current best of its config; 10. */
  readonly minEloGain?: number;
}

interface Best {
  readonly elo: number;
  readonly modelId: string;
}

type Ev = { type: string; payload: Record<string, unknown> };

export const autoPromotionMachine = setup({
  types: {
    context: {} as {
      minWinRate: number;
      minEloGain: number;
      best: Readonly<Record<string, Best>>;
      promoted: number;
      rejected: number;
    },
    events: {} as Ev,
    input: {} as AutoPromotionInput,
  },
  guards: {
    noModelFile: ({ event }) => typeof event.payload.model_path !== 'string',
    noScores: ({ event }) =>
      typeof event.payload.config_key !== 'string' ||
      typeof event.payload.elo !== 'number' ||
      typeof event.payload.win_rate !== 'number',
    clearsGate: ({ context, event }) => {
      const p = event.payload as { config_key: string; elo: number; win_rate: number };
      const best = context.best[p.config_key];
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
    best: {},
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
              const p = event.payload as { config_key: string; model_id?: string };
              enqueue.emit(
                rejection(event.type, 'EVALUATION_COMPLETED has no model_path') as never,
              );
              enqueue.emit({
                type: 'PROMOTION_FAILED',
                payload: {
                  config_key: p.config_key,
                  model_id: p.model_id ?? 'unknown',
                  error: 'the evaluation names no model file',
                },
              } satisfies Emitted as never);
            }),
          },
          {
            // Judging a model on a missing score would promote or reject it on `undefined`.
            guard: 'noScores',
            actions: enqueueActions(({ event, enqueue }) => {
              const p = event.payload as { config_key?: string; model_id?: string };
              enqueue.emit(
                rejection(
                  event.type,
                  'EVALUATION_COMPLETED without config_key, elo and win_rate',
                ) as never,
              );
              enqueue.emit({
                type: 'PROMOTION_FAILED',
                payload: {
                  config_key: p.config_key ?? 'unknown',
                  model_id: p.model_id ?? 'unknown',
                  error: 'the evaluation has no scores to judge',
                },
              } satisfies Emitted as never);
            }),
          },
          {
            guard: 'clearsGate',
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const p = event.payload as {
                  config_key: string;
                  elo: number;
                  model_id?: string;
                  model_path: string;
                };
                const previous = context.best[p.config_key];
                enqueue.emit({
                  type: 'MODEL_PROMOTED',
                  payload: {
                    model_id: p.model_id ?? p.model_path,
                    config_key: p.config_key,
                    elo: p.elo,
                    elo_gain: previous ? p.elo - previous.elo : 0,
                    model_path: p.model_path,
                  },
                } satisfies Emitted as never);
              }),
              assign(({ context, event }) => {
                const p = event.payload as {
                  config_key: string;
                  elo: number;
                  model_id?: string;
                  model_path: string;
                };
                return {
                  best: {
                    ...context.best,
                    [p.config_key]: { elo: p.elo, modelId: p.model_id ?? p.model_path },
                  },
                  promoted: context.promoted + 1,
                };
              }),
            ],
          },
          {
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const p = event.payload as {
                  config_key: string;
                  elo: number;
                  win_rate: number;
                  model_id?: string;
                  model_path: string;
                };
                const best = context.best[p.config_key];
                const gain = best ? p.elo - best.elo : 0;
                const reason =
                  p.win_rate < context.minWinRate
                    ? `win rate ${p.win_rate.toFixed(3)} below ${context.minWinRate}`
                    : `Elo gain ${gain.toFixed(1)} below ${context.minEloGain}`;
                enqueue.emit({
                  type: 'PROMOTION_REJECTED',
                  payload: {
                    config_key: p.config_key,
                    model_id: p.model_id ?? p.model_path,
                    reason,
                    elo_improvement: gain,
                  },
                } satisfies Emitted as never);
              }),
              assign({ rejected: ({ context }) => context.rejected + 1 }),
            ],
          },
        ],
      },
    },
  },
});
