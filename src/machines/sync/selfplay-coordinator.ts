/**
 * SELFPLAY_COORDINATOR (the original's SelfplayScheduler): SELFPLAY_TARGET_UPDATED -> run a
 * selfplay batch for the config -> SELFPLAY_COMPLETE (a failed batch, after its retries, is a
 * TASK_FAILED). It hears NEW_GAMES_AVAILABLE to know how much fresh data each config has, and
 * when batches wait, runs the one for the config with the least first (the data-starved config
 * gets the GPUs).
 */
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
}

/** New games exported per config so far. */
export interface SelfplayNotes {
  readonly gamesAvailable: Readonly<Record<string, number>>;
}

export const selfplayCoordinatorMachine = createJobDaemonMachine<
  'selfplay',
  Request,
  SelfplayNotes,
  'SELFPLAY_TARGET_UPDATED'
>({
  id: 'selfplayCoordinator',
  triggers: ['SELFPLAY_TARGET_UPDATED'],
  notes: {
    initial: { gamesAvailable: {} },
    listens: ['NEW_GAMES_AVAILABLE'],
    fold: (notes, type, p) => {
      if (type !== 'NEW_GAMES_AVAILABLE') return notes;
      if (typeof p.config_key !== 'string' || !Number.isInteger(p.new_games)) return notes;
      const before = notes.gamesAvailable[p.config_key] ?? 0;
      return {
        gamesAvailable: {
          ...notes.gamesAvailable,
          [p.config_key]: before + (p.new_games as number),
        },
      };
    },
    rank: (r, notes) => notes.gamesAvailable[r.config_key] ?? 0,
  },
  toRequest: (_, p) =>
    typeof p.target_games === 'number' && p.target_games > 0
      ? { config_key: p.config_key, games: p.target_games }
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
        ...(result.quality_score === undefined ? {} : { quality_score: result.quality_score }),
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
