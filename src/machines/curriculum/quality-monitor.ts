/**
 * QUALITY_MONITOR (the guide's QualityMonitor): scores each config's selfplay data from the
 * batches' quality (SELFPLAY_COMPLETE's `quality_score`) and says so.
 *
 * - QUALITY_SCORE_UPDATED when a config's score first arrives or moves by at least 0.1 from the
 *   last one reported (the original's rule), with its category (`high` from 0.8, `medium` from
 *   0.6, `low` below) and the weight training should give that data (1.0, 0.8, 0.5).
 * - QUALITY_DEGRADED when a batch falls below 0.6, once, until the config recovers to 0.7 or
 *   more (the gap stops a score hovering at 0.6 from alerting on every batch).
 *
 * A batch the worker did not score (a command worker that reports no `quality_score`) says
 * nothing and is counted (`unscored`): the field is optional by design, not missing by mistake.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const QUALITY_MONITOR_SUBSCRIBES = subscriptions('SELFPLAY_COMPLETE');

export const DEGRADED_BELOW = 0.6;
export const RECOVERED_FROM = 0.7;
/** A move of the score this large is reported. */
const REPORT_STEP = 0.1;

export function qualityCategory(score: number): 'high' | 'medium' | 'low' {
  return score >= 0.8 ? 'high' : score >= DEGRADED_BELOW ? 'medium' : 'low';
}

const TRAINING_WEIGHT = { high: 1, medium: 0.8, low: 0.5 } as const;

export interface QualityMonitorContext {
  /** Config -> the score last reported. */
  readonly reported: Readonly<Record<string, number>>;
  readonly degraded: Readonly<Record<string, boolean>>;
  readonly unscored: number;
}

export const qualityMonitorMachine = setup({
  types: {
    context: {} as QualityMonitorContext,
    events: {} as DaemonMachineEvent<typeof QUALITY_MONITOR_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  guards: {
    unscored: ({ event }) =>
      event.type === 'SELFPLAY_COMPLETE' && event.payload.quality_score === undefined,
  },
}).createMachine({
  id: 'qualityMonitor',
  context: { reported: {}, degraded: {}, unscored: 0 },
  initial: 'scoring',
  states: {
    scoring: {
      tags: ['ready'],
      on: {
        SELFPLAY_COMPLETE: [
          {
            guard: 'unscored',
            actions: enqueueActions(({ context, enqueue }) =>
              enqueue.assign({ unscored: context.unscored + 1 }),
            ),
          },
          {
            actions: enqueueActions(({ context, event, enqueue }) => {
              const config = event.payload.config_key;
              const score = event.payload.quality_score as number; // the unscored guard came first
              const before = context.reported[config];
              if (before === undefined || Math.abs(score - before) >= REPORT_STEP) {
                const category = qualityCategory(score);
                enqueue.emit({
                  type: 'QUALITY_SCORE_UPDATED',
                  payload: {
                    config_key: config,
                    quality_score: score,
                    quality_category: category,
                    training_weight: TRAINING_WEIGHT[category],
                  },
                });
                enqueue.assign({ reported: { ...context.reported, [config]: score } });
              }
              const degraded = context.degraded[config] === true;
              if (!degraded && score < DEGRADED_BELOW) {
                enqueue.emit({
                  type: 'QUALITY_DEGRADED',
                  payload: {
                    config_key: config,
                    quality_score: score,
                    threshold: DEGRADED_BELOW,
                    ...(before === undefined
                      ? {}
                      : { previous_score: before, degradation_delta: before - score }),
                  },
                });
                enqueue.assign({ degraded: { ...context.degraded, [config]: true } });
              } else if (degraded && score >= RECOVERED_FROM) {
                enqueue.assign({ degraded: { ...context.degraded, [config]: false } });
              }
            }),
          },
        ],
      },
    },
  },
});
