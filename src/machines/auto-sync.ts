/**
 * AUTO_SYNC (the original's P2POrchestrator sync): SELFPLAY_COMPLETE -> DATA_SYNC_STARTED ->
 * copy the new games to the training nodes -> DATA_SYNC_COMPLETED (with its config_key) or,
 * after retries, DATA_SYNC_FAILED.
 */
import { isConfigKey } from './emitted.js';
import { createJobDaemonMachine } from './job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
}

export function createAutoSyncMachine(sourceHost: string, trainingHosts: readonly string[]) {
  return createJobDaemonMachine<'sync', Request>({
    id: 'autoSync',
    triggers: ['SELFPLAY_COMPLETE'],
    toRequest: (_, p) =>
      isConfigKey(p.config_key) && Number.isInteger(p.games_played)
        ? { config_key: p.config_key, games: p.games_played as number }
        : { reject: 'SELFPLAY_COMPLETE without config_key and games_played: nothing to sync' },
    job: (r, attempt, causeId) => ({
      kind: 'sync',
      idempotencyKey: `sync:${r.config_key}:${causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        source_host: sourceHost,
        target_hosts: [...trainingHosts],
        games: r.games,
      },
    }),
    started: () => ({
      type: 'DATA_SYNC_STARTED',
      payload: { host: sourceHost, sync_type: 'incremental' },
    }),
    completed: (r, result) => [
      {
        type: 'DATA_SYNC_COMPLETED',
        payload: {
          host: sourceHost,
          games_synced: result.games_synced,
          duration: result.duration,
          bytes_transferred: result.bytes_transferred,
          config_key: r.config_key,
        },
      },
    ],
    failed: (_, error, attempts) => [
      { type: 'DATA_SYNC_FAILED', payload: { host: sourceHost, error, retry_count: attempts - 1 } },
    ],
  });
}
