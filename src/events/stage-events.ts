/**
 * The 21 `StageEvent` members of the original (pipeline stage completions) and the one data event
 * each maps to (`STAGE_TO_DATA`, from the original's `STAGE_TO_DATA_EVENT_MAP`; see
 * `reference/original/stage-to-data.tsv` for the four rows this project completed).
 */
import type { EventName } from './catalog/index.js';

export const STAGE_EVENTS = {
  SELFPLAY_COMPLETE: 'selfplay_complete',
  CANONICAL_SELFPLAY_COMPLETE: 'canonical_selfplay_complete',
  GPU_SELFPLAY_COMPLETE: 'gpu_selfplay_complete',
  SYNC_COMPLETE: 'sync_complete',
  PARITY_VALIDATION_COMPLETE: 'parity_validation_complete',
  NPZ_EXPORT_STARTED: 'npz_export_started',
  NPZ_EXPORT_COMPLETE: 'npz_export_complete',
  TRAINING_COMPLETE: 'training_complete',
  TRAINING_STARTED: 'training_started',
  TRAINING_FAILED: 'training_failed',
  EVALUATION_COMPLETE: 'evaluation_complete',
  SHADOW_TOURNAMENT_COMPLETE: 'shadow_tournament_complete',
  ELO_CALIBRATION_COMPLETE: 'elo_calibration_complete',
  CMAES_COMPLETE: 'cmaes_complete',
  PBT_COMPLETE: 'pbt_complete',
  NAS_COMPLETE: 'nas_complete',
  PROMOTION_COMPLETE: 'promotion_complete',
  TIER_GATING_COMPLETE: 'tier_gating_complete',
  ITERATION_COMPLETE: 'iteration_complete',
  CLUSTER_SYNC_COMPLETE: 'cluster_sync_complete',
  MODEL_SYNC_COMPLETE: 'model_sync_complete',
} as const;

/** A stage event name (`TRAINING_COMPLETE`). */
export type StageEventName = keyof typeof STAGE_EVENTS;

/** Stage event name -> canonical data event. Many-to-one: several stages complete the same data event. */
export const STAGE_TO_DATA: { readonly [K in StageEventName]: EventName } = {
  SELFPLAY_COMPLETE: 'SELFPLAY_COMPLETE',
  CANONICAL_SELFPLAY_COMPLETE: 'SELFPLAY_COMPLETE',
  GPU_SELFPLAY_COMPLETE: 'SELFPLAY_COMPLETE',
  SYNC_COMPLETE: 'DATA_SYNC_COMPLETED',
  PARITY_VALIDATION_COMPLETE: 'PARITY_VALIDATION_COMPLETED',
  NPZ_EXPORT_STARTED: 'NPZ_EXPORT_STARTED',
  NPZ_EXPORT_COMPLETE: 'NPZ_EXPORT_COMPLETE',
  TRAINING_COMPLETE: 'TRAINING_COMPLETED',
  TRAINING_STARTED: 'TRAINING_STARTED',
  TRAINING_FAILED: 'TRAINING_FAILED',
  EVALUATION_COMPLETE: 'EVALUATION_COMPLETED',
  SHADOW_TOURNAMENT_COMPLETE: 'EVALUATION_COMPLETED',
  ELO_CALIBRATION_COMPLETE: 'ELO_UPDATED',
  CMAES_COMPLETE: 'CMAES_COMPLETED',
  PBT_COMPLETE: 'PBT_GENERATION_COMPLETE',
  NAS_COMPLETE: 'NAS_COMPLETED',
  PROMOTION_COMPLETE: 'MODEL_PROMOTED',
  TIER_GATING_COMPLETE: 'MODEL_PROMOTED',
  ITERATION_COMPLETE: 'ITERATION_COMPLETE',
  CLUSTER_SYNC_COMPLETE: 'DATA_SYNC_COMPLETED',
  MODEL_SYNC_COMPLETE: 'P2P_MODEL_SYNCED',
};
