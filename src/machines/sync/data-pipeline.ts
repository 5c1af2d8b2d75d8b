/**
 * DATA_PIPELINE (the original's DataPipelineOrchestrator): DATA_SYNC_COMPLETED -> NPZ export ->
 * NPZ_EXPORT_STARTED, NPZ_EXPORT_COMPLETE, then NEW_GAMES_AVAILABLE. A sync result without a
 * config_key cannot be exported: a logged, counted rejection. It keeps each config's pipeline
 * stage (`notes.stages`, in its snapshot and the inspector), from its own work and from what it
 * hears of the rest: TRAINING_COMPLETED, PROMOTION_FAILED and REGRESSION_DETECTED, as the guide wires them; and
 * each config's data quality (QUALITY_SCORE_UPDATED: the guide's 'aggregate metrics').
 */
import { isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly host: string;
  readonly games: number;
}

/** Each config's stage, by the last event of its pipeline this daemon heard or said. */
export const PIPELINE_STAGES: Readonly<Record<string, string>> = {
  DATA_SYNC_COMPLETED: 'synced',
  NPZ_EXPORT_STARTED: 'exporting',
  NEW_GAMES_AVAILABLE: 'exported',
  EXPORT_VALIDATION_FAILED: 'export_failed',
  TRAINING_COMPLETED: 'trained',
  PROMOTION_FAILED: 'promotion_failed',
  // The config's production model did worse than its predecessor (it is being rolled back).
  REGRESSION_DETECTED: 'regressed',
};

export interface DataPipelineNotes {
  readonly stages: Readonly<Record<string, string>>;
  /** Config -> its selfplay data's quality score (QUALITY_SCORE_UPDATED). */
  readonly quality: Readonly<Record<string, number>>;
}

export function createDataPipelineMachine(host: string) {
  return createJobDaemonMachine<'export', Request, DataPipelineNotes, 'DATA_SYNC_COMPLETED'>({
    id: 'dataPipeline',
    triggers: ['DATA_SYNC_COMPLETED'],
    notes: {
      initial: { stages: {}, quality: {} },
      listens: [
        'TRAINING_COMPLETED',
        'PROMOTION_FAILED',
        'REGRESSION_DETECTED',
        'QUALITY_SCORE_UPDATED',
      ],
      fold: (notes, type, p) => {
        if (type === 'QUALITY_SCORE_UPDATED') {
          if (typeof p.config_key !== 'string' || typeof p.quality_score !== 'number') return notes;
          return { ...notes, quality: { ...notes.quality, [p.config_key]: p.quality_score } };
        }
        const stage =
          type === 'TRAINING_COMPLETED' && p.success !== true
            ? 'training_failed'
            : PIPELINE_STAGES[type];
        if (!stage || typeof p.config_key !== 'string') return notes;
        return { ...notes, stages: { ...notes.stages, [p.config_key]: stage } };
      },
    },
    toRequest: (_, p) =>
      isConfigKey(p.config_key)
        ? { config_key: p.config_key, host: p.host, games: p.games_synced }
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
        payload: {
          config_key: r.config_key,
          samples_exported: result.samples,
          output_path: result.npz_path,
          games_exported: r.games,
        },
      },
      {
        type: 'NEW_GAMES_AVAILABLE',
        payload: { host, new_games: r.games, total_games: r.games, config_key: r.config_key },
      },
    ],
    failed: (r, error) => [
      {
        type: 'EXPORT_VALIDATION_FAILED',
        payload: { config_key: r.config_key, reason: error, source: 'DATA_PIPELINE' },
      },
    ],
  });
}
