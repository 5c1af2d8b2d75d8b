/**
 * Evaluation and Elo events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

/** Both events are written by the original's emit_elo_updated, with one payload. */
const eloUpdate = {
  config_key: f.configKey,
  model_id: f.str,
  new_elo: f.num,
  old_elo: f.num,
  games_played: f.int,
  elo: f.num.optional(),
  elo_change: f.num.optional(),
  threshold: f.num.optional(),
};

export const evaluationEvents = defineDomain('evaluation', {
  EVALUATION_STARTED: {
    value: 'evaluation_started',
    payload: {
      config_key: f.configKey,
      model_id: f.str,
      games_planned: f.int.optional(),
    },
  },
  EVALUATION_PROGRESS: {
    value: 'evaluation_progress',
    payload: {
      config_key: f.configKey,
      model_id: f.str.optional(),
      games_completed: f.int,
      games_planned: f.int,
      win_rate: f.num.optional(),
      elo: f.num.optional(),
    },
  },
  EVALUATION_COMPLETED: {
    value: 'evaluation_completed',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      elo: f.num,
      games_played: f.int,
      win_rate: f.num,
      // Not written by the original emitter; needed to know which model a gauntlet judged.
      model_id: f.str.optional(),
      model_path: f.str.optional(),
      // Not in the original; what a preempted gauntlet's games_played is measured against.
      games_planned: f.int.optional(),
    },
  },
  EVALUATION_FAILED: {
    value: 'evaluation_failed',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      model_id: f.str,
      error: f.str,
    },
  },
  EVALUATION_BACKPRESSURE: { value: 'evaluation_backpressure' },
  EVALUATION_BACKPRESSURE_RELEASED: { value: 'evaluation_backpressure_released' },
  MODEL_EVALUATION_BLOCKED: { value: 'model_evaluation_blocked' },
  ELO_UPDATED: {
    value: 'elo_updated',
    payload: eloUpdate,
  },
  ELO_RECORDING_FAILED: { value: 'elo_recording_failed' },
  ELO_VALIDATION_FAILED: { value: 'elo_validation_failed' },
  HARNESS_EVALUATION_COMPLETED: { value: 'harness_evaluation_completed' },
  EVALUATION_REQUESTED: {
    value: 'evaluation_requested',
    // Not typed in the original; what the gauntlet needs to know which model to play.
    payload: {
      config_key: f.configKey,
      model_path: f.str,
      model_id: f.str.optional(),
      games: f.int.optional(),
    },
  },
  EVALUATION_QUEUED: { value: 'evaluation_queued' },
  EVALUATION_RECOVERED: { value: 'evaluation_recovered' },
  EVALUATION_STUCK: { value: 'evaluation_stuck' },
  EVALUATION_SUBMITTED: { value: 'evaluation_submitted' },
  UNEVALUATED_MODELS_FOUND: { value: 'unevaluated_models_found' },
  HEAD_TO_HEAD_COMPLETED: { value: 'head_to_head_completed' },
  MULTI_HARNESS_EVALUATION_COMPLETED: { value: 'multi_harness_evaluation_completed' },
  CROSS_CONFIG_TOURNAMENT_COMPLETED: { value: 'cross_config_tournament_completed' },
  TOPN_ROUNDROBIN_COMPLETED: { value: 'topn_roundrobin_completed' },
  ELO_SIGNIFICANT_CHANGE: {
    value: 'elo_significant_change',
    crossProcess: true,
    payload: eloUpdate,
  },
  ELO_VELOCITY_CHANGED: {
    value: 'elo_velocity_changed',
    payload: {
      config_key: f.configKey,
      velocity: f.num,
      previous_velocity: f.num,
      trend: f.str,
      velocity_change: f.num.optional(),
    },
  },
  OWC_MODELS_DISCOVERED: { value: 'owc_models_discovered' },
  OWC_MODEL_DISCOVERED: { value: 'owc_model_discovered' },
  OWC_MODEL_BACKLOG_QUEUED: { value: 'owc_model_backlog_queued' },
  OWC_MODEL_EVALUATION_STARTED: { value: 'owc_model_evaluation_started' },
  OWC_MODEL_EVALUATION_COMPLETED: { value: 'owc_model_evaluation_completed' },
  OWC_MODEL_EVALUATION_FAILED: { value: 'owc_model_evaluation_failed' },
  BACKLOG_DISCOVERY_COMPLETED: { value: 'backlog_discovery_completed' },
  TOURNAMENT_COMPLETED: { value: 'tournament_completed' },
  COMPREHENSIVE_EVALUATION_STARTED: { value: 'comprehensive_evaluation_started' },
  COMPREHENSIVE_EVALUATION_COMPLETED: { value: 'comprehensive_evaluation_completed' },
  MODEL_HARNESS_EVALUATED: { value: 'model_harness_evaluated' },
  UNEVALUATED_MODELS_DETECTED: { value: 'unevaluated_models_detected' },
  TOURNAMENT_DATA_READY: { value: 'tournament_data_ready' },
  TOURNAMENT_PIPELINE_COMPLETED: { value: 'tournament_pipeline_completed' },
  TOURNAMENT_TRAINING_TRIGGERED: { value: 'tournament_training_triggered' },
  FORCED_REEVALUATION_REQUESTED: {
    value: 'forced_reevaluation_requested',
    added:
      "the original's alias table normalised names to it, but its DataEventType had no such member",
  },
});
