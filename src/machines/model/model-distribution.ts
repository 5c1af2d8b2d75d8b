/**
 * MODEL_DISTRIBUTION (the original's UnifiedDistributionDaemon): MODEL_PROMOTED -> copy the model
 * to every cluster node -> MODEL_DISTRIBUTION_STARTED, then _COMPLETE or, after retries, _FAILED.
 *
 * MODEL_UPDATED (the registry's metadata) keeps each config's production model in its notes, and
 * a model made production again by a rollback (`reason: 'restored'`) is distributed like a
 * promoted one: the hosts must stop playing with the model that regressed. Other updates only
 * change the notes (the promoted model is already on its way by MODEL_PROMOTED).
 */
import type { PayloadOf } from '../../events/catalog/index.js';
import { foldHosts, HOST_EVENTS, type HostNotes, hostsRunning } from '../cluster/cluster-hosts.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly model_id: string;
  readonly model_path: string;
  readonly targets: readonly string[];
  /** A rollback's restored model: its copies are keyed by the rollback, not only the model. */
  readonly restored?: boolean;
}

/** The hosts present, and each config's production model (the registry's MODEL_UPDATED). */
export interface DistributionNotes extends HostNotes {
  readonly production: Readonly<Record<string, string>>;
}

function foldNotes(
  notes: DistributionNotes,
  type: string,
  payload: Record<string, unknown>,
): DistributionNotes {
  if (type === 'MODEL_UPDATED') {
    if (payload.stage !== 'production' || typeof payload.config_key !== 'string') return notes;
    return {
      ...notes,
      production: { ...notes.production, [payload.config_key]: String(payload.model_id) },
    };
  }
  return { ...notes, ...foldHosts(notes, type, payload) };
}

/** The daemons of a host that need the current best model: it trains from it or plays with it. */
const USES_MODELS = ['CONTINUOUS_TRAINING_LOOP', 'SELFPLAY_COORDINATOR'];

/**
 * `targetHosts`: the nodes a promoted model goes to. `cluster`: instead, every host present
 * when the promotion arrives that trains or plays (HOST_ONLINE / HOST_OFFLINE), except `self`.
 */
export function createModelDistributionMachine(
  targetHosts: readonly string[],
  cluster?: { readonly self: string },
) {
  const targetsOf = (notes: DistributionNotes) =>
    cluster ? hostsRunning(notes, USES_MODELS, cluster.self) : [...targetHosts];
  return createJobDaemonMachine<
    'distribution',
    Request,
    DistributionNotes,
    'MODEL_PROMOTED' | 'MODEL_UPDATED'
  >({
    id: 'modelDistribution',
    triggers: ['MODEL_PROMOTED', 'MODEL_UPDATED'],
    skips: ['MODEL_UPDATED'],
    // The registry's record always names the model and its file.
    rejects: ['MODEL_PROMOTED'],
    notes: { initial: { hosts: {}, production: {} }, listens: [...HOST_EVENTS], fold: foldNotes },
    toRequest: (type, payload, notes) => {
      if (type === 'MODEL_UPDATED') {
        const p = payload as PayloadOf<'MODEL_UPDATED'>;
        if (p.stage !== 'production' || p.reason !== 'restored')
          return { skip: `metadata only (${p.model_id} ${p.stage})` };
        return {
          config_key: p.config_key,
          model_id: p.model_id,
          model_path: p.model_path,
          targets: targetsOf(notes),
          restored: true,
        };
      }
      const p = payload as PayloadOf<'MODEL_PROMOTED'>;
      return typeof p.model_path === 'string'
        ? {
            config_key: p.config_key,
            model_id: p.model_id,
            model_path: p.model_path,
            targets: targetsOf(notes),
          }
        : { reject: 'MODEL_PROMOTED without model_path: nothing to distribute' };
    },
    job: (r, attempt, causeId) => ({
      kind: 'distribution',
      idempotencyKey: r.restored
        ? `distribution:${r.model_id}:restored:${causeId}:${attempt}`
        : `distribution:${r.model_id}:${attempt}`,
      input: {
        config_key: r.config_key,
        model_id: r.model_id,
        model_path: r.model_path,
        target_hosts: [...r.targets],
      },
    }),
    started: (r) => ({
      type: 'MODEL_DISTRIBUTION_STARTED',
      payload: { total_models: 1, target_hosts: r.targets.length },
    }),
    completed: (r, result) => [
      {
        type: 'MODEL_DISTRIBUTION_COMPLETE',
        payload: {
          models_collected: 1,
          models_distributed: result.models_distributed,
          target_hosts: result.hosts.length,
          duration: result.duration,
          hosts: [...result.hosts],
          config_key: r.config_key,
          model_id: r.model_id,
        },
      },
    ],
    failed: (r, error) => [
      {
        type: 'MODEL_DISTRIBUTION_FAILED',
        payload: { error, partial_models: 0, config_key: r.config_key, model_id: r.model_id },
      },
    ],
  });
}
