/**
 * The TrainingCoordinator: TRAINING_THRESHOLD_REACHED -> TRAINING_STARTED -> train (with the
 * request's learning rate, when the FEEDBACK_LOOP set one) -> TRAINING_COMPLETED (and
 * TRAINING_EARLY_STOPPED when the run stopped early) or, after retries with backoff,
 * TRAINING_FAILED.
 */
import { type Emitted, isConfigKey } from './emitted.js';
import { createJobDaemonMachine } from './job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  /** The learning rate TRAINING_TRIGGER passed on from HYPERPARAMETER_UPDATED, if any. */
  readonly learning_rate?: number;
}

export function createTrainingCoordinatorMachine(epochs: number) {
  return createJobDaemonMachine<'training', Request>({
    id: 'trainingCoordinator',
    triggers: ['TRAINING_THRESHOLD_REACHED'],
    toRequest: (_, p) =>
      isConfigKey(p.config_key) && Number.isInteger(p.games)
        ? {
            config_key: p.config_key,
            games: p.games as number,
            ...learningRateOf(p.hyperparameters),
          }
        : { reject: 'TRAINING_THRESHOLD_REACHED without config_key and games: nothing to train' },
    job: (r, attempt, causeId) => ({
      kind: 'training',
      idempotencyKey: `training:${r.config_key}:${causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        samples: r.games * 60,
        epochs,
        ...(r.learning_rate === undefined ? {} : { learning_rate: r.learning_rate }),
      },
    }),
    started: (r) => ({ type: 'TRAINING_STARTED', payload: { config_key: r.config_key } }),
    completed: (r, result) => {
      const done: Emitted = {
        type: 'TRAINING_COMPLETED',
        payload: {
          config_key: r.config_key,
          success: true,
          duration: result.duration,
          model_path: result.model_path,
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
        },
      };
      return [stopped, done];
    },
    failed: (r, error) => [
      { type: 'TRAINING_FAILED', payload: { config_key: r.config_key, error } },
    ],
  });
}

function learningRateOf(hyperparameters: unknown): { learning_rate?: number } {
  const rate = (hyperparameters as { learning_rate?: unknown } | undefined)?.learning_rate;
  return typeof rate === 'number' && rate > 0 ? { learning_rate: rate } : {};
}
