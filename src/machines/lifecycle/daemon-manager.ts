/**
 * DAEMON_MANAGER: the guide's DaemonManager as a subscriber (the original kept these handlers in
 * its DaemonEventHandlers helper beside the manager; here the supervisor starts and restarts
 * daemons, and this daemon reacts to the events the guide sends the manager).
 *
 * - REGRESSION_CRITICAL pauses training for its config (TRAINING_PAUSED, which TRAINING_TRIGGER
 *   obeys and SELFPLAY_COORDINATOR applies to selfplay) until the regressed model has been rolled
 *   back (PROMOTION_ROLLED_BACK of that model) and the model it restores is back on the hosts
 *   (its MODEL_DISTRIBUTION_COMPLETE): TRAINING_RESUMED. Resuming at the rollback alone would let
 *   the hosts train and play the regressed model until the copy arrives. A redistribution that
 *   fails resumes too, saying so (a pause must end; the failure is the distribution's to retry and
 *   report). The events arrive from different daemons in any order; what came first is kept, so
 *   the pause is always said and always ends.
 * - A pause also ends after `maxPauseMs` (30 min) whatever did not arrive, saying what it still
 *   waited for: a rollback or a distribution that never reports (a lost host, a daemon stopped for
 *   good) must not stop a config's training for ever. The timer is an XState delayed event, which
 *   a snapshot does not keep: a restored pause waits the whole bound again.
 * - TRAINING_FAILED is recorded per config (count and last error, shown by `status` through the
 *   snapshot); retrying is the RecoveryOrchestrator's.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, RESTORED_EVENT, subscriptions } from '../protocol.js';

export const DAEMON_MANAGER_SUBSCRIBES = subscriptions(
  'REGRESSION_CRITICAL',
  'PROMOTION_ROLLED_BACK',
  'MODEL_DISTRIBUTION_COMPLETE',
  'MODEL_DISTRIBUTION_FAILED',
  'TRAINING_FAILED',
);

/** A config's paused training: the regressed model it waits on, then the restored one's copy. */
export interface Pause {
  /** The regressed model ('' when the alarm named none: any rollback of the config ends it). */
  readonly regressed: string;
  /** Set by the rollback: the model whose distribution resumes training. */
  readonly restoring?: string;
}

export interface DaemonManagerInput {
  /** The longest a pause lasts when its rollback or redistribution never reports; 30 min. */
  readonly maxPauseMs?: number;
}

export interface DaemonManagerContext {
  readonly maxPauseMs: number;
  readonly paused: Readonly<Record<string, Pause>>;
  /** Config -> its last rollback (one that came before its alarm). */
  readonly rolledBack: Readonly<Record<string, { model: string; restored: string }>>;
  /** Config -> the restored model of its last rollback, once distributed (before its alarm). */
  readonly redistributed: Readonly<Record<string, string>>;
  readonly trainingFailures: Readonly<Record<string, { count: number; last_error: string }>>;
}

interface PauseBound {
  readonly type: 'manager.pauseBound';
  readonly config_key: string;
}
type Ev = DaemonMachineEvent<typeof DAEMON_MANAGER_SUBSCRIBES, PauseBound>;

const span = (ms: number) =>
  ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 100) / 10} s`;

/** One bound pending per paused config, cancelled when its pause ends. */
const boundId = (config: string) => `pause-bound:${config}`;

interface Enqueue {
  raise(event: PauseBound, options: { delay: number; id: string }): void;
  cancel(id: string): void;
}
const armBound = (enqueue: Enqueue, config: string, maxPauseMs: number) => {
  enqueue.cancel(boundId(config));
  enqueue.raise(
    { type: 'manager.pauseBound', config_key: config },
    { delay: maxPauseMs, id: boundId(config) },
  );
};

const without = <V>(record: Readonly<Record<string, V>>, key: string) => {
  const { [key]: _, ...rest } = record;
  return rest;
};

const resumed = (config: string, reason: string): Emitted => ({
  type: 'TRAINING_RESUMED',
  payload: { config_key: config, reason },
});

export const daemonManagerMachine = setup({
  types: {
    context: {} as DaemonManagerContext,
    events: {} as Ev,
    emitted: {} as Emitted,
    input: {} as DaemonManagerInput,
  },
  actions: {
    // A distribution of the model a pause waits for ends the pause, complete or failed.
    distributed: enqueueActions(({ context, event, enqueue }) => {
      if (
        event.type !== 'MODEL_DISTRIBUTION_COMPLETE' &&
        event.type !== 'MODEL_DISTRIBUTION_FAILED'
      )
        return;
      const { config_key: config, model_id: model } = event.payload;
      if (config === undefined || model === undefined) return;
      const pause = context.paused[config];
      if (pause?.restoring === model) {
        enqueue.emit(
          resumed(
            config,
            event.type === 'MODEL_DISTRIBUTION_COMPLETE'
              ? `${model} restored on the hosts`
              : `${model} could not be redistributed (${event.payload.error}): the hosts may still have ${pause.regressed || 'the regressed model'}`,
          ),
        );
        enqueue.assign({ paused: without(context.paused, config) });
        enqueue.cancel(boundId(config));
        return;
      }
      if (
        event.type === 'MODEL_DISTRIBUTION_COMPLETE' &&
        context.rolledBack[config]?.restored === model
      )
        enqueue.assign({ redistributed: { ...context.redistributed, [config]: model } });
    }),
  },
}).createMachine({
  id: 'daemonManager',
  context: ({ input }) => ({
    maxPauseMs: input?.maxPauseMs ?? 30 * 60_000,
    paused: {},
    rolledBack: {},
    redistributed: {},
    trainingFailures: {},
  }),
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
            const earlier = context.rolledBack[config];
            if (model === undefined || earlier?.model !== model) {
              enqueue.assign({
                paused: { ...context.paused, [config]: { regressed: model ?? '' } },
              });
              armBound(enqueue, config, context.maxPauseMs);
              return;
            }
            // Its rollback came first: wait for the restored model's copy, unless it came too.
            if (context.redistributed[config] === earlier.restored) {
              enqueue.emit(
                resumed(
                  config,
                  `${model} was already rolled back and ${earlier.restored} restored`,
                ),
              );
              if (context.paused[config]) {
                enqueue.assign({ paused: without(context.paused, config) });
                enqueue.cancel(boundId(config));
              }
              return;
            }
            enqueue.assign({
              paused: {
                ...context.paused,
                [config]: { regressed: model, restoring: earlier.restored },
              },
            });
            armBound(enqueue, config, context.maxPauseMs);
          }),
        },
        'manager.pauseBound': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const pause = context.paused[event.config_key];
            if (!pause) return;
            const waited = pause.restoring
              ? `${pause.restoring} on the hosts`
              : `a rollback of ${pause.regressed || 'the regressed model'}`;
            enqueue.emit(
              resumed(
                event.config_key,
                `paused for ${span(context.maxPauseMs)} without ${waited}: resuming, since a pause must end`,
              ),
            );
            enqueue.assign({ paused: without(context.paused, event.config_key) });
          }),
        },
        [RESTORED_EVENT]: {
          actions: enqueueActions(({ context, enqueue }) => {
            for (const config of Object.keys(context.paused))
              armBound(enqueue, config, context.maxPauseMs);
          }),
        },
        PROMOTION_ROLLED_BACK: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = event.payload;
            const pause = context.paused[p.config_key];
            if (pause && (pause.regressed === p.model_id || pause.regressed === ''))
              enqueue.assign({
                paused: {
                  ...context.paused,
                  [p.config_key]: { ...pause, restoring: p.restored_model_id },
                },
              });
            enqueue.assign({
              rolledBack: {
                ...context.rolledBack,
                [p.config_key]: { model: p.model_id, restored: p.restored_model_id },
              },
              redistributed: without(context.redistributed, p.config_key),
            });
          }),
        },
        MODEL_DISTRIBUTION_COMPLETE: { actions: 'distributed' },
        MODEL_DISTRIBUTION_FAILED: { actions: 'distributed' },
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
