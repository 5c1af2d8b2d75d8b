/**
 * Curriculum, selfplay scheduling and optimisation events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const curriculumEvents = defineDomain('curriculum', {
  CURRICULUM_REBALANCED: {
    value: 'curriculum_rebalanced',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      old_weights: f.numRecord,
      new_weights: f.numRecord,
      trigger: f.str.optional(),
    },
  },
  CURRICULUM_ADVANCED: {
    value: 'curriculum_advanced',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      old_tier: f.str,
      new_tier: f.str,
      trigger_reason: f.str,
      elo: f.num.optional(),
      win_rate: f.num.optional(),
      games_at_tier: f.int.optional(),
    },
  },
  CURRICULUM_ADVANCEMENT_NEEDED: { value: 'curriculum_advancement_needed' },
  CURRICULUM_PROPAGATE: { value: 'curriculum_propagate' },
  CURRICULUM_ROLLBACK: { value: 'curriculum_rollback' },
  CURRICULUM_ROLLBACK_COMPLETED: {
    value: 'curriculum_rollback_completed',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      old_weight: f.num,
      new_weight: f.num,
      elo_delta: f.num,
      trigger_reason: f.str.optional(),
      weight_reduction_pct: f.num.optional(),
    },
  },
  CURRICULUM_RESET_REQUESTED: { value: 'curriculum_reset_requested' },
  WEIGHT_UPDATED: {
    value: 'weight_updated',
    payload: {
      config_key: f.configKey,
      component: f.str,
      old_weight: f.num,
      new_weight: f.num,
      reason: f.str,
      trigger_event: f.str.optional(),
    },
  },
  SELFPLAY_COMPLETE: {
    value: 'selfplay_complete',
    payload: {
      config_key: f.configKey,
      games_played: f.int,
      db_path: f.str.optional(),
      duration_seconds: f.num.optional(),
      engine: f.str.optional(),
      // Not in the original: the batch's data quality (0 to 1), when the worker scores it.
      quality_score: f.num.min(0).max(1).optional(),
      // Not in the original: the host that played the batch and holds its games.
      host: f.str.optional(),
    },
  },
  SELFPLAY_TARGET_UPDATED: {
    value: 'selfplay_target_updated',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      target_games: f.int,
      reason: f.str,
      priority: f.int.optional(),
    },
  },
  SELFPLAY_RATE_CHANGED: {
    value: 'selfplay_rate_changed',
    payload: {
      config_key: f.configKey,
      old_rate: f.num,
      new_rate: f.num,
      reason: f.str,
    },
  },
  SELFPLAY_ALLOCATION_UPDATED: {
    value: 'selfplay_allocation_updated',
    payload: {
      config_key: f.configKey,
      allocation_weights: f.numRecord,
      reason: f.str,
      exploration_boost: f.num.optional(),
    },
  },
  BATCH_SCHEDULED: {
    value: 'batch_scheduled',
    payload: {
      batch_id: f.str,
      batch_type: f.str,
      config_key: f.configKey,
      job_count: f.int,
      target_nodes: f.strList,
      reason: f.str.optional(),
    },
  },
  BATCH_DISPATCHED: {
    value: 'batch_dispatched',
    payload: {
      batch_id: f.str,
      batch_type: f.str,
      config_key: f.configKey,
      jobs_dispatched: f.int,
      jobs_failed: f.int.optional(),
      target_nodes: f.strList.nullable().optional(),
    },
  },
  CMAES_TRIGGERED: {
    value: 'cmaes_triggered',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      reason: f.str,
      current_params: f.record,
    },
  },
  CMAES_COMPLETED: { value: 'cmaes_completed' },
  NAS_TRIGGERED: {
    value: 'nas_triggered',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      reason: f.str,
      search_space: f.record.nullable().optional(),
    },
  },
  PLATEAU_DETECTED: {
    value: 'plateau_detected',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      current_elo: f.num,
      plateau_duration_games: f.int,
      plateau_duration_seconds: f.num,
    },
  },
  HYPERPARAMETER_UPDATED: {
    value: 'hyperparameter_updated',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      param_name: f.str,
      old_value: f.unknown,
      new_value: f.unknown,
      optimizer: f.str.optional(),
    },
  },
  ADAPTIVE_PARAMS_CHANGED: {
    value: 'adaptive_params_changed',
    crossProcessAdded:
      'FEEDBACK_LOOP applies it (as the EvaluationFeedbackHandler), and a durable FEEDBACK_LOOP reads every subscription from the event log',
    payload: {
      config_key: f.configKey,
      // Parameter -> its new value (multipliers of the loop's defaults).
      params: f.numRecord,
      reason: f.str.optional(),
    },
  },
  PBT_STARTED: { value: 'pbt_started' },
  PBT_GENERATION_COMPLETE: { value: 'pbt_generation_complete' },
  PBT_COMPLETED: { value: 'pbt_completed' },
  NAS_STARTED: { value: 'nas_started' },
  NAS_GENERATION_COMPLETE: { value: 'nas_generation_complete' },
  NAS_COMPLETED: { value: 'nas_completed' },
  NAS_BEST_ARCHITECTURE: { value: 'nas_best_architecture' },
  ARCHITECTURE_WEIGHTS_UPDATED: { value: 'architecture_weights_updated' },
  EXPLORATION_BOOST: {
    value: 'exploration_boost',
    payload: {
      config_key: f.configKey,
      boost_factor: f.num,
      reason: f.str,
      anomaly_count: f.int.optional(),
    },
  },
  EXPLORATION_ADJUSTED: { value: 'exploration_adjusted' },
  OPPONENT_MASTERED: { value: 'opponent_mastered' },
  AGGRESSIVE_CURRICULUM_REQUESTED: {
    value: 'aggressive_curriculum_requested',
    added:
      "the original's alias table normalised names to it, but its DataEventType had no such member",
  },
});
