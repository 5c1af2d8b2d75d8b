/**
 * AUTO_SYNC (the original's P2POrchestrator sync): SELFPLAY_COMPLETE -> DATA_SYNC_STARTED ->
 * copy the new games to the training nodes -> DATA_SYNC_COMPLETED (with its config_key) or,
 * after retries, DATA_SYNC_FAILED (with the config and games, so that it can be retried).
 *
 * SYNC_REQUEST (a recovery's retry, a repair, orphaned games) is a sync like a selfplay batch's;
 * one of `priority: 'high'` runs before the batches waiting.
 */

import type { PayloadOf } from '../../events/catalog/index.js';
import { foldHosts, HOST_EVENTS, type HostNotes, hostsRunning } from '../cluster/cluster-hosts.js';
import { isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  readonly targets: readonly string[];
  readonly priority: 'normal' | 'high';
}

/**
 * `trainingHosts`: where the games go. `clustered`: instead, the training hosts present when the
 * request arrives (HOST_ONLINE / HOST_OFFLINE), the source host excepted.
 */
export function createAutoSyncMachine(
  sourceHost: string,
  trainingHosts: readonly string[],
  clustered = false,
) {
  const targetsOf = (notes: HostNotes) =>
    clustered ? hostsRunning(notes, ['CONTINUOUS_TRAINING_LOOP'], sourceHost) : [...trainingHosts];
  return createJobDaemonMachine<'sync', Request, HostNotes, 'SELFPLAY_COMPLETE' | 'SYNC_REQUEST'>({
    id: 'autoSync',
    triggers: ['SELFPLAY_COMPLETE', 'SYNC_REQUEST'],
    // A SYNC_REQUEST's schema guarantees its config and games.
    rejects: ['SELFPLAY_COMPLETE'],
    notes: {
      initial: { hosts: {} },
      listens: [...HOST_EVENTS],
      fold: foldHosts,
      rank: (r) => (r.priority === 'high' ? 0 : 1),
    },
    toRequest: (type, payload, notes) => {
      if (type === 'SYNC_REQUEST') {
        const p = payload as PayloadOf<'SYNC_REQUEST'>;
        return {
          config_key: p.config_key,
          games: p.games,
          targets: targetsOf(notes),
          priority: p.priority ?? 'normal',
        };
      }
      const p = payload as PayloadOf<'SELFPLAY_COMPLETE'>;
      return isConfigKey(p.config_key) && Number.isInteger(p.games_played)
        ? {
            config_key: p.config_key,
            games: p.games_played,
            targets: targetsOf(notes),
            priority: 'normal',
          }
        : { reject: 'SELFPLAY_COMPLETE without config_key and games_played: nothing to sync' };
    },
    job: (r, attempt, causeId) => ({
      kind: 'sync',
      idempotencyKey: `sync:${r.config_key}:${causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        source_host: sourceHost,
        target_hosts: [...r.targets],
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
          target_hosts: [...r.targets],
        },
      },
    ],
    failed: (r, error, attempts) => [
      {
        type: 'DATA_SYNC_FAILED',
        payload: {
          host: sourceHost,
          error,
          retry_count: attempts - 1,
          config_key: r.config_key,
          games: r.games,
        },
      },
    ],
  });
}
