/**
 * Work queue, jobs and tasks events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const workEvents = defineDomain('work', {
  WORK_QUEUED: { value: 'work_queued' },
  WORK_CLAIMED: { value: 'work_claimed' },
  WORK_STARTED: { value: 'work_started' },
  WORK_COMPLETED: { value: 'work_completed' },
  WORK_FAILED: { value: 'work_failed' },
  WORK_RETRY: { value: 'work_retry' },
  WORK_TIMEOUT: { value: 'work_timeout' },
  WORK_CANCELLED: { value: 'work_cancelled' },
  JOB_PREEMPTED: { value: 'job_preempted' },
  WORK_QUEUE_STALLED: { value: 'work_queue_stalled' },
  WORK_QUEUE_RECOVERED: { value: 'work_queue_recovered' },
  WORK_QUEUE_EXHAUSTED: { value: 'work_queue_exhausted' },
  WORK_SUBMITTED: { value: 'work_submitted' },
  WORK_QUEUE_BACKPRESSURE: { value: 'work_queue_backpressure' },
  WORK_QUEUE_BACKPRESSURE_RELEASED: { value: 'work_queue_backpressure_released' },
  AUTONOMOUS_QUEUE_ACTIVATED: { value: 'autonomous_queue_activated' },
  AUTONOMOUS_QUEUE_DEACTIVATED: { value: 'autonomous_queue_deactivated' },
  CPU_PIPELINE_JOB_COMPLETED: { value: 'cpu_pipeline_job_completed' },
  TASK_SPAWNED: {
    value: 'task_spawned',
    payload: {
      task_id: f.str,
      task_type: f.str,
      node_id: f.str,
      config_key: f.configKey.optional(),
      priority: f.int.optional(),
    },
  },
  TASK_HEARTBEAT: {
    value: 'task_heartbeat',
    payload: {
      task_id: f.str,
      node_id: f.str,
      progress: f.num.optional(),
      status: f.str.optional(),
    },
  },
  TASK_COMPLETED: {
    value: 'task_completed',
    payload: {
      task_id: f.str,
      task_type: f.str,
      node_id: f.str,
      duration_seconds: f.num.optional(),
      result: f.record.nullable().optional(),
    },
  },
  TASK_FAILED: {
    value: 'task_failed',
    payload: {
      task_id: f.str,
      task_type: f.str,
      node_id: f.str,
      error: f.str,
      duration_seconds: f.num.optional(),
    },
  },
  TASK_ORPHANED: {
    value: 'task_orphaned',
    payload: {
      task_id: f.str,
      task_type: f.str,
      node_id: f.str,
      last_heartbeat_seconds_ago: f.num.optional(),
    },
  },
  TASK_CANCELLED: { value: 'task_cancelled' },
  JOB_SPAWN_VERIFIED: {
    value: 'job_spawn_verified',
    payload: {
      job_id: f.str,
      node_id: f.str,
      config_key: f.configKey,
      verification_time_seconds: f.num,
    },
  },
  JOB_SPAWN_FAILED: {
    value: 'job_spawn_failed',
    payload: {
      job_id: f.str,
      node_id: f.str,
      config_key: f.configKey,
      timeout_seconds: f.num,
      reason: f.str.optional(),
    },
  },
  TASK_ABANDONED: {
    value: 'task_abandoned',
    payload: {
      work_id: f.str,
      reason: f.str,
      component: f.str.optional(),
      node_id: f.str.optional(),
      // Not all in the original's emitters (its readers look for them): what was abandoned.
      task_type: f.str.optional(),
      config_key: f.configKey.optional(),
      games: f.int.nonnegative().optional(),
    },
  },
});
