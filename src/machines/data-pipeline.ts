/**
 * DATA_PIPELINE (the original's DataPipelineOrchestrator): DATA_SYNC_COMPLETED -> NPZ export ->
 * NPZ_EXPORT_STARTED, NPZ_EXPORT_COMPLETE, then NEW_GAMES_AVAILABLE. A sync result without a
 * config_key cannot be exported: a logged, counted rejection.
 */
import { createJobDaemonMachine } from './job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly host: string;
  readonly games: number;
}

export function createDataPipelineMachine(host: string) {
  return createJobDaemonMachine<'export', Request>({
    id: 'dataPipeline',
    triggers: ['DATA_SYNC_COMPLETED'],
    toRequest: (_, p) =>
      typeof p.config_key === 'string' && p.config_key !== ''
        ? { config_key: p.config_key, host: String(p.host), games: Number(p.games_synced) }
        : { reject: 'DATA_SYNC_COMPLETED without config_key: nothing to export' },
    job: (r, attempt, causeId) => ({
      kind: 'export',
      idempotencyKey: `export:${r.config_key}:${causeId}:${attempt}`,
      input: { config_key: r.config_key, games: r.games },
    }),
    started: (r) => ({
      type: 'NPZ_EXPORT_STARTED',
      payload: { config_key: r.config_key, games: r.games },
    }),
    completed: (r, result) => [
      {
        type: 'NPZ_EXPORT_COMPLETE',
        payload: { config_key: r.config_key, samples: result.samples, npz_path: result.npz_path },
      },
      {
        type: 'NEW_GAMES_AVAILABLE',
        payload: { host, new_games: r.games, total_games: r.games, config_key: r.config_key },
      },
    ],
    failed: (r, error) => [
      { type: 'EXPORT_VALIDATION_FAILED', payload: { config_key: r.config_key, error } },
    ],
  });
}
