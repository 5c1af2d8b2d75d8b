/**
 * Models, promotion, regression and distribution events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { z } from 'zod';
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const modelEvents = defineDomain('model', {
  PROMOTION_CANDIDATE: {
    value: 'promotion_candidate',
    payload: {
      model_id: f.str,
      board_type: f.str,
      num_players: f.int,
      win_rate_vs_heuristic: f.num,
      config_key: f.configKey,
    },
  },
  PROMOTION_STARTED: {
    value: 'promotion_started',
    payload: {
      config_key: f.configKey,
      model_id: f.str,
    },
  },
  MODEL_PROMOTED: {
    value: 'model_promoted',
    crossProcess: true,
    payload: {
      model_id: f.str,
      config_key: f.configKey,
      elo: f.num,
      elo_gain: f.num,
      // Not written by the original emitter; the distribution daemon needs the file to copy.
      model_path: f.str.optional(),
    },
  },
  PROMOTION_FAILED: {
    value: 'promotion_failed',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      model_id: f.str,
      error: f.str,
    },
  },
  PROMOTION_REJECTED: {
    value: 'promotion_rejected',
    payload: {
      config_key: f.configKey,
      model_id: f.str,
      reason: f.str,
      elo_improvement: f.num.optional(),
    },
  },
  MODEL_UPDATED: {
    value: 'model_updated',
    // No emitter in the original (its registry emitted nothing); the MODEL_REGISTRY's record of a
    // version: where it is, what it came from and its stage.
    payload: {
      config_key: f.configKey,
      model_id: f.str,
      model_path: f.str,
      stage: z.enum(['candidate', 'production', 'archived', 'rolled_back']),
      version: f.str.optional(),
      parent_model_id: f.str.nullable().optional(),
      /** Why the stage changed: `trained`, `promoted`, `superseded`, `rollback`, `restored`. */
      reason: f.str.optional(),
      metadata: f.record.optional(),
    },
  },
  PROMOTION_CONSENSUS_APPROVED: { value: 'promotion_consensus_approved' },
  TIER_PROMOTION: {
    value: 'tier_promotion',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      old_tier: f.str,
      new_tier: f.str,
      model_id: f.str.optional(),
      win_rate: f.num.optional(),
      elo: f.num.optional(),
      games_played: f.int.optional(),
    },
  },
  CROSSBOARD_PROMOTION: { value: 'crossboard_promotion' },
  REGISTRY_UPDATED: { value: 'registry_updated' },
  REGRESSION_DETECTED: {
    value: 'regression_detected',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      model_id: f.str.optional(),
      severity: f.str,
      elo_drop: f.num.optional(),
      current_elo: f.num.optional(),
      baseline_elo: f.num.optional(),
      reason: f.str.optional(),
      // Not in the original: the model it did worse than, and by how much (gauntlet win rates).
      previous_model_id: f.str.optional(),
      win_rate: f.num.optional(),
      previous_win_rate: f.num.optional(),
    },
  },
  REGRESSION_MINOR: { value: 'regression_minor' },
  REGRESSION_MODERATE: { value: 'regression_moderate' },
  REGRESSION_SEVERE: { value: 'regression_severe', crossProcess: true },
  REGRESSION_CRITICAL: {
    value: 'regression_critical',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      model_id: f.str.optional(),
      elo_drop: f.num.optional(),
      current_elo: f.num.optional(),
      baseline_elo: f.num.optional(),
      reason: f.str.optional(),
    },
  },
  REGRESSION_CLEARED: {
    value: 'regression_cleared',
    crossProcess: true,
    payload: { config_key: f.configKey, model_id: f.str.optional() },
  },
  MODEL_IMPORTED: { value: 'model_imported' },
  P2P_MODEL_SYNCED: { value: 'p2p_model_synced', crossProcess: true },
  MODEL_SYNC_REQUESTED: { value: 'model_sync_requested' },
  MODEL_DISTRIBUTION_STARTED: {
    value: 'model_distribution_started',
    payload: {
      total_models: f.int,
      target_hosts: f.int,
    },
  },
  MODEL_DISTRIBUTION_COMPLETE: {
    value: 'model_distribution_complete',
    crossProcessAdded:
      "the per-host report of a distribution: the host's other processes (a training node, an operator's `events tail`) learn which hosts have the new model",
    payload: {
      models_collected: f.int,
      models_distributed: f.int,
      target_hosts: f.int,
      duration: f.num,
      // Not in the original: the hosts the model reached (per-host report).
      hosts: f.strList.optional(),
      // Not in the original: which model, so that a rollback's wait for its restored model ends.
      config_key: f.configKey.optional(),
      model_id: f.str.optional(),
    },
  },
  MODEL_DISTRIBUTION_FAILED: {
    value: 'model_distribution_failed',
    payload: {
      error: f.str,
      partial_models: f.int.optional(),
      config_key: f.configKey.optional(),
      model_id: f.str.optional(),
    },
  },
  MODEL_NOT_FOUND: { value: 'model_not_found' },
  DISTRIBUTION_INCOMPLETE: { value: 'distribution_incomplete' },
  PROMOTION_ROLLED_BACK: {
    value: 'promotion_rolled_back',
    payload: {
      config_key: f.configKey,
      /** The model that regressed and is withdrawn. */
      model_id: f.str,
      restored_model_id: f.str,
      restored_model_path: f.str,
      reason: f.str,
    },
  },
  MODEL_CORRUPTED: { value: 'model_corrupted' },
  CLUSTER_MODEL_INVENTORY_UPDATED: { value: 'cluster_model_inventory_updated' },
});
