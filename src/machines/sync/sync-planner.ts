/**
 * SYNC_PLANNER (the guide's SyncPlanner, the DATA_SYNC_COMPLETED row's second emitter): a
 * training host that comes back (NODE_RECOVERED) missed the syncs made while it was away. The
 * planner keeps how many games of each config have been synced (every DATA_SYNC_COMPLETED but its
 * own) and, for each training host that goes offline, those counts at that moment. When the host
 * returns, it copies it the games of the config it missed most, as a `catch_up` sync job to that
 * host alone: DATA_SYNC_STARTED, then DATA_SYNC_COMPLETED with `sync_type: 'catch_up'`, which
 * DATA_PIPELINE does not export again (they were exported when first synced).
 *
 * One config per return: the others reach the host with their next sync (AUTO_SYNC routes to it
 * again from its NODE_RECOVERED). A catch-up that fails for good is a DATA_SYNC_FAILED without a
 * config (the RecoveryOrchestrator does not retry it; the host gets the next syncs anyway). The
 * original's planner also diffs file manifests and staggers large databases; there are no
 * manifests here, so the counts stand in for them.
 */
import { foldHosts, type HostNotes } from '../cluster/cluster-hosts.js';
import { createJobDaemonMachine } from '../job-daemon.js';
import { isCatchUp, syncCompleted, syncStarted } from './auto-sync.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  readonly host: string;
}

export interface PlannerNotes extends HostNotes {
  /** Config -> games synced so far (catch-ups excepted). */
  readonly synced: Readonly<Record<string, number>>;
  /** A training host away -> the synced counts when it left. */
  readonly away: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const SYNC_PLANNER_LISTENS = ['HOST_ONLINE', 'HOST_OFFLINE', 'DATA_SYNC_COMPLETED'] as const;

const TRAINS = 'CONTINUOUS_TRAINING_LOOP';

function foldPlanner(notes: PlannerNotes, type: string, p: Record<string, unknown>): PlannerNotes {
  switch (type) {
    case 'DATA_SYNC_COMPLETED': {
      if (isCatchUp(p) || typeof p.config_key !== 'string') return notes;
      const games = typeof p.games_synced === 'number' ? p.games_synced : 0;
      return {
        ...notes,
        synced: { ...notes.synced, [p.config_key]: (notes.synced[p.config_key] ?? 0) + games },
      };
    }
    case 'HOST_OFFLINE': {
      const host = p.host as string;
      const trained = notes.hosts[host]?.includes(TRAINS) === true;
      const hosts = foldHosts(notes, type, p).hosts;
      return trained
        ? { ...notes, hosts, away: { ...notes.away, [host]: { ...notes.synced } } }
        : { ...notes, hosts };
    }
    case 'HOST_ONLINE':
      return { ...notes, hosts: foldHosts(notes, type, p).hosts };
    case 'NODE_RECOVERED': {
      const { [p.node_id as string]: _back, ...away } = notes.away;
      return { ...notes, away };
    }
    default:
      return notes;
  }
}

/** The config the host missed most, and how many of its games (null: none missed). */
function missedMost(notes: PlannerNotes, host: string): { config: string; games: number } | null {
  const left = notes.away[host];
  if (!left) return null;
  let best: { config: string; games: number } | null = null;
  for (const [config, total] of Object.entries(notes.synced).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const games = total - (left[config] ?? 0);
    if (games > 0 && (best === null || games > best.games)) best = { config, games };
  }
  return best;
}

/** `sourceHost`: where the games are (this host). */
export function createSyncPlannerMachine(sourceHost: string) {
  return createJobDaemonMachine<'sync', Request, PlannerNotes, 'NODE_RECOVERED'>({
    id: 'syncPlanner',
    triggers: ['NODE_RECOVERED'],
    skips: true,
    // The schema guarantees the host; what a return lacks is a reason to copy, not an error.
    rejects: [],
    notes: {
      initial: { hosts: {}, synced: {}, away: {} },
      listens: [...SYNC_PLANNER_LISTENS],
      fold: foldPlanner,
    },
    toRequest: (_, p, notes) => {
      if (p.node_id === sourceHost) return { skip: 'this host' };
      const missed = missedMost(notes, p.node_id);
      return missed === null
        ? { skip: `${p.node_id} missed no sync (or was not seen leaving as a training host)` }
        : { config_key: missed.config, games: missed.games, host: p.node_id };
    },
    job: (r, attempt, causeId) => ({
      kind: 'sync',
      idempotencyKey: `catch_up:${r.config_key}:${r.host}:${causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        source_host: sourceHost,
        target_hosts: [r.host],
        games: r.games,
        purpose: 'catch_up',
      },
    }),
    started: () => syncStarted(sourceHost, 'catch_up'),
    completed: (r, result) => [
      syncCompleted(sourceHost, r.config_key, [r.host], result, 'catch_up'),
    ],
    failed: (r, error, attempts) => [
      {
        type: 'DATA_SYNC_FAILED',
        payload: {
          host: sourceHost,
          error: `catch-up of ${r.config_key} to ${r.host}: ${error}`,
          retry_count: attempts - 1,
        },
      },
    ],
  });
}
