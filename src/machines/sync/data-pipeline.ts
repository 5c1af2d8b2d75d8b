/**
 * DATA_PIPELINE (the original's DataPipelineOrchestrator): DATA_SYNC_COMPLETED -> NPZ export ->
 * NPZ_EXPORT_STARTED, NPZ_EXPORT_COMPLETE, then NEW_GAMES_AVAILABLE. A sync result without a
 * config_key cannot be exported: a logged, counted rejection. It keeps each config's pipeline
 * stage (`notes.stages`, in its snapshot and the inspector), from its own work and from what it
 * hears of the rest: TRAINING_COMPLETED, PROMOTION_FAILED and REGRESSION_DETECTED, as the guide wires them; and
 * each config's data quality (QUALITY_SCORE_UPDATED: the guide's 'aggregate metrics'), curriculum
 * tier (CURRICULUM_ADVANCED: 'track progression') and last significant Elo (ELO_SIGNIFICANT_CHANGE).
 *
 * The Recovery table's reactions, each a SYNC_REQUEST of that config:
 * - REPAIR_COMPLETED: a sync of the repaired games ('retrigger sync');
 * - ORPHAN_GAMES_DETECTED: a sync of the orphaned games at `priority: 'high'` ('priority sync');
 * - REPAIR_FAILED: a sync of the games the repair could not copy (a full sync is the fallback),
 *   counted by a circuit breaker per config: after `BREAKER_FAILURES` failed repairs in a row it
 *   opens (CIRCUIT_BREAKER_OPENED) and failed repairs of that config ask for nothing more, until a
 *   repair of it succeeds (CIRCUIT_BREAKER_CLOSED). A config whose copies keep failing their check
 *   is not re-synced forever.
 */
import { type Emitted, isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';
import { isCatchUp } from './auto-sync.js';

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

/** Failed repairs in a row of one config that open its breaker. */
export const BREAKER_FAILURES = 3;

export interface DataPipelineNotes {
  readonly stages: Readonly<Record<string, string>>;
  /** Config -> its selfplay data's quality score (QUALITY_SCORE_UPDATED). */
  readonly quality: Readonly<Record<string, number>>;
  /** Config -> its curriculum tier (CURRICULUM_ADVANCED). */
  readonly tiers: Readonly<Record<string, string>>;
  /** Config -> its Elo at its last significant change (ELO_SIGNIFICANT_CHANGE). */
  readonly elo: Readonly<Record<string, number>>;
  /** Config -> failed repairs in a row (absent: none since its last good repair). */
  readonly repairFailures: Readonly<Record<string, number>>;
}

const breakerOpen = (notes: DataPipelineNotes, config: string) =>
  (notes.repairFailures[config] ?? 0) >= BREAKER_FAILURES;

function foldNotes(
  notes: DataPipelineNotes,
  type: string,
  p: Record<string, unknown>,
): DataPipelineNotes {
  if (typeof p.config_key !== 'string') return notes;
  const config = p.config_key;
  switch (type) {
    case 'QUALITY_SCORE_UPDATED':
      return typeof p.quality_score === 'number'
        ? { ...notes, quality: { ...notes.quality, [config]: p.quality_score } }
        : notes;
    case 'CURRICULUM_ADVANCED':
      return typeof p.new_tier === 'string'
        ? { ...notes, tiers: { ...notes.tiers, [config]: p.new_tier } }
        : notes;
    case 'ELO_SIGNIFICANT_CHANGE':
      return typeof p.new_elo === 'number'
        ? { ...notes, elo: { ...notes.elo, [config]: p.new_elo } }
        : notes;
    case 'REPAIR_FAILED':
      return {
        ...notes,
        repairFailures: {
          ...notes.repairFailures,
          // Capped: once open, more failures change nothing.
          [config]: Math.min(BREAKER_FAILURES, (notes.repairFailures[config] ?? 0) + 1),
        },
      };
    case 'REPAIR_COMPLETED': {
      const { [config]: _, ...rest } = notes.repairFailures;
      return { ...notes, repairFailures: rest };
    }
  }
  const stage =
    type === 'TRAINING_COMPLETED' && p.success !== true ? 'training_failed' : PIPELINE_STAGES[type];
  return stage ? { ...notes, stages: { ...notes.stages, [config]: stage } } : notes;
}

const breakerName = (config: string) => `repair_sync:${config}`;

/** The Recovery table's answers (see the module's comment). */
function recoveryReactions(
  type: string,
  p: Record<string, unknown>,
  notes: DataPipelineNotes,
  before: DataPipelineNotes,
  host: string,
): readonly Emitted[] {
  const config = p.config_key;
  if (!isConfigKey(config)) return [];
  // From the host that holds the games: a repair's source, the host that played the orphans.
  const source = typeof p.host === 'string' && p.host !== '' ? p.host : host;
  const sync = (games: number, reason: string, priority: 'normal' | 'high'): Emitted => ({
    type: 'SYNC_REQUEST',
    payload: { config_key: config, games, reason, priority, source_host: source },
  });
  switch (type) {
    case 'REPAIR_COMPLETED': {
      const answers: Emitted[] = [sync(p.games_repaired as number, 'repair_completed', 'normal')];
      if (breakerOpen(before, config))
        answers.unshift({
          type: 'CIRCUIT_BREAKER_CLOSED',
          payload: {
            breaker: breakerName(config),
            config_key: config,
            reason: 'a repair succeeded',
          },
        });
      return answers;
    }
    case 'REPAIR_FAILED':
      if (!breakerOpen(notes, config)) return [sync(p.games as number, 'repair_failed', 'normal')];
      return breakerOpen(before, config)
        ? []
        : [
            {
              type: 'CIRCUIT_BREAKER_OPENED',
              payload: {
                breaker: breakerName(config),
                config_key: config,
                failures: BREAKER_FAILURES,
                reason: `${BREAKER_FAILURES} repairs in a row failed (last: ${String(p.error)}): no more syncs for its failed repairs until one succeeds`,
              },
            },
          ];
    case 'ORPHAN_GAMES_DETECTED':
      return [sync(p.total_games as number, 'orphan_games', 'high')];
  }
  return [];
}

/** What DATA_PIPELINE hears besides its trigger (DATA_SYNC_COMPLETED). */
export const DATA_PIPELINE_LISTENS = [
  'TRAINING_COMPLETED',
  'PROMOTION_FAILED',
  'REGRESSION_DETECTED',
  'QUALITY_SCORE_UPDATED',
  'CURRICULUM_ADVANCED',
  'ELO_SIGNIFICANT_CHANGE',
  'REPAIR_COMPLETED',
  'REPAIR_FAILED',
  'ORPHAN_GAMES_DETECTED',
] as const;

export function createDataPipelineMachine(host: string) {
  return createJobDaemonMachine<'export', Request, DataPipelineNotes, 'DATA_SYNC_COMPLETED'>({
    id: 'dataPipeline',
    triggers: ['DATA_SYNC_COMPLETED'],
    notes: {
      initial: { stages: {}, quality: {}, tiers: {}, elo: {}, repairFailures: {} },
      listens: [...DATA_PIPELINE_LISTENS],
      fold: foldNotes,
      reacts: (type, p, notes, before) => recoveryReactions(type, p, notes, before, host),
    },
    // The SyncPlanner's catch-ups: games exported when they were first synced.
    skips: true,
    toRequest: (_, p) => {
      if (isCatchUp(p)) return { skip: 'a catch-up of games already exported' };
      return isConfigKey(p.config_key)
        ? { config_key: p.config_key, host: p.host, games: p.games_synced }
        : { reject: 'DATA_SYNC_COMPLETED without config_key: nothing to export' };
    },
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
