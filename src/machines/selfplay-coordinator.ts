/**
 * SELFPLAY_COORDINATOR (the original's SelfplayScheduler): SELFPLAY_TARGET_UPDATED -> run a
 * selfplay batch for the config -> SELFPLAY_COMPLETE (a failed batch, after its retries, is a
 * TASK_FAILED).
 */
import { createJobDaemonMachine } from './job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
}

export const selfplayCoordinatorMachine = createJobDaemonMachine<'selfplay', Request>({
  id: 'selfplayCoordinator',
  triggers: ['SELFPLAY_TARGET_UPDATED'],
  toRequest: (_, p) =>
    typeof p.target_games === 'number' && p.target_games > 0
      ? { config_key: p.config_key as string, games: p.target_games }
      : { reject: 'SELFPLAY_TARGET_UPDATED without a positive target_games' },
  job: (r, attempt, causeId) => ({
    kind: 'selfplay',
    idempotencyKey: `selfplay:${r.config_key}:${causeId}:${attempt}`,
    input: { config_key: r.config_key, games: r.games },
  }),
  completed: (r, result) => [
    {
      type: 'SELFPLAY_COMPLETE',
      payload: {
        config_key: r.config_key,
        games_played: result.games_played,
        db_path: result.db_path,
        duration_seconds: result.duration_seconds,
        engine: 'gumbel-mcts',
      },
    },
  ],
  failed: (r, error) => [
    {
      type: 'TASK_FAILED',
      payload: {
        task_id: `selfplay:${r.config_key}`,
        task_type: 'selfplay',
        node_id: 'local',
        error,
      },
    },
  ],
});
