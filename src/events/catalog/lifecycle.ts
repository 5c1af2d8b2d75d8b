/**
 * Daemon lifecycle and coordinator health events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const lifecycleEvents = defineDomain('lifecycle', {
  SCHEDULER_REGISTERED: { value: 'scheduler_registered' },
  EVENT_LOOP_BLOCKED: { value: 'event_loop_blocked' },
  DAEMON_STARTED: {
    value: 'daemon_started',
    crossProcess: true,
    payload: {
      daemon_name: f.str,
      hostname: f.str,
      pid: f.int,
    },
  },
  DAEMON_STOPPED: {
    value: 'daemon_stopped',
    crossProcess: true,
    payload: {
      daemon_name: f.str,
      hostname: f.str,
      reason: f.str.optional(),
    },
  },
  DAEMON_STATUS_CHANGED: {
    value: 'daemon_status_changed',
    crossProcess: true,
    payload: {
      daemon_name: f.str,
      hostname: f.str,
      old_status: f.str,
      new_status: f.str,
      reason: f.str.optional(),
      error: f.str.nullable().optional(),
    },
  },
  DAEMON_PERMANENTLY_FAILED: {
    value: 'daemon_permanently_failed',
    crossProcess: true,
    payload: {
      daemon_name: f.str,
      hostname: f.str,
      restart_count: f.int,
      requires_intervention: f.bool.optional(),
    },
  },
  DAEMON_CRASH_LOOP_DETECTED: {
    value: 'daemon_crash_loop_detected',
    crossProcess: true,
    payload: {
      daemon_name: f.str,
      hostname: f.str,
      restart_count: f.int,
      window_minutes: f.int,
      max_restarts: f.int,
      severity: f.str.optional(),
      message: f.str.optional(),
    },
  },
  DAEMON_FAILURE_CLASSIFIED: { value: 'daemon_failure_classified' },
  DAEMON_FAILURE_ESCALATED: { value: 'daemon_failure_escalated' },
  DAEMON_FAILURE_RECOVERED: { value: 'daemon_failure_recovered' },
  ERROR: {
    value: 'error',
    payload: {
      component: f.str,
      error: f.str,
      details: f.record.nullable().optional(),
    },
  },
  CONFIG_UPDATED: { value: 'config_updated' },
  CONFIG_DIVERGENCE_DETECTED: { value: 'config_divergence_detected' },
  STATE_PERSISTED: { value: 'state_persisted' },
  EPOCH_ADVANCED: { value: 'epoch_advanced' },
  COORDINATOR_HEALTHY: { value: 'coordinator_healthy' },
  COORDINATOR_UNHEALTHY: { value: 'coordinator_unhealthy' },
  COORDINATOR_HEALTH_DEGRADED: { value: 'coordinator_health_degraded' },
  COORDINATOR_FAILOVER: { value: 'coordinator_failover' },
  COORDINATOR_HANDOFF: { value: 'coordinator_handoff' },
  COORDINATOR_EMERGENCY_SHUTDOWN: { value: 'coordinator_emergency_shutdown' },
  COORDINATOR_SHUTDOWN: { value: 'coordinator_shutdown' },
  COORDINATOR_INIT_FAILED: { value: 'coordinator_init_failed' },
  HANDLER_TIMEOUT: { value: 'handler_timeout' },
  HANDLER_FAILED: { value: 'handler_failed' },
  COORDINATOR_HEARTBEAT: { value: 'coordinator_heartbeat' },
  ALL_CRITICAL_DAEMONS_READY: {
    value: 'all_critical_daemons_ready',
    crossProcess: true,
    added:
      'emitted by the supervisor once every critical daemon of the profile is ready (the original declared it in its guide but never emitted it)',
    payload: {
      profile: f.str,
      daemons: f.strList,
      hostname: f.str,
      startup_ms: f.num,
    },
  },
  ITERATION_COMPLETE: {
    value: 'iteration_complete',
    added:
      'the data event behind the ITERATION_COMPLETE stage event, which had none in the original',
    payload: {
      config_key: f.configKey.optional(),
      iteration: f.int,
      success: f.bool.optional(),
    },
  },
});
