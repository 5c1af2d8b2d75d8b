/**
 * MODEL_DISTRIBUTION (the original's UnifiedDistributionDaemon): MODEL_PROMOTED -> copy the model
 * to every cluster node -> MODEL_DISTRIBUTION_STARTED, then _COMPLETE or, after retries, _FAILED.
 */
import { foldHosts, HOST_EVENTS, type HostNotes, hostsRunning } from '../cluster/cluster-hosts.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly model_id: string;
  readonly model_path: string;
  readonly targets: readonly string[];
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
  return createJobDaemonMachine<'distribution', Request, HostNotes, 'MODEL_PROMOTED'>({
    id: 'modelDistribution',
    triggers: ['MODEL_PROMOTED'],
    notes: { initial: { hosts: {} }, listens: [...HOST_EVENTS], fold: foldHosts },
    toRequest: (_, p, notes) =>
      typeof p.model_path === 'string' && typeof p.config_key === 'string'
        ? {
            config_key: p.config_key,
            model_id: p.model_id,
            model_path: p.model_path,
            targets: cluster ? hostsRunning(notes, USES_MODELS, cluster.self) : [...targetHosts],
          }
        : { reject: 'MODEL_PROMOTED without model_path and config_key: nothing to distribute' },
    job: (r, attempt) => ({
      kind: 'distribution',
      idempotencyKey: `distribution:${r.model_id}:${attempt}`,
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
    completed: (_, result) => [
      {
        type: 'MODEL_DISTRIBUTION_COMPLETE',
        payload: {
          models_collected: 1,
          models_distributed: result.models_distributed,
          target_hosts: result.hosts.length,
          duration: result.duration,
          hosts: [...result.hosts],
        },
      },
    ],
    failed: (_, error) => [
      { type: 'MODEL_DISTRIBUTION_FAILED', payload: { error, partial_models: 0 } },
    ],
  });
}
