/**
 * Health, resources, recovery and backpressure events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const healthEvents = defineDomain('health', {
  REMOTE_P2P_RECOVERY_SUCCESS: { value: 'remote_p2p_recovery_success' },
  REMOTE_P2P_RECOVERY_FAILED: { value: 'remote_p2p_recovery_failed' },
  PROGRESS_STALL_DETECTED: { value: 'progress_stall_detected' },
  PROGRESS_RECOVERED: { value: 'progress_recovered' },
  HEALTH_CHECK_PASSED: {
    value: 'health_check_passed',
    payload: {
      node_id: f.str,
      node_ip: f.str.optional(),
      check_type: f.str.optional(),
      latency_ms: f.num.nullable().optional(),
    },
  },
  HEALTH_CHECK_FAILED: {
    value: 'health_check_failed',
    payload: {
      node_id: f.str,
      reason: f.str,
      node_ip: f.str.optional(),
      check_type: f.str.optional(),
      error: f.str.optional(),
    },
  },
  HEALTH_ALERT: {
    value: 'health_alert',
    // No typed emitter in the original; DAEMON_WATCHDOG's alarm about one component.
    payload: {
      component: f.str,
      severity: f.str,
      message: f.str,
      host: f.str.optional(),
      restarts: f.int.optional(),
      window_seconds: f.num.optional(),
    },
  },
  RESOURCE_CONSTRAINT: { value: 'resource_constraint' },
  MEMORY_PRESSURE: { value: 'memory_pressure' },
  MEMORY_PRESSURE_CAUTION: { value: 'memory_pressure_caution' },
  MEMORY_PRESSURE_WARNING: { value: 'memory_pressure_warning' },
  MEMORY_PRESSURE_CRITICAL: { value: 'memory_pressure_critical' },
  MEMORY_PRESSURE_EMERGENCY: { value: 'memory_pressure_emergency' },
  MEMORY_PRESSURE_RECOVERED: { value: 'memory_pressure_recovered' },
  SOCKET_LEAK_DETECTED: { value: 'socket_leak_detected' },
  SOCKET_LEAK_RECOVERED: { value: 'socket_leak_recovered' },
  // Canonical keys from the original's emitters (component, message, failure_count, strategy);
  // config_key and attempt added: PIPELINE_RECOVERY retries one config's failed work.
  RECOVERY_INITIATED: {
    value: 'recovery_initiated',
    payload: {
      component: f.str,
      message: f.str,
      strategy: f.str.optional(),
      config_key: f.configKey.optional(),
      attempt_number: f.int.optional(),
      failure_count: f.int.optional(),
      delay_seconds: f.num.optional(),
      node_id: f.str.optional(),
    },
  },
  RECOVERY_COMPLETED: {
    value: 'recovery_completed',
    payload: {
      component: f.str,
      message: f.str,
      success: f.bool,
      config_key: f.configKey.optional(),
      failure_count: f.int.optional(),
      node_id: f.str.optional(),
    },
  },
  RECOVERY_FAILED: {
    value: 'recovery_failed',
    payload: {
      component: f.str,
      message: f.str,
      error: f.str,
      config_key: f.configKey.optional(),
      failure_count: f.int.optional(),
      node_id: f.str.optional(),
    },
  },
  UTILIZATION_RECOVERY_STARTED: { value: 'utilization_recovery_started' },
  UTILIZATION_RECOVERY_COMPLETED: { value: 'utilization_recovery_completed' },
  UTILIZATION_RECOVERY_FAILED: { value: 'utilization_recovery_failed' },
  FAST_FAILURE_ALERT: { value: 'fast_failure_alert' },
  FAST_FAILURE_RECOVERY: { value: 'fast_failure_recovery' },
  FAST_FAILURE_RECOVERED: { value: 'fast_failure_recovered' },
  RESILIENCE_ESCALATION: { value: 'resilience_escalation' },
  CIRCUIT_BREAKER_OPENED: {
    value: 'circuit_breaker_opened',
    payload: {
      breaker: f.str,
      failures: f.int,
      reason: f.str,
      config_key: f.configKey.optional(),
    },
  },
  CIRCUIT_BREAKER_CLOSED: {
    value: 'circuit_breaker_closed',
    payload: {
      breaker: f.str,
      reason: f.str,
      config_key: f.configKey.optional(),
    },
  },
  CIRCUIT_BREAKER_HALF_OPEN: { value: 'circuit_breaker_half_open' },
  CIRCUIT_BREAKER_THRESHOLD: { value: 'circuit_breaker_threshold' },
  ESCALATION_TIER_CHANGED: { value: 'escalation_tier_changed' },
  CIRCUIT_RESET: { value: 'circuit_reset' },
  LOCK_TIMEOUT: { value: 'lock_timeout' },
  DEADLOCK_DETECTED: {
    value: 'deadlock_detected',
    payload: {
      resources: f.strList,
      holders: f.strList,
    },
  },
  BACKPRESSURE_ACTIVATED: {
    value: 'backpressure_activated',
    payload: {
      reason: f.str,
      queue_depth: f.int.optional(),
      utilization_percent: f.num.optional(),
    },
  },
  BACKPRESSURE_RELEASED: {
    value: 'backpressure_released',
    payload: {
      reason: f.str,
      duration_seconds: f.num.optional(),
    },
  },
  RESOURCE_CONSTRAINT_DETECTED: { value: 'resource_constraint_detected' },
  DISK_SPACE_LOW: {
    value: 'disk_space_low',
    payload: {
      host: f.str,
      usage_percent: f.num,
      free_gb: f.num,
      threshold: f.num.optional(),
    },
  },
  DISK_CLEANUP_TRIGGERED: { value: 'disk_cleanup_triggered' },
  STALL_RECOVERY_ESCALATED: {
    value: 'stall_recovery_escalated',
    added:
      "the original's alias table normalised names to it, but its DataEventType had no such member",
  },
});
