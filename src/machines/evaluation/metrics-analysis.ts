/**
 * METRICS_ANALYSIS (the guide's MetricsAnalysisOrchestrator): real-time tracking of evaluations
 * and the trend of each config's Elo.
 *
 * - EVALUATION_PROGRESS keeps each running gauntlet's progress (games played of planned) and its
 *   pace (games per second, from the events' timestamps): what the live view shows while a
 *   gauntlet runs. EVALUATION_COMPLETED closes it and adds the model's Elo to the config's series
 *   (the last 100 points, the original's window).
 * - PLATEAU_DETECTED when a config's best Elo has not risen by 1 point over its last 10
 *   gauntlets (the original: no improvement of 0.001 over 10 points), once, until a new best.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { modelIdOf } from '../model/model-id.js';
import { type CatalogEvent, type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const METRICS_ANALYSIS_SUBSCRIBES = subscriptions(
  'EVALUATION_PROGRESS',
  'EVALUATION_COMPLETED',
);

const WINDOW = 100;
export const PLATEAU_POINTS = 10;
const MIN_GAIN = 1;

interface Point {
  readonly elo: number;
  readonly games: number;
  readonly at: number;
}

interface Running {
  readonly config_key: string;
  readonly games_completed: number;
  readonly games_planned: number;
  readonly first_at: number;
  readonly last_at: number;
  /** Games per second since the first progress report; null until there are two. */
  readonly pace: number | null;
}

export interface MetricsContext {
  /** Model id -> its running gauntlet. */
  readonly running: Readonly<Record<string, Running>>;
  readonly series: Readonly<Record<string, readonly Point[]>>;
  readonly plateaued: Readonly<Record<string, boolean>>;
}

const gauntletModel = (e: CatalogEvent<'EVALUATION_COMPLETED'>) =>
  e.payload.model_id ?? (e.payload.model_path ? modelIdOf(e.payload.model_path) : 'unnamed');

/** Whether the last PLATEAU_POINTS of `series` beat the best before them by MIN_GAIN. */
export function isPlateau(series: readonly Point[]): boolean {
  if (series.length <= PLATEAU_POINTS) return false;
  const before = Math.max(...series.slice(0, -PLATEAU_POINTS).map((p) => p.elo));
  const recent = Math.max(...series.slice(-PLATEAU_POINTS).map((p) => p.elo));
  return recent < before + MIN_GAIN;
}

export const metricsAnalysisMachine = setup({
  types: {
    context: {} as MetricsContext,
    events: {} as DaemonMachineEvent<typeof METRICS_ANALYSIS_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
}).createMachine({
  id: 'metricsAnalysis',
  context: { running: {}, series: {}, plateaued: {} },
  initial: 'tracking',
  states: {
    tracking: {
      tags: ['ready'],
      on: {
        EVALUATION_PROGRESS: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = event.payload;
            const id = p.model_id ?? `${p.config_key}:unnamed`;
            const now = event.envelope.timestamp;
            const before = context.running[id];
            const first = before?.first_at ?? now;
            const elapsed = now - first;
            enqueue.assign({
              running: {
                ...context.running,
                [id]: {
                  config_key: p.config_key,
                  games_completed: p.games_completed,
                  games_planned: p.games_planned,
                  first_at: first,
                  last_at: now,
                  pace: before && elapsed > 0 ? p.games_completed / elapsed : null,
                },
              },
            });
          }),
        },
        EVALUATION_COMPLETED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = event.payload;
            const { [gauntletModel(event)]: _done, ...running } = context.running;
            const point = { elo: p.elo, games: p.games_played, at: event.envelope.timestamp };
            const series = [...(context.series[p.config_key] ?? []), point].slice(-WINDOW);
            enqueue.assign({ running, series: { ...context.series, [p.config_key]: series } });
            const flat = isPlateau(series);
            if (flat && !context.plateaued[p.config_key]) {
              const recent = series.slice(-PLATEAU_POINTS);
              enqueue.emit({
                type: 'PLATEAU_DETECTED',
                payload: {
                  config_key: p.config_key,
                  current_elo: p.elo,
                  plateau_duration_games: recent.reduce((n, q) => n + q.games, 0),
                  plateau_duration_seconds: point.at - (recent[0] as Point).at,
                },
              });
            }
            if (flat !== (context.plateaued[p.config_key] ?? false))
              enqueue.assign({ plateaued: { ...context.plateaued, [p.config_key]: flat } });
          }),
        },
      },
    },
  },
});
