/**
 * AUTO_SYNC (the original's P2POrchestrator sync): SELFPLAY_COMPLETE -> DATA_SYNC_STARTED ->
 * copy the new games to the training nodes -> DATA_SYNC_COMPLETED (with its config_key) or,
 * after retries, DATA_SYNC_FAILED (with the config and games, so that it can be retried).
 *
 * SYNC_REQUEST (a recovery's retry, a repair, orphaned games) is a sync like a selfplay batch's;
 * one of `priority: 'high'` runs before the batches waiting.
 *
 * In a cluster it also plays the guide's SyncRouter: the targets are the training hosts present
 * (HOST_ONLINE / HOST_OFFLINE); a host back with a new incarnation (NODE_RECOVERED) is a target
 * again at once, with the daemons it ran, before its HOST_ONLINE; and the hosts training right
 * now (TRAINING_STARTED, until their TRAINING_COMPLETED / TRAINING_FAILED) are copied to first,
 * since they read the data soonest (the original's +50 for an active trainer).
 */

import type { PayloadOf } from '../../events/catalog/index.js';
import type { JobResult } from '../../workers/worker.js';
import { foldHosts, HOST_EVENTS, type HostNotes, hostsRunning } from '../cluster/cluster-hosts.js';
import { type Emitted, isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  readonly targets: readonly string[];
  readonly priority: 'normal' | 'high';
  /** Where the games are: the host that played the batch (this host when it does not say). */
  readonly source: string;
}

/** The SyncRouter's view: the hosts present, those gone (with what they ran), those training. */
export interface SyncNotes extends HostNotes {
  readonly away: Readonly<Record<string, readonly string[]>>;
  readonly training: readonly string[];
}

export const SYNC_ROUTER_EVENTS = [
  ...HOST_EVENTS,
  'NODE_RECOVERED',
  'TRAINING_STARTED',
  'TRAINING_COMPLETED',
  'TRAINING_FAILED',
] as const;

export function foldSyncNotes(
  notes: SyncNotes,
  type: string,
  payload: Record<string, unknown>,
): SyncNotes {
  const host = type === 'NODE_RECOVERED' ? payload.node_id : payload.host;
  if (typeof host !== 'string') return notes;
  switch (type) {
    case 'HOST_ONLINE': {
      const { [host]: _back, ...away } = notes.away;
      return { ...notes, ...foldHosts(notes, type, payload), away };
    }
    case 'HOST_OFFLINE': {
      const ran = notes.hosts[host];
      if (ran === undefined) return notes;
      return {
        ...notes,
        ...foldHosts(notes, type, payload),
        away: { ...notes.away, [host]: ran },
        training: notes.training.filter((h) => h !== host),
      };
    }
    case 'NODE_RECOVERED': {
      const ran = notes.away[host];
      if (ran === undefined) return notes;
      const { [host]: _back, ...away } = notes.away;
      return { ...notes, hosts: { ...notes.hosts, [host]: ran }, away };
    }
    case 'TRAINING_STARTED':
      return notes.training.includes(host)
        ? notes
        : { ...notes, training: [...notes.training, host].sort() };
    case 'TRAINING_COMPLETED':
    case 'TRAINING_FAILED':
      return { ...notes, training: notes.training.filter((h) => h !== host) };
    default:
      return notes;
  }
}

type SyncType = 'incremental' | 'catch_up';

/**
 * A catch-up (the SyncPlanner's copy to one returning host) moves games that were already synced,
 * exported and counted: every reader of DATA_SYNC_COMPLETED that acts on new games passes over it.
 */
export const isCatchUp = (payload: { readonly sync_type?: unknown }) =>
  payload.sync_type === 'catch_up';

/** What a sync job of this host says as it starts (AUTO_SYNC's and the SyncPlanner's). */
export function syncStarted(host: string, syncType: SyncType): Emitted {
  return { type: 'DATA_SYNC_STARTED', payload: { host, sync_type: syncType } };
}

/** What a sync job of this host says when it is done: its result, for that config and those hosts. */
export function syncCompleted(
  host: string,
  config: string,
  targets: readonly string[],
  result: JobResult<'sync'>,
  syncType: SyncType,
): Emitted {
  return {
    type: 'DATA_SYNC_COMPLETED',
    payload: {
      host,
      games_synced: result.games_synced,
      duration: result.duration,
      bytes_transferred: result.bytes_transferred,
      config_key: config,
      target_hosts: [...targets],
      ...(result.games_missing ? { games_missing: result.games_missing } : {}),
      ...(syncType === 'catch_up' ? { sync_type: syncType } : {}),
    },
  };
}

/** The training hosts present but `self`, those training now first (each part by name). */
export function routeTargets(notes: SyncNotes, self: string): string[] {
  const present = hostsRunning(notes, ['CONTINUOUS_TRAINING_LOOP'], self);
  const busy = present.filter((h) => notes.training.includes(h));
  return [...busy, ...present.filter((h) => !busy.includes(h))];
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
  const targetsOf = (notes: SyncNotes) =>
    clustered ? routeTargets(notes, sourceHost) : [...trainingHosts];
  return createJobDaemonMachine<'sync', Request, SyncNotes, 'SELFPLAY_COMPLETE' | 'SYNC_REQUEST'>({
    id: 'autoSync',
    triggers: ['SELFPLAY_COMPLETE', 'SYNC_REQUEST'],
    // A SYNC_REQUEST's schema guarantees its config and games.
    rejects: ['SELFPLAY_COMPLETE'],
    notes: {
      initial: { hosts: {}, away: {}, training: [] },
      listens: [...SYNC_ROUTER_EVENTS],
      fold: foldSyncNotes,
      rank: (r) => (r.priority === 'high' ? 0 : 1),
    },
    toRequest: (type, payload, notes) => {
      // Games held on a training host are synced to the others (to itself, when it is the only
      // one: the export still needs the sync's report).
      const targetsFrom = (source: string) => {
        const targets = targetsOf(notes);
        const others = targets.filter((h) => h !== source);
        return others.length > 0 ? others : targets;
      };
      if (type === 'SYNC_REQUEST') {
        const p = payload as PayloadOf<'SYNC_REQUEST'>;
        // A retry or a repair of games held elsewhere syncs from there.
        const source = p.source_host ?? sourceHost;
        return {
          config_key: p.config_key,
          games: p.games,
          targets: targetsFrom(source),
          priority: p.priority ?? 'normal',
          source,
        };
      }
      const p = payload as PayloadOf<'SELFPLAY_COMPLETE'>;
      const source = p.host ?? sourceHost;
      return isConfigKey(p.config_key) && Number.isInteger(p.games_played)
        ? {
            config_key: p.config_key,
            games: p.games_played,
            targets: targetsFrom(source),
            priority: 'normal',
            source,
          }
        : { reject: 'SELFPLAY_COMPLETE without config_key and games_played: nothing to sync' };
    },
    job: (r, attempt, causeId) => ({
      kind: 'sync',
      idempotencyKey: `sync:${r.config_key}:${causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        source_host: r.source,
        target_hosts: [...r.targets],
        games: r.games,
      },
    }),
    started: (r) => syncStarted(r.source, 'incremental'),
    completed: (r, result) => [
      syncCompleted(r.source, r.config_key, r.targets, result, 'incremental'),
    ],
    failed: (r, error, attempts) => [
      {
        type: 'DATA_SYNC_FAILED',
        payload: {
          host: r.source,
          error,
          retry_count: attempts - 1,
          config_key: r.config_key,
          games: r.games,
        },
      },
    ],
  });
}
