/**
 * MODEL_REGISTRY (the guide's ModelRegistry): the model versions of each config with their
 * lineage, their stage and the current best (production), and MODEL_UPDATED for every change.
 *
 * - TRAINING_COMPLETED with a model: a new version (`v1`, `v2`, ... per config), a `candidate`
 *   whose parent is the config's production model.
 * - MODEL_PROMOTED: that model is `production`; the one it replaces is `archived`.
 * - PROMOTION_ROLLED_BACK: the withdrawn model is `rolled_back`, the restored one `production`
 *   again (`reason: 'restored'`: what MODEL_DISTRIBUTION copies to the cluster again).
 *
 * The record is the machine's context, so it lives in the SQLite file with the daemon's snapshot
 * and survives restarts. A delivery seen twice changes nothing and says nothing.
 */
import { enqueueActions, setup } from 'xstate';
import { type CatalogEmit, type Emitted, reject } from '../emitted.js';
import { type CatalogEvent, type DaemonMachineEvent, subscriptions } from '../protocol.js';
import { modelIdOf } from './model-id.js';

export const MODEL_REGISTRY_SUBSCRIBES = subscriptions(
  'TRAINING_COMPLETED',
  'MODEL_PROMOTED',
  'PROMOTION_ROLLED_BACK',
);

export type ModelStage = 'candidate' | 'production' | 'archived' | 'rolled_back';

export interface ModelVersion {
  readonly config_key: string;
  readonly model_path: string;
  readonly version: string;
  readonly parent_model_id: string | null;
  readonly stage: ModelStage;
}

export interface RegistryContext {
  readonly models: Readonly<Record<string, ModelVersion>>;
  /** Config -> its production model (the current best). */
  readonly production: Readonly<Record<string, string>>;
  /** Config -> versions registered so far. */
  readonly versions: Readonly<Record<string, number>>;
}

type Update = Extract<CatalogEmit, { type: 'MODEL_UPDATED' }>;

const updated = (id: string, m: ModelVersion, reason: string): Update => ({
  type: 'MODEL_UPDATED',
  payload: {
    config_key: m.config_key,
    model_id: id,
    model_path: m.model_path,
    stage: m.stage,
    version: m.version,
    parent_model_id: m.parent_model_id,
    reason,
  },
});

/**
 * The context after `changes` (model id -> new stage, a new model registered), and the
 * MODEL_UPDATED of each.
 */
function restage(
  context: RegistryContext,
  changes: readonly (readonly [string, ModelVersion, string])[],
): { context: RegistryContext; out: Update[] } {
  const models = { ...context.models };
  const production = { ...context.production };
  const versions = { ...context.versions };
  const out: Update[] = [];
  for (const [id, model, reason] of changes) {
    // A model not seen before is a new version of its config (newVersion numbered it so).
    if (!models[id]) versions[model.config_key] = (versions[model.config_key] ?? 0) + 1;
    models[id] = model;
    if (model.stage === 'production') production[model.config_key] = id;
    out.push(updated(id, model, reason));
  }
  return { context: { ...context, models, production, versions }, out };
}

const newVersion = (
  context: RegistryContext,
  config: string,
  path: string,
  stage: ModelStage,
): ModelVersion => ({
  config_key: config,
  model_path: path,
  version: `v${(context.versions[config] ?? 0) + 1}`,
  parent_model_id: context.production[config] ?? null,
  stage,
});

const trainedModel = (e: CatalogEvent<'TRAINING_COMPLETED'>) =>
  e.payload.success && typeof e.payload.model_path === 'string' ? e.payload.model_path : null;

/** The registry's answer to one event: its next context and what it says. */
function registryStep(
  context: RegistryContext,
  event: DaemonMachineEvent<typeof MODEL_REGISTRY_SUBSCRIBES>,
): { context: RegistryContext; out: Update[] } {
  const none = { context, out: [] };
  switch (event.type) {
    case 'TRAINING_COMPLETED': {
      const path = trainedModel(event) as string; // the noModel guard came first
      const id = modelIdOf(path);
      if (context.models[id]) return none;
      const config = event.payload.config_key;
      return restage(context, [[id, newVersion(context, config, path, 'candidate'), 'trained']]);
    }
    case 'MODEL_PROMOTED': {
      const p = event.payload;
      const known = context.models[p.model_id];
      if (known?.stage === 'production') return none;
      const config = p.config_key;
      // A model trained in another process before this registry started: registered on promotion.
      const model = known ?? newVersion(context, config, p.model_path as string, 'production');
      const before = context.production[config];
      const changes: [string, ModelVersion, string][] = [
        [p.model_id, { ...model, stage: 'production' }, 'promoted'],
      ];
      const replaced = before === undefined ? undefined : context.models[before];
      if (before !== undefined && replaced && before !== p.model_id)
        changes.push([before, { ...replaced, stage: 'archived' }, 'superseded']);
      return restage(context, changes);
    }
    case 'PROMOTION_ROLLED_BACK': {
      const p = event.payload;
      const withdrawn = context.models[p.model_id];
      const restored = context.models[p.restored_model_id];
      if (withdrawn?.stage === 'rolled_back') return none;
      const changes: [string, ModelVersion, string][] = [];
      if (withdrawn) changes.push([p.model_id, { ...withdrawn, stage: 'rolled_back' }, 'rollback']);
      changes.push([
        p.restored_model_id,
        restored
          ? { ...restored, stage: 'production' }
          : {
              ...newVersion(context, p.config_key, p.restored_model_path, 'production'),
              parent_model_id: null,
            },
        'restored',
      ]);
      return restage(context, changes);
    }
    default:
      return none;
  }
}

export const modelRegistryMachine = setup({
  types: {
    context: {} as RegistryContext,
    events: {} as DaemonMachineEvent<typeof MODEL_REGISTRY_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  guards: {
    noModel: ({ event }) => event.type === 'TRAINING_COMPLETED' && trainedModel(event) === null,
    unknownWithoutPath: ({ context, event }) =>
      event.type === 'MODEL_PROMOTED' &&
      !context.models[event.payload.model_id] &&
      typeof event.payload.model_path !== 'string',
  },
  actions: {
    record: enqueueActions(({ context, event, enqueue }) => {
      const { context: next, out } = registryStep(context, event);
      enqueue.assign(next);
      for (const e of out) enqueue.emit(e);
    }),
  },
}).createMachine({
  id: 'modelRegistry',
  context: { models: {}, production: {}, versions: {} },
  initial: 'recording',
  states: {
    recording: {
      tags: ['ready'],
      on: {
        TRAINING_COMPLETED: [
          // A failed run, or one that wrote no model, adds no version: nothing to record.
          { guard: 'noModel' },
          { actions: 'record' },
        ],
        MODEL_PROMOTED: [
          {
            guard: 'unknownWithoutPath',
            actions: reject(
              'MODEL_PROMOTED',
              'MODEL_PROMOTED of a model the registry does not know, without model_path',
            ),
          },
          { actions: 'record' },
        ],
        PROMOTION_ROLLED_BACK: { actions: 'record' },
      },
    },
  },
});
