/**
 * EVALUATION (the original's GameGauntlet): EVALUATION_REQUESTED -> play the model against the
 * baselines -> EVALUATION_STARTED, EVALUATION_PROGRESS, then EVALUATION_COMPLETED (with the
 * config_key the promotion gate needs) or, after its retries, EVALUATION_FAILED.
 */

import { isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';
import { modelIdOf } from '../model/model-id.js';

interface Request {
  readonly config_key: string;
  readonly model_path: string;
  readonly model_id: string;
  readonly games: number;
}

export const evaluationMachine = createJobDaemonMachine<
  'evaluation',
  Request,
  null,
  'EVALUATION_REQUESTED'
>({
  id: 'evaluation',
  triggers: ['EVALUATION_REQUESTED'],
  toRequest: (_, p) => {
    if (typeof p.model_path !== 'string') return { reject: 'no model_path to evaluate' };
    if (!isConfigKey(p.config_key))
      return { reject: 'no config_key: the promotion gate could not judge the result' };
    return {
      config_key: p.config_key,
      model_path: p.model_path,
      model_id: typeof p.model_id === 'string' ? p.model_id : modelIdOf(p.model_path),
      games: typeof p.games === 'number' ? p.games : 200,
    };
  },
  job: (r, attempt) => ({
    kind: 'evaluation',
    idempotencyKey: `evaluation:${r.model_id}:${attempt}`,
    input: { config_key: r.config_key, model_path: r.model_path, games: r.games },
  }),
  started: (r) => ({
    type: 'EVALUATION_STARTED',
    payload: { config_key: r.config_key, model_id: r.model_id, games_planned: r.games },
  }),
  progress: (r, p) => ({
    type: 'EVALUATION_PROGRESS',
    payload: {
      config_key: r.config_key,
      model_id: r.model_id,
      games_completed: Math.round(p.fraction * r.games),
      games_planned: r.games,
    },
  }),
  completed: (r, result) => [
    {
      type: 'EVALUATION_COMPLETED',
      payload: {
        config_key: r.config_key,
        elo: result.elo,
        games_played: result.games_played,
        games_planned: r.games,
        win_rate: result.win_rate,
        model_id: r.model_id,
        model_path: r.model_path,
      },
    },
  ],
  failed: (r, error) => [
    {
      type: 'EVALUATION_FAILED',
      payload: { config_key: r.config_key, model_id: r.model_id, error },
    },
  ],
});
