/**
 * CURRICULUM_INTEGRATION (the guide's CurriculumIntegration; the original's
 * MomentumToCurriculumBridge): per-config selfplay weights from each config's momentum, its Elo
 * gain between its last two evaluations (EVALUATION_COMPLETED: the guide's "update curriculum").
 * An ELO_SIGNIFICANT_CHANGE (the guide's "trigger rebalance") recomputes the weights of all the
 * configs with a momentum: one gaining less than their average gets more selfplay, one gaining
 * more gets less:
 *
 *   weight = clamp(1 + 0.3 * (mean - momentum) / max(|mean|, 25), 0.5, 2.0), to 0.01
 *
 * (0.3 is the original's boost factor, 0.5 to 2.0 its range of curriculum weights; 25 keeps a
 * near-zero mean from blowing small differences up.) When a weight moves by at least 0.05,
 * CURRICULUM_REBALANCED carries the old and new weights of every config known, which the
 * SelfplayScheduler applies to its batch sizes and the SelfplayOrchestrator to its allocation.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const CURRICULUM_INTEGRATION_SUBSCRIBES = subscriptions(
  'EVALUATION_COMPLETED',
  'ELO_SIGNIFICANT_CHANGE',
);

export const BOOST_FACTOR = 0.3;
export const MIN_WEIGHT = 0.5;
export const MAX_WEIGHT = 2;
/** A weight moving by this much is a rebalance. */
export const REBALANCE_STEP = 0.05;

export function curriculumWeights(
  momentum: Readonly<Record<string, number>>,
): Record<string, number> {
  const configs = Object.keys(momentum).sort();
  if (configs.length === 0) return {};
  const mean = configs.reduce((n, c) => n + (momentum[c] as number), 0) / configs.length;
  const scale = Math.max(Math.abs(mean), 25);
  return Object.fromEntries(
    configs.map((c) => {
      const raw = 1 + (BOOST_FACTOR * (mean - (momentum[c] as number))) / scale;
      return [c, Math.round(Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, raw)) * 100) / 100];
    }),
  );
}

export interface CurriculumIntegrationContext {
  /** Config -> its Elo at its last evaluation. */
  readonly elo: Readonly<Record<string, number>>;
  /** Config -> its last Elo gain. */
  readonly momentum: Readonly<Record<string, number>>;
  /** The weights last announced (1 for a config until then). */
  readonly weights: Readonly<Record<string, number>>;
  readonly rebalances: number;
}

type Ctx = CurriculumIntegrationContext;

export const curriculumIntegrationMachine = setup({
  types: {
    context: {} as Ctx,
    events: {} as DaemonMachineEvent<typeof CURRICULUM_INTEGRATION_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  actions: {
    noteElo: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'EVALUATION_COMPLETED') return;
      const { config_key: config, elo } = event.payload;
      const before = context.elo[config];
      enqueue.assign({
        elo: { ...context.elo, [config]: elo },
        momentum:
          before === undefined ? context.momentum : { ...context.momentum, [config]: elo - before },
      });
    }),
    rebalance: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ELO_SIGNIFICANT_CHANGE') return;
      const weights = curriculumWeights(context.momentum);
      const moved = Object.entries(weights).some(
        ([c, w]) => Math.abs(w - (context.weights[c] ?? 1)) >= REBALANCE_STEP,
      );
      if (!moved) return;
      enqueue.emit({
        type: 'CURRICULUM_REBALANCED',
        payload: {
          config_key: event.payload.config_key,
          old_weights: Object.fromEntries(
            Object.keys(weights).map((c) => [c, context.weights[c] ?? 1]),
          ),
          new_weights: weights,
          trigger: `elo_significant_change of ${event.payload.config_key}`,
        },
      });
      enqueue.assign({ weights, rebalances: context.rebalances + 1 });
    }),
  },
}).createMachine({
  id: 'curriculumIntegration',
  context: { elo: {}, momentum: {}, weights: {}, rebalances: 0 },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: { actions: 'noteElo' },
        ELO_SIGNIFICANT_CHANGE: { actions: 'rebalance' },
      },
    },
  },
});
