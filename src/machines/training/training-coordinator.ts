/**
 * The TrainingCoordinator: TRAINING_THRESHOLD_REACHED -> TRAINING_STARTED -> train (with the
 * request's learning rate, when the FEEDBACK_LOOP set one) -> TRAINING_COMPLETED (and
 * TRAINING_EARLY_STOPPED when the run stopped early) or, after retries with backoff,
 * TRAINING_FAILED.
 */
import { type Emitted, isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  /** Cluster work: the job this request belongs to (a reassignment keeps it). */
  readonly job_id?: string;
  /** The learning rate TRAINING_TRIGGER passed on from HYPERPARAMETER_UPDATED, if any. */
  readonly learning_rate?: number;
}

/**
 * `cluster`: this host's name in a cluster, where the leader assigns each request to a host
 * (`target_host`): requests for another host, and the leader's own unassigned ones, are skipped.
 */
export function createTrainingCoordinatorMachine(epochs: number, cluster?: { host: string }) {
  const host = cluster?.host;
  return createJobDaemonMachine<'training', Request, null, 'TRAINING_THRESHOLD_REACHED'>({
    id: 'trainingCoordinator',
    triggers: ['TRAINING_THRESHOLD_REACHED'],
    skips: cluster !== undefined,
    toRequest: (_, p) => {
      if (cluster && p.target_host !== cluster.host)
        return { skip: `training request for ${String(p.target_host ?? 'the leader to assign')}` };
      return isConfigKey(p.config_key) && Number.isInteger(p.games)
        ? {
            config_key: p.config_key,
            games: p.games,
            ...learningRateOf(p.hyperparameters),
            ...(typeof p.job_id === 'string' ? { job_id: p.job_id } : {}),
          }
        : { reject: 'TRAINING_THRESHOLD_REACHED without config_key and games: nothing to train' };
    },
    job: (r, attempt, causeId) => ({
      kind: 'training',
      // A reassigned job keeps its key: a worker that already ran it answers from its results.
      idempotencyKey: `training:${r.config_key}:${r.job_id ?? causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        samples: r.games * 60,
        epochs,
        ...(r.learning_rate === undefined ? {} : { learning_rate: r.learning_rate }),
      },
    }),
    started: (r) => ({
      type: 'TRAINING_STARTED',
      payload: { config_key: r.config_key, ...who(r) },
    }),
    completed: (r, result) => {
      const done: Emitted = {
        type: 'TRAINING_COMPLETED',
        payload: {
          config_key: r.config_key,
          success: true,
          duration: result.duration,
          model_path: result.model_path,
          ...who(r),
        },
      };
      if (!result.early_stopped) return [done];
      const stopped: Emitted = {
        type: 'TRAINING_EARLY_STOPPED',
        payload: {
          config_key: r.config_key,
          epoch: result.epochs,
          best_loss: result.final_loss,
          final_loss: result.final_loss,
          ...who(r),
        },
      };
      return [stopped, done];
    },
    failed: (r, error) => [
      { type: 'TRAINING_FAILED', payload: { config_key: r.config_key, error, ...who(r) } },
    ],
  });

  /** Cluster work's answers name the host that trained and the job. */
  function who(r: Request): { host?: string; job_id?: string } {
    return r.job_id === undefined || host === undefined ? {} : { host, job_id: r.job_id };
  }
}

function learningRateOf(hyperparameters: unknown): { learning_rate?: number } {
  const rate = (hyperparameters as { learning_rate?: unknown } | undefined)?.learning_rate;
  return typeof rate === 'number' && rate > 0 ? { learning_rate: rate } : {};
}
