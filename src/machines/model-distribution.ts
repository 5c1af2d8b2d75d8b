/**
 * MODEL_DISTRIBUTION (the original's UnifiedDistributionDaemon): MODEL_PROMOTED -> copy the model
 * to every cluster node -> MODEL_DISTRIBUTION_STARTED, then _COMPLETE or, after retries, _FAILED.
 */
import { createJobDaemonMachine } from './job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly model_id: string;
  readonly model_path: string;
}

/** `targetHosts`: the nodes a promoted model goes to. */
export function createModelDistributionMachine(targetHosts: readonly string[]) {
  return createJobDaemonMachine<'distribution', Request>({
    id: 'modelDistribution',
    triggers: ['MODEL_PROMOTED'],
    toRequest: (_, p) =>
      typeof p.model_path === 'string' && typeof p.config_key === 'string'
        ? {
            config_key: p.config_key,
            model_id: p.model_id as string,
            model_path: p.model_path,
          }
        : { reject: 'MODEL_PROMOTED without model_path and config_key: nothing to distribute' },
    job: (r, attempt) => ({
      kind: 'distribution',
      idempotencyKey: `distribution:${r.model_id}:${attempt}`,
      input: {
        config_key: r.config_key,
        model_id: r.model_id,
        model_path: r.model_path,
        target_hosts: [...targetHosts],
      },
    }),
    started: () => ({
      type: 'MODEL_DISTRIBUTION_STARTED',
      payload: { total_models: 1, target_hosts: targetHosts.length },
    }),
    completed: (_, result) => [
      {
        type: 'MODEL_DISTRIBUTION_COMPLETE',
        payload: {
          models_collected: 1,
          models_distributed: result.models_distributed,
          target_hosts: result.hosts.length,
          duration: result.duration,
        },
      },
    ],
    failed: (_, error) => [
      { type: 'MODEL_DISTRIBUTION_FAILED', payload: { error, partial_models: 0 } },
    ],
  });
}
