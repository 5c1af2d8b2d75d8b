/**
 * UNIFIED_FEEDBACK (the guide's UnifiedFeedback, for its row: ELO_VELOCITY_CHANGED): a config
 * whose Elo stalls or falls explores more. Its exploration boost starts at 1.0; each velocity
 * report of trend `plateau` or `declining` multiplies it by 1.15 (the original's step), up to
 * 2.0 (its cap); an `improving` one puts it back to 1.0. Each change is an EXPLORATION_BOOST.
 *
 * The original's orchestrator also folds training, quality and freshness events into a training
 * intensity; those have their own daemons here (TRAINING_TRIGGER, QUALITY_MONITOR). Nothing here
 * consumes EXPLORATION_BOOST yet: a selfplay job has no temperature to raise (the wiring check
 * lists it as emitted without a subscriber).
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const UNIFIED_FEEDBACK_SUBSCRIBES = subscriptions('ELO_VELOCITY_CHANGED');

export const BOOST_STEP = 1.15;
export const MAX_BOOST = 2;

export interface UnifiedFeedbackContext {
  /** Config -> its exploration boost (1.0 when absent). */
  readonly boosts: Readonly<Record<string, number>>;
}

export const unifiedFeedbackMachine = setup({
  types: {
    context: {} as UnifiedFeedbackContext,
    events: {} as DaemonMachineEvent<typeof UNIFIED_FEEDBACK_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
}).createMachine({
  id: 'unifiedFeedback',
  context: { boosts: {} },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        ELO_VELOCITY_CHANGED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const { config_key: config, trend } = event.payload;
            const before = context.boosts[config] ?? 1;
            const boost =
              trend === 'improving'
                ? 1
                : Math.round(Math.min(MAX_BOOST, before * BOOST_STEP) * 1000) / 1000;
            if (boost === before) return;
            enqueue.emit({
              type: 'EXPLORATION_BOOST',
              payload: {
                config_key: config,
                boost_factor: boost,
                reason: `Elo velocity ${event.payload.velocity} (${trend})`,
              },
            });
            enqueue.assign({ boosts: { ...context.boosts, [config]: boost } });
          }),
        },
      },
    },
  },
});
