/**
 * DAEMON_MANAGER: the guide's DaemonManager as a subscriber (the original kept these handlers in
 * its DaemonEventHandlers helper beside the manager; here the supervisor starts and restarts
 * daemons, and this daemon reacts to the events the guide sends the manager).
 *
 * - REGRESSION_CRITICAL pauses training for its config (TRAINING_PAUSED, which TRAINING_TRIGGER
 *   obeys) until the regressed model has been rolled back (PROMOTION_ROLLED_BACK of that model:
 *   TRAINING_RESUMED). The two arrive from different daemons in either order; a rollback seen
 *   first resumes at once after the pause, so the pause is always said and always ends.
 * - TRAINING_FAILED is recorded per config (count and last error, shown by `status` through the
 *   snapshot); retrying is the RecoveryOrchestrator's.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const DAEMON_MANAGER_SUBSCRIBES = subscriptions(
  'REGRESSION_CRITICAL',
  'PROMOTION_ROLLED_BACK',
  'TRAINING_FAILED',
);

export interface DaemonManagerContext {
  /** Config -> the regressed model its training waits on. */
  readonly paused: Readonly<Record<string, string>>;
  /** Config -> the last model rolled back (a rollback that came before its alarm). */
  readonly rolledBack: Readonly<Record<string, string>>;
  readonly trainingFailures: Readonly<Record<string, { count: number; last_error: string }>>;
}

export const daemonManagerMachine = setup({
  types: {
    context: {} as DaemonManagerContext,
    events: {} as DaemonMachineEvent<typeof DAEMON_MANAGER_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
}).createMachine({
  id: 'daemonManager',
  context: { paused: {}, rolledBack: {}, trainingFailures: {} },
  initial: 'handling',
  states: {
    handling: {
      tags: ['ready'],
      on: {
        REGRESSION_CRITICAL: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const { config_key: config, model_id: model, reason } = event.payload;
            const why = model ? `model ${model} regressed` : 'critical regression';
            enqueue.emit({
              type: 'TRAINING_PAUSED',
              payload: {
                config_key: config,
                reason: reason ?? why,
                ...(model ? { model_id: model } : {}),
              },
            });
            if (model !== undefined && context.rolledBack[config] === model) {
              const { [config]: _, ...rest } = context.paused;
              enqueue.emit({
                type: 'TRAINING_RESUMED',
                payload: { config_key: config, reason: `${model} was already rolled back` },
              });
              enqueue.assign({ paused: rest });
              return;
            }
            enqueue.assign({ paused: { ...context.paused, [config]: model ?? '' } });
          }),
        },
        PROMOTION_ROLLED_BACK: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = event.payload;
            const waiting = context.paused[p.config_key];
            if (waiting === p.model_id || waiting === '') {
              const { [p.config_key]: _, ...rest } = context.paused;
              enqueue.emit({
                type: 'TRAINING_RESUMED',
                payload: {
                  config_key: p.config_key,
                  reason: `${p.model_id} rolled back to ${p.restored_model_id}`,
                },
              });
              enqueue.assign({ paused: rest });
            }
            enqueue.assign({ rolledBack: { ...context.rolledBack, [p.config_key]: p.model_id } });
          }),
        },
        TRAINING_FAILED: {
          actions: assign({
            trainingFailures: ({ context, event }) => {
              const p = event.payload;
              const before = context.trainingFailures[p.config_key]?.count ?? 0;
              return {
                ...context.trainingFailures,
                [p.config_key]: { count: before + 1, last_error: p.error },
              };
            },
          }),
        },
      },
    },
  },
});
