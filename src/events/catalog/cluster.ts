/**
 * Cluster, hosts, P2P and leadership events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const clusterEvents = defineDomain('cluster', {
  VOTER_HEALING_REQUESTED: { value: 'voter_healing_requested' },
  P2P_CLUSTER_HEALTHY: {
    value: 'p2p_cluster_healthy',
    payload: {
      healthy_nodes: f.int,
      node_count: f.int,
      healthy: f.bool.optional(),
    },
  },
  P2P_CLUSTER_UNHEALTHY: {
    value: 'p2p_cluster_unhealthy',
    payload: {
      healthy_nodes: f.int,
      node_count: f.int,
      alerts: f.strList.nullable().optional(),
      healthy: f.bool.optional(),
    },
  },
  CLUSTER_HEALTH_CHANGED: { value: 'cluster_health_changed' },
  P2P_NODE_DEAD: { value: 'p2p_node_dead' },
  P2P_NODES_DEAD: { value: 'p2p_nodes_dead' },
  P2P_SELFPLAY_SCALED: { value: 'p2p_selfplay_scaled' },
  P2P_RESTART_TRIGGERED: { value: 'p2p_restart_triggered' },
  P2P_RESTARTED: {
    value: 'p2p_restarted',
    payload: {
      trigger: f.str.optional(),
      restart_count: f.int.optional(),
      previous_state: f.str.optional(),
    },
  },
  P2P_HEALTH_RECOVERED: { value: 'p2p_health_recovered' },
  NETWORK_ISOLATION_DETECTED: { value: 'network_isolation_detected' },
  QUORUM_PRIORITY_RECONNECT: { value: 'quorum_priority_reconnect' },
  CLUSTER_P2P_RECOVERY_COMPLETED: { value: 'cluster_p2p_recovery_completed' },
  VOTER_OFFLINE: { value: 'voter_offline' },
  VOTER_ONLINE: { value: 'voter_online' },
  VOTER_DEMOTED: { value: 'voter_demoted' },
  VOTER_PROMOTED: { value: 'voter_promoted' },
  VOTER_FLAPPING: { value: 'voter_flapping' },
  QUORUM_LOST: { value: 'quorum_lost' },
  QUORUM_RESTORED: { value: 'quorum_restored' },
  QUORUM_AT_RISK: { value: 'quorum_at_risk' },
  QUORUM_RECOVERY_STARTED: { value: 'quorum_recovery_started' },
  QUORUM_VALIDATION_FAILED: { value: 'quorum_validation_failed' },
  PEER_DISCOVERY_EMERGENCY: { value: 'peer_discovery_emergency' },
  PARTITION_HEALING_STARTED: { value: 'partition_healing_started' },
  PARTITION_HEALED: { value: 'partition_healed' },
  PARTITION_HEALING_FAILED: { value: 'partition_healing_failed' },
  HEALING_CONVERGENCE_FAILED: { value: 'healing_convergence_failed' },
  P2P_RECOVERY_NEEDED: { value: 'p2p_recovery_needed' },
  P2P_ZOMBIE_DETECTED: { value: 'p2p_zombie_detected' },
  P2P_LOOP_STARTUP_FAILED: { value: 'p2p_loop_startup_failed' },
  P2P_LOOP_PERFORMANCE_DEGRADED: { value: 'p2p_loop_performance_degraded' },
  P2P_LOOP_TIMEOUT: { value: 'p2p_loop_timeout' },
  GOSSIP_STATE_CLEANUP_COMPLETED: { value: 'gossip_state_cleanup_completed' },
  BACKUP_CANDIDATES_PROBED: { value: 'backup_candidates_probed' },
  HOST_ONLINE: {
    value: 'host_online',
    crossProcess: true,
    payload: {
      host: f.str,
      capabilities: f.strList.nullable().optional(),
      // Not in the original: what the presence bucket says about the host (the cluster member of
      // every host derives HOST_ONLINE from it, so the event itself never crosses hosts).
      incarnation: f.str.optional(),
      profile: f.str.optional(),
      daemons: f.strList.optional(),
      gpus: f.int.optional(),
      free_slots: f.int.optional(),
    },
  },
  HOST_OFFLINE: {
    value: 'host_offline',
    crossProcess: true,
    payload: {
      host: f.str,
      reason: f.str.optional(),
      last_seen: f.num.nullable().optional(),
      incarnation: f.str.optional(),
    },
  },
  PRIVATE_IP_ADVERTISED: { value: 'private_ip_advertised' },
  P2P_CONNECTION_RESET_REQUESTED: { value: 'p2p_connection_reset_requested' },
  TAILSCALE_CLI_ERROR: { value: 'tailscale_cli_error' },
  TAILSCALE_CLI_RECOVERED: { value: 'tailscale_cli_recovered' },
  GPU_CAPABILITY_MISMATCH: { value: 'gpu_capability_mismatch' },
  PYTORCH_CUDA_MISMATCH: { value: 'pytorch_cuda_mismatch' },
  NODE_OVERLOADED: {
    value: 'node_overloaded',
    payload: {
      host: f.str,
      cpu_percent: f.num,
      gpu_percent: f.num.optional(),
      memory_percent: f.num.optional(),
      resource_type: f.str.optional(),
    },
  },
  CLUSTER_STATUS_CHANGED: { value: 'cluster_status_changed' },
  CLUSTER_VISIBILITY_DEGRADED: { value: 'cluster_visibility_degraded' },
  CLUSTER_STALL_DETECTED: { value: 'cluster_stall_detected' },
  NODE_UNHEALTHY: {
    value: 'node_unhealthy',
    payload: {
      node_id: f.str,
      reason: f.str,
      node_ip: f.str.optional(),
      gpu_utilization: f.num.nullable().optional(),
      disk_used_percent: f.num.nullable().optional(),
      consecutive_failures: f.int.optional(),
    },
  },
  NODE_RECOVERED: {
    value: 'node_recovered',
    crossProcessAdded:
      "the host's cluster member derives it from the presence bucket; the host's other processes learn it through the file",
    payload: {
      node_id: f.str,
      node_ip: f.str.optional(),
      recovery_time_seconds: f.num.optional(),
      // Not in the original: the incarnations of the host before and after (presence).
      incarnation: f.str.optional(),
      previous_incarnation: f.str.optional(),
    },
  },
  NODE_SUSPECT: {
    value: 'node_suspect',
    payload: {
      node_id: f.str,
      node_ip: f.str.optional(),
      last_seen: f.num.nullable().optional(),
      seconds_since_heartbeat: f.num.optional(),
    },
  },
  NODE_RETIRED: {
    value: 'node_retired',
    payload: {
      node_id: f.str,
      node_ip: f.str.optional(),
      reason: f.str.optional(),
      last_seen: f.num.nullable().optional(),
      total_uptime_seconds: f.num.optional(),
    },
  },
  NODE_ACTIVATED: { value: 'node_activated' },
  NODE_TERMINATED: { value: 'node_terminated' },
  NODE_INCOMPATIBLE_WITH_WORKLOAD: {
    value: 'node_incompatible_with_workload',
    payload: {
      node_id: f.str,
      node_ip: f.str.optional(),
      gpu_vram_gb: f.num.optional(),
      has_gpu: f.bool.optional(),
      reason: f.str.optional(),
      compatible_configs: f.strList.nullable().optional(),
    },
  },
  SSH_LIVENESS_CHECK_STARTED: { value: 'ssh_liveness_check_started' },
  SSH_LIVENESS_CHECK_SUCCEEDED: { value: 'ssh_liveness_check_succeeded' },
  SSH_LIVENESS_CHECK_FAILED: { value: 'ssh_liveness_check_failed' },
  SSH_NODE_UNRESPONSIVE: { value: 'ssh_node_unresponsive' },
  SSH_NODE_RECOVERED: { value: 'ssh_node_recovered' },
  CLUSTER_CAPACITY_CHANGED: {
    value: 'cluster_capacity_changed',
    payload: {
      total_gpus: f.int,
      available_gpus: f.int,
      total_nodes: f.int,
      healthy_nodes: f.int,
    },
  },
  NODE_CAPACITY_UPDATED: {
    value: 'node_capacity_updated',
    payload: {
      node_id: f.str,
      gpu_memory_gb: f.num.optional(),
      gpu_utilization: f.num.optional(),
      cpu_utilization: f.num.optional(),
      available_slots: f.int.optional(),
      reason: f.str.optional(),
      queue_depth: f.int.optional(),
    },
  },
  IDLE_RESOURCE_DETECTED: {
    value: 'idle_resource_detected',
    payload: {
      node_id: f.str,
      host: f.str,
      gpu_utilization: f.num,
      gpu_memory_gb: f.num,
      idle_duration_seconds: f.num,
      recommended_config: f.str.optional(),
      // Not in the original: why the GPU counts as idle (IDLE_RESOURCE infers it from the host's
      // work, 'no_gpu_work', having no GPU probe).
      reason: f.str.optional(),
    },
  },
  CLUSTER_UNDERUTILIZED: { value: 'cluster_underutilized' },
  CLUSTER_UTILIZATION_RECOVERED: { value: 'cluster_utilization_recovered' },
  CAPACITY_LOW: {
    value: 'capacity_low',
    payload: {
      current_gpus: f.int,
      min_gpus: f.int,
      provider: f.str.optional(),
    },
  },
  CAPACITY_RESTORED: {
    value: 'capacity_restored',
    payload: {
      current_gpus: f.int,
      min_gpus: f.int,
    },
  },
  NODE_PROVISIONED: {
    value: 'node_provisioned',
    payload: {
      node_id: f.str,
      provider: f.str,
      gpu_type: f.str,
      ip_address: f.str.optional(),
    },
  },
  NODE_PROVISION_FAILED: {
    value: 'node_provision_failed',
    payload: {
      provider: f.str,
      gpu_type: f.str,
      error: f.str,
    },
  },
  BUDGET_EXCEEDED: {
    value: 'budget_exceeded',
    payload: {
      budget_type: f.str,
      limit_usd: f.num,
      current_usd: f.num,
    },
  },
  BUDGET_ALERT: {
    value: 'budget_alert',
    payload: {
      budget_type: f.str,
      limit_usd: f.num,
      current_usd: f.num,
      threshold_percent: f.num.optional(),
    },
  },
  LEADER_ELECTED: {
    value: 'leader_elected',
    crossProcessAdded:
      "the host's cluster member derives it from the leader bucket; the host's other processes learn it through the file",
    payload: {
      leader_id: f.str,
      // The lease's KV revision: the fencing token leader-scoped events carry (leader_token).
      term: f.int.optional(),
      runtime_id: f.str.optional(),
    },
  },
  LEADER_LOST: {
    value: 'leader_lost',
    payload: {
      old_leader_id: f.str,
      reason: f.str.optional(),
    },
  },
  LEADER_STEPDOWN: { value: 'leader_stepdown' },
  SPLIT_BRAIN_DETECTED: { value: 'split_brain_detected' },
  SPLIT_BRAIN_RESOLVED: { value: 'split_brain_resolved' },
  LEADER_HEARTBEAT_MISSING: {
    value: 'leader_heartbeat_missing',
    payload: {
      leader_id: f.str,
      last_heartbeat: f.num,
      expected_interval: f.num,
      delay_seconds: f.num,
    },
  },
  LEADER_LEASE_EXPIRED: {
    value: 'leader_lease_expired',
    payload: {
      leader_id: f.str,
      lease_expiry_time: f.num,
      current_time: f.num,
      grace_seconds: f.num.optional(),
      expired_by_seconds: f.num.optional(),
    },
  },
  IDLE_STATE_BROADCAST: { value: 'idle_state_broadcast' },
  IDLE_STATE_REQUEST: { value: 'idle_state_request' },
});
