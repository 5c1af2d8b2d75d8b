/**
 * Data sync, export and storage events.
 *
 * Wire values, cross-process flags and payload fields come from the original service
 * (`reference/original/`); payload fields of events with a typed emitter there follow that
 * emitter's arguments, with `config` renamed `config_key` and `checkpoint_path` renamed `model_path`.
 */
import { z } from 'zod';
import { defineDomain } from '../define-event.js';
import { fields as f } from '../fields.js';

export const dataEvents = defineDomain('data', {
  NEW_GAMES_AVAILABLE: {
    value: 'new_games',
    payload: {
      host: f.str,
      new_games: f.int,
      total_games: f.int,
      config_key: f.configKey.optional(),
    },
  },
  DATA_SYNC_STARTED: {
    value: 'sync_started',
    payload: {
      host: f.str,
      sync_type: f.str.optional(),
    },
  },
  DATA_SYNC_COMPLETED: {
    value: 'sync_completed',
    crossProcess: true,
    payload: {
      host: f.str,
      games_synced: f.int,
      duration: f.num,
      bytes_transferred: f.int.optional(),
      avg_quality_score: f.num.optional(),
      high_quality_count: f.int.optional(),
      config_key: f.configKey.optional(),
      // Not in the original: the hosts the games went to.
      target_hosts: f.strList.optional(),
      // Not in the original: games the targets do not hold after the sync (a copy that failed
      // its check), which REPLICATION_REPAIR copies again.
      games_missing: f.int.nonnegative().optional(),
      // Not in the original: `catch_up` is the SyncPlanner's copy of games already synced and
      // exported to a host that was away (DATA_PIPELINE does not export them again).
      sync_type: z.enum(['incremental', 'catch_up']).optional(),
    },
  },
  DATA_SYNC_FAILED: {
    value: 'sync_failed',
    crossProcess: true,
    payload: {
      host: f.str,
      error: f.str,
      retry_count: f.int.optional(),
      // Not in the original: what failed to sync, so that it can be retried.
      config_key: f.configKey.optional(),
      games: f.int.optional(),
    },
  },
  QUEUED_EVENTS_SYNCED: { value: 'queued_events_synced' },
  GAME_SYNCED: { value: 'game_synced', crossProcess: true },
  DATA_STALE: {
    value: 'data_stale',
    crossProcess: true,
    payload: {
      config_key: f.configKey,
      data_age_hours: f.num,
      last_sync_time: f.str,
      threshold_hours: f.num.optional(),
    },
  },
  DATA_FRESH: {
    value: 'data_fresh',
    payload: {
      config_key: f.configKey,
      data_age_hours: f.num,
      last_sync_time: f.str,
      threshold_hours: f.num.optional(),
    },
  },
  DATA_STARVATION_CRITICAL: { value: 'data_starvation_critical' },
  IDLE_NODE_WORK_INJECTED: { value: 'idle_node_work_injected' },
  SYNC_TRIGGERED: {
    value: 'sync_triggered',
    payload: {
      config_key: f.configKey,
      reason: f.str,
      source_host: f.str.optional(),
      target_hosts: f.strList.nullable().optional(),
      data_age_hours: f.num.optional(),
    },
  },
  SYNC_REQUEST: {
    value: 'sync_request',
    // No typed emitter in the original; a sync asked for by someone other than selfplay (a
    // recovery's retry, a repair, orphaned games), which AUTO_SYNC runs like one.
    payload: {
      config_key: f.configKey,
      games: f.int.nonnegative(),
      reason: f.str,
      priority: z.enum(['normal', 'high']).optional(),
      source_host: f.str.optional(),
    },
  },
  CONSOLIDATION_STARTED: { value: 'consolidation_started' },
  CONSOLIDATION_COMPLETE: { value: 'consolidation_complete' },
  NPZ_EXPORT_STARTED: {
    value: 'npz_export_started',
    // The original's member has no emitter; the DATA_PIPELINE says what it starts exporting.
    payload: { config_key: f.configKey, games: f.int },
  },
  NPZ_EXPORT_COMPLETE: {
    value: 'npz_export_complete',
    // The original emitter's keys (payload-keys.tsv); its readers also tried samples, npz_path
    // and sample_count, which no emitter wrote. config_key added: the export is per config.
    payload: {
      config_key: f.configKey,
      samples_exported: f.int,
      output_path: f.str,
      games_exported: f.int.optional(),
      duration_seconds: f.num.optional(),
    },
  },
  EXPORT_VALIDATION_FAILED: {
    value: 'export_validation_failed',
    payload: { config_key: f.configKey, reason: f.str, source: f.str.optional() },
  },
  NPZ_COMBINATION_STARTED: { value: 'npz_combination_started' },
  NPZ_COMBINATION_COMPLETE: { value: 'npz_combination_complete' },
  NPZ_COMBINATION_FAILED: { value: 'npz_combination_failed' },
  SYNC_STALLED: {
    value: 'sync_stalled',
    payload: {
      source_host: f.str,
      target_host: f.str,
      data_type: f.str,
      timeout_seconds: f.num,
      retry_count: f.int.optional(),
    },
  },
  SYNC_CHECKSUM_FAILED: { value: 'sync_checksum_failed' },
  SYNC_NODE_UNREACHABLE: { value: 'sync_node_unreachable' },
  SYNC_FAILURE_CRITICAL: { value: 'sync_failure_critical' },
  ORPHAN_GAMES_DETECTED: {
    value: 'orphan_games_detected',
    payload: {
      host: f.str,
      // Not in the original's emitter (its readers look for it): whose games they are.
      config_key: f.configKey,
      orphan_count: f.int,
      orphan_paths: f.strList,
      total_games: f.int.nonnegative(),
    },
  },
  ORPHAN_GAMES_REGISTERED: {
    value: 'orphan_games_registered',
    payload: {
      host: f.str,
      registered_count: f.int,
      registered_paths: f.strList,
      games_recovered: f.int.optional(),
    },
  },
  GAME_SAVE_FAILED: {
    value: 'game_save_failed',
    payload: {
      game_id: f.str,
      error: f.str,
      error_type: f.str,
      config_key: f.configKey,
      board_type: f.str.nullable().optional(),
      num_players: f.int.nullable().optional(),
      db_path: f.str.nullable().optional(),
    },
  },
  ORPHAN_GAME_PREVENTED: {
    value: 'orphan_game_prevented',
    payload: {
      game_id: f.str,
      move_count: f.int,
      min_required: f.int,
    },
  },
  REPAIR_COMPLETED: {
    value: 'repair_completed',
    // One shape for the original's per-game payloads (game_id, source/target nodes): a repair
    // here re-copies a sync's missing games of one config.
    payload: {
      config_key: f.configKey,
      host: f.str,
      games_repaired: f.int.nonnegative(),
      target_hosts: f.strList,
      duration_seconds: f.num.optional(),
    },
  },
  REPAIR_FAILED: {
    value: 'repair_failed',
    payload: {
      config_key: f.configKey,
      host: f.str,
      error: f.str,
      games: f.int.nonnegative(),
      target_hosts: f.strList.optional(),
    },
  },
  REPLICATION_ALERT: { value: 'replication_alert' },
  DATABASE_CREATED: { value: 'database_created' },
  SQLITE_BACKPRESSURE: { value: 'sqlite_backpressure' },
  SQLITE_CONNECTION_WARNING: { value: 'sqlite_connection_warning' },
  TRANSPORT_CORRUPTION_DETECTED: { value: 'transport_corruption_detected' },
  DATA_BACKUP_COMPLETED: { value: 'data_backup_completed' },
  S3_BACKUP_COMPLETED: { value: 's3_backup_completed' },
  DLQ_STALE_EVENTS: { value: 'dlq_stale_events' },
  DLQ_EVENTS_REPLAYED: { value: 'dlq_events_replayed' },
  DLQ_EVENTS_PURGED: { value: 'dlq_events_purged' },
});
