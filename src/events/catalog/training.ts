/**
 * Training events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const trainingEvents = defineDomain('training', {
  TRAINING_THRESHOLD_REACHED: {
    value: 'training_threshold',
    crossProcess: true,
    crossHost:
      'the training request: in a cluster the leader assigns it to a training host (target_host) and that host trains it',
    payload: {
      config_key: f.configKey,
      games: f.int,
      // Not in the original: the config's training parameters as HYPERPARAMETER_UPDATED left them.
      hyperparameters: f.numRecord.optional(),
      // Not in the original (the cluster's work assignment): which host trains it, the job it
      // belongs to (a reassignment keeps it, so the idempotency key stays) and the leader's
      // fencing token.
      target_host: f.str.optional(),
      job_id: f.str.optional(),
      leader_token: f.int.optional(),
    },
  },
  TRAINING_THRESHOLD_PENDING: {
    value: 'training_threshold_pending',
    added:
      "TRAINING_TRIGGER's answer when new games leave a config below its threshold, so that whoever waits on the data (the MasterLoop) learns that no training follows yet",
    payload: {
      config_key: f.configKey,
      games: f.int,
      threshold: f.int,
    },
  },
  TRAINING_PAUSED: {
    value: 'training_paused',
    added:
      "the DaemonManager's answer to REGRESSION_CRITICAL (the guide's 'pause training'): TRAINING_TRIGGER requests no training for the config until TRAINING_RESUMED",
    payload: { config_key: f.configKey, reason: f.str, model_id: f.str.optional() },
  },
  TRAINING_RESUMED: {
    value: 'training_resumed',
    added: 'ends a TRAINING_PAUSED once the regressed model has been rolled back',
    payload: { config_key: f.configKey, reason: f.str },
  },
  TRAINING_STARTED: {
    value: 'training_started',
    crossProcess: true,
    crossHost: 'the training host tells the leader (MasterLoop, work tracker) that its job began',
    payload: {
      config_key: f.configKey,
      model_path: f.str.nullable().optional(),
      // Not in the original: the host that trained and the job it answers (cluster work).
      host: f.str.optional(),
      job_id: f.str.optional(),
    },
  },
  TRAINING_PROGRESS: { value: 'training_progress' },
  TRAINING_COMPLETED: {
    value: 'training_completed',
    crossProcess: true,
    crossHost:
      "the training host's answer: FEEDBACK_LOOP, DATA_PIPELINE and the MasterLoop run with the coordinator",
    payload: {
      config_key: f.configKey,
      success: f.bool,
      duration: f.num,
      model_path: f.str.nullable().optional(),
      // Not in the original: the host that trained and the job it answers (cluster work).
      host: f.str.optional(),
      job_id: f.str.optional(),
    },
  },
  TRAINING_FAILED: {
    value: 'training_failed',
    crossProcess: true,
    crossHost:
      "the training host's answer when training failed for good: the MasterLoop ends the chain",
    payload: {
      config_key: f.configKey,
      error: f.str,
      duration: f.num.optional(),
      // Not in the original: the host that trained and the job it answers (cluster work).
      host: f.str.optional(),
      job_id: f.str.optional(),
    },
  },
  TRAINING_LOCK_ACQUIRED: { value: 'training_lock_acquired' },
  TRAINING_LOCK_TIMEOUT: { value: 'training_lock_timeout' },
  TRAINING_PROCESS_KILLED: { value: 'training_process_killed' },
  TRAINING_HEARTBEAT: { value: 'training_heartbeat' },
  TRAINING_SLOT_UNAVAILABLE: { value: 'training_slot_unavailable' },
  TRAINING_TIMEOUT_REACHED: { value: 'training_timeout_reached' },
  TRAINING_DATA_RECOVERED: { value: 'training_data_recovered' },
  TRAINING_DATA_RECOVERY_FAILED: { value: 'training_data_recovery_failed' },
  TRAINING_REQUESTED: { value: 'training_requested' },
  CASCADE_TRANSFER_TRIGGERED: { value: 'cascade_transfer_triggered' },
  CASCADE_TRANSFER_FAILED: { value: 'cascade_transfer_failed' },
  REANALYSIS_STARTED: { value: 'reanalysis_started' },
  REANALYSIS_COMPLETED: { value: 'reanalysis_completed' },
  REANALYSIS_FAILED: { value: 'reanalysis_failed' },
  PER_BUFFER_REBUILT: { value: 'per_buffer_rebuilt' },
  PER_PRIORITIES_UPDATED: { value: 'per_priorities_updated' },
  TRAINING_LOSS_ANOMALY: {
    value: 'training_loss_anomaly',
    payload: {
      config_key: f.configKey,
      current_loss: f.num,
      avg_loss: f.num,
      epoch: f.int,
      anomaly_ratio: f.num.optional(),
    },
  },
  TRAINING_LOSS_TREND: {
    value: 'training_loss_trend',
    payload: {
      config_key: f.configKey,
      trend: f.str,
      epoch: f.int,
      current_loss: f.num,
      previous_loss: f.num,
      improvement_rate: f.num.optional(),
    },
  },
  CHECKPOINT_SAVED: {
    value: 'checkpoint_saved',
    payload: {
      config_key: f.configKey,
      model_path: f.str,
      epoch: f.int.optional(),
      step: f.int.optional(),
      metrics: f.numRecord.nullable().optional(),
    },
  },
  CHECKPOINT_LOADED: {
    value: 'checkpoint_loaded',
    payload: {
      config_key: f.configKey,
      model_path: f.str,
      epoch: f.int.optional(),
      step: f.int.optional(),
    },
  },
  TRAINING_ROLLBACK_NEEDED: { value: 'training_rollback_needed' },
  TRAINING_ROLLBACK_COMPLETED: { value: 'training_rollback_completed' },
  TRAINING_EARLY_STOPPED: {
    crossProcessAdded:
      'the guide has train.py (on the training node) emit it for the FeedbackLoop, which runs with the coordinator when the pipeline is split',
    crossHost: 'from the training host to the FEEDBACK_LOOP, which runs with the coordinator',
    value: 'training_early_stopped',
    payload: {
      config_key: f.configKey,
      epoch: f.int,
      best_loss: f.num,
      final_loss: f.num,
      // Not in the original: the host that trained and the job it answers (cluster work).
      host: f.str.optional(),
      job_id: f.str.optional(),
      best_elo: f.num.nullable().optional(),
      reason: f.str.optional(),
      epochs_without_improvement: f.int.optional(),
    },
  },
});
