/**
 * Data quality and parity events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const qualityEvents = defineDomain('quality', {
  PARITY_VALIDATION_STARTED: { value: 'parity_validation_started' },
  PARITY_VALIDATION_COMPLETED: { value: 'parity_validation_completed' },
  DATA_QUALITY_ALERT: { value: 'data_quality_alert' },
  QUALITY_CHECK_REQUESTED: {
    value: 'quality_check_requested',
    payload: {
      config_key: f.configKey,
      reason: f.str,
      priority: f.str.optional(),
    },
  },
  QUALITY_CHECK_FAILED: { value: 'quality_check_failed' },
  QUALITY_SCORE_UPDATED: {
    value: 'quality_score_updated',
    // The original scored one game at a time (game_id); QUALITY_MONITOR reports a config's
    // selfplay data, so config_key is added and game_id is kept for a per-game emitter.
    payload: {
      config_key: f.configKey,
      quality_score: f.num,
      quality_category: f.str,
      training_weight: f.num,
      game_id: f.str.optional(),
      game_length: f.int.optional(),
      is_decisive: f.bool.optional(),
    },
  },
  QUALITY_DISTRIBUTION_CHANGED: { value: 'quality_distribution_changed' },
  HIGH_QUALITY_DATA_AVAILABLE: { value: 'high_quality_data_available' },
  QUALITY_DEGRADED: {
    value: 'quality_degraded',
    payload: {
      config_key: f.configKey,
      quality_score: f.num,
      threshold: f.num.optional(),
      previous_score: f.num.optional(),
      degradation_delta: f.num.optional(),
    },
  },
  LOW_QUALITY_DATA_WARNING: { value: 'low_quality_data_warning' },
  TRAINING_BLOCKED_BY_QUALITY: { value: 'training_blocked_by_quality' },
  QUALITY_FEEDBACK_ADJUSTED: { value: 'quality_feedback_adjusted' },
  QUALITY_PENALTY_APPLIED: { value: 'quality_penalty_applied' },
  QUALITY_SELFPLAY_DISPATCHED: { value: 'quality_selfplay_dispatched' },
  METRICS_UPDATED: { value: 'metrics_updated' },
  CACHE_INVALIDATED: { value: 'cache_invalidated', crossProcess: true },
  PARITY_FAILURE_RATE_CHANGED: {
    value: 'parity_failure_rate_changed',
    payload: {
      new_rate: f.num,
      old_rate: f.num,
      board_type: f.str.optional(),
      num_players: f.int.optional(),
      total_checked: f.int.optional(),
      rate_change: f.num.optional(),
    },
  },
});
