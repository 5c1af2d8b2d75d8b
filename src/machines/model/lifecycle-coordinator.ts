/**
 * MODEL_LIFECYCLE (the guide's ModelLifecycleCoordinator): rolls a config back to its previous
 * best when its production model regressed, and keeps the failures of promotion.
 *
 * It keeps each config's last production models (from MODEL_PROMOTED). A `severe` or `critical`
 * REGRESSION_DETECTED of the current production model withdraws it: PROMOTION_ROLLED_BACK names
 * the model restored, which the registry makes production again and MODEL_DISTRIBUTION copies to
 * the cluster. A `moderate` one is recorded and left (the original's rule: only a severe
 * regression of a production model is rolled back). A regression of a model that is no longer in
 * production (already rolled back or replaced) changes nothing.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const MODEL_LIFECYCLE_SUBSCRIBES = subscriptions(
  'MODEL_PROMOTED',
  'REGRESSION_DETECTED',
  'PROMOTION_FAILED',
);

interface Production {
  readonly model_id: string;
  readonly model_path: string;
}

/** Production models kept per config: how far back a run of rollbacks can go. */
const LINEAGE = 5;

export interface LifecycleContext {
  /** Config -> its production models, the current one last. */
  readonly lineage: Readonly<Record<string, readonly Production[]>>;
  readonly rollbacks: number;
  /** Regressions recorded without a rollback (moderate). */
  readonly watched: number;
  readonly promotionFailures: Readonly<Record<string, { count: number; last_error: string }>>;
}

type Regression = Extract<
  DaemonMachineEvent<typeof MODEL_LIFECYCLE_SUBSCRIBES>,
  { type: 'REGRESSION_DETECTED' }
>;
const current = (context: LifecycleContext, e: Regression) =>
  context.lineage[e.payload.config_key]?.at(-1);

export const modelLifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as DaemonMachineEvent<typeof MODEL_LIFECYCLE_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  guards: {
    noModelFile: ({ event }) =>
      event.type === 'MODEL_PROMOTED' && typeof event.payload.model_path !== 'string',
    noModelId: ({ event }) => event.type === 'REGRESSION_DETECTED' && !event.payload.model_id,
    notInProduction: ({ context, event }) =>
      event.type === 'REGRESSION_DETECTED' &&
      current(context, event)?.model_id !== event.payload.model_id,
    moderate: ({ event }) =>
      event.type === 'REGRESSION_DETECTED' &&
      event.payload.severity !== 'severe' &&
      event.payload.severity !== 'critical',
    nothingBefore: ({ context, event }) =>
      event.type === 'REGRESSION_DETECTED' &&
      (context.lineage[event.payload.config_key]?.length ?? 0) < 2,
  },
}).createMachine({
  id: 'modelLifecycle',
  context: { lineage: {}, rollbacks: 0, watched: 0, promotionFailures: {} },
  initial: 'tracking',
  states: {
    tracking: {
      tags: ['ready'],
      on: {
        MODEL_PROMOTED: [
          {
            guard: 'noModelFile',
            actions: reject(
              'MODEL_PROMOTED',
              'MODEL_PROMOTED without model_path: a later rollback could not restore it',
            ),
          },
          {
            actions: assign({
              lineage: ({ context, event }) => {
                const p = event.payload;
                const before = (context.lineage[p.config_key] ?? []).filter(
                  (m) => m.model_id !== p.model_id,
                );
                const entry = { model_id: p.model_id, model_path: p.model_path as string };
                return { ...context.lineage, [p.config_key]: [...before, entry].slice(-LINEAGE) };
              },
            }),
          },
        ],
        REGRESSION_DETECTED: [
          {
            guard: 'noModelId',
            actions: reject(
              'REGRESSION_DETECTED',
              'REGRESSION_DETECTED without model_id: which model to withdraw is unknown',
            ),
          },
          // Late news of a model already withdrawn or replaced.
          { guard: 'notInProduction' },
          { guard: 'moderate', actions: assign({ watched: ({ context }) => context.watched + 1 }) },
          {
            guard: 'nothingBefore',
            actions: reject(
              'REGRESSION_DETECTED',
              'REGRESSION_DETECTED of the first production model of its config: nothing to roll back to',
            ),
          },
          {
            actions: enqueueActions(({ context, event, enqueue }) => {
              const p = event.payload;
              const kept = context.lineage[p.config_key] ?? [];
              const restored = kept.at(-2) as Production; // nothingBefore came first
              enqueue.emit({
                type: 'PROMOTION_ROLLED_BACK',
                payload: {
                  config_key: p.config_key,
                  model_id: p.model_id as string,
                  restored_model_id: restored.model_id,
                  restored_model_path: restored.model_path,
                  reason: `${p.severity} regression: ${p.reason ?? 'no reason given'}`,
                },
              });
              enqueue.assign({
                lineage: { ...context.lineage, [p.config_key]: kept.slice(0, -1) },
                rollbacks: context.rollbacks + 1,
              });
            }),
          },
        ],
        PROMOTION_FAILED: {
          actions: assign({
            promotionFailures: ({ context, event }) => {
              const p = event.payload;
              const before = context.promotionFailures[p.config_key]?.count ?? 0;
              return {
                ...context.promotionFailures,
                [p.config_key]: { count: before + 1, last_error: p.error },
              };
            },
          }),
        },
      },
    },
  },
});
