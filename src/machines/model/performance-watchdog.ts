/**
 * MODEL_PERFORMANCE_WATCHDOG (the guide's ModelPerformanceWatchdog): REGRESSION_DETECTED when a
 * promoted model does worse than the model it replaced.
 *
 * The promotion gate passes a model on its Elo against the baselines; the watchdog compares what
 * the gate does not: the gauntlet win rate of the new production model against its
 * predecessor's. A drop of more than `tolerance` (0.02) is a regression: `moderate` below 0.05,
 * `severe` below 0.10, `critical` from there. The next clean promotion of that config after a
 * regression says REGRESSION_CLEARED. After a rollback the restored model is the one the next
 * promotion is compared with.
 */
import { enqueueActions, setup } from 'xstate';
import type { CatalogEmit, Emitted } from '../emitted.js';
import { reject } from '../emitted.js';
import { type CatalogEvent, type DaemonMachineEvent, subscriptions } from '../protocol.js';
import { modelIdOf } from './model-id.js';

export const PERFORMANCE_WATCHDOG_SUBSCRIBES = subscriptions(
  'EVALUATION_COMPLETED',
  'MODEL_PROMOTED',
  'PROMOTION_ROLLED_BACK',
);

export interface PerformanceWatchdogInput {
  /** A drop in win rate larger than this is a regression; 0.02. */
  readonly tolerance?: number;
}

interface Gauntlet {
  readonly config_key: string;
  readonly win_rate: number;
  readonly elo: number;
}

/** Gauntlets kept per config: enough for the production model and the next candidates. */
const KEPT_PER_CONFIG = 8;

export interface WatchdogContext {
  readonly tolerance: number;
  readonly gauntlets: Readonly<Record<string, Gauntlet>>;
  readonly production: Readonly<Record<string, string>>;
  /** Configs whose last promotion regressed. */
  readonly regressed: Readonly<Record<string, boolean>>;
  readonly detected: number;
}

export function severityOf(drop: number): 'moderate' | 'severe' | 'critical' {
  return drop >= 0.1 ? 'critical' : drop >= 0.05 ? 'severe' : 'moderate';
}

const judgedModel = (e: CatalogEvent<'EVALUATION_COMPLETED'>) =>
  e.payload.model_id ?? (e.payload.model_path ? modelIdOf(e.payload.model_path) : null);

/** The gauntlets after adding one, the config's oldest dropped beyond KEPT_PER_CONFIG. */
function keep(
  gauntlets: WatchdogContext['gauntlets'],
  id: string,
  g: Gauntlet,
  protect: string | undefined,
): WatchdogContext['gauntlets'] {
  const next = { ...gauntlets, [id]: g };
  const ofConfig = Object.keys(next).filter((k) => next[k]?.config_key === g.config_key);
  for (const old of ofConfig.slice(0, Math.max(0, ofConfig.length - KEPT_PER_CONFIG)))
    if (old !== protect) delete next[old];
  return next;
}

export const performanceWatchdogMachine = setup({
  types: {
    context: {} as WatchdogContext,
    events: {} as DaemonMachineEvent<typeof PERFORMANCE_WATCHDOG_SUBSCRIBES>,
    emitted: {} as Emitted,
    input: {} as PerformanceWatchdogInput,
  },
  guards: {
    unnamedModel: ({ event }) =>
      event.type === 'EVALUATION_COMPLETED' && judgedModel(event) === null,
  },
  actions: {
    recordGauntlet: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'EVALUATION_COMPLETED') return;
      const p = event.payload;
      const gauntlet = { config_key: p.config_key, win_rate: p.win_rate, elo: p.elo };
      enqueue.assign({
        gauntlets: keep(
          context.gauntlets,
          judgedModel(event) as string,
          gauntlet,
          context.production[p.config_key],
        ),
      });
    }),
    judgePromotion: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'MODEL_PROMOTED') return;
      const { model_id: id, config_key: config } = event.payload;
      const previousId = context.production[config];
      const now = context.gauntlets[id];
      const before = previousId === undefined ? undefined : context.gauntlets[previousId];
      enqueue.assign({ production: { ...context.production, [config]: id } });
      if (previousId === id || !now || !before) return;
      const drop = before.win_rate - now.win_rate;
      if (drop > context.tolerance) {
        const severity = severityOf(drop);
        const out: CatalogEmit = {
          type: 'REGRESSION_DETECTED',
          payload: {
            config_key: config,
            model_id: id,
            severity,
            previous_model_id: previousId,
            win_rate: now.win_rate,
            previous_win_rate: before.win_rate,
            current_elo: now.elo,
            baseline_elo: before.elo,
            reason: `promoted ${id} wins ${(now.win_rate * 100).toFixed(1)}% of its gauntlet, ${previousId} won ${(before.win_rate * 100).toFixed(1)}%`,
          },
        };
        enqueue.emit(out);
        enqueue.assign({
          regressed: { ...context.regressed, [config]: true },
          detected: context.detected + 1,
        });
      } else if (context.regressed[config]) {
        enqueue.emit({ type: 'REGRESSION_CLEARED', payload: { config_key: config, model_id: id } });
        enqueue.assign({ regressed: { ...context.regressed, [config]: false } });
      }
    }),
    followRollback: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PROMOTION_ROLLED_BACK') return;
      const p = event.payload;
      enqueue.assign({
        production: { ...context.production, [p.config_key]: p.restored_model_id },
      });
    }),
  },
}).createMachine({
  id: 'performanceWatchdog',
  context: ({ input }) => ({
    tolerance: input.tolerance ?? 0.02,
    gauntlets: {},
    production: {},
    regressed: {},
    detected: 0,
  }),
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: [
          {
            guard: 'unnamedModel',
            actions: reject(
              'EVALUATION_COMPLETED',
              'EVALUATION_COMPLETED without model_id or model_path: which model was judged is unknown',
            ),
          },
          { actions: 'recordGauntlet' },
        ],
        MODEL_PROMOTED: { actions: 'judgePromotion' },
        PROMOTION_ROLLED_BACK: { actions: 'followRollback' },
      },
    },
  },
});
