/**
 * REPLICATION_REPAIR (the guide's RepairDaemon; the original's UnifiedReplicationDaemon, whose
 * REPLICATION_REPAIR type it takes): a sync that left games missing on its targets
 * (DATA_SYNC_COMPLETED with `games_missing`) is repaired by copying those games again, as a sync
 * job of that config to the same targets.
 *
 * - Every missing game copied: REPAIR_COMPLETED, which DATA_PIPELINE answers with a sync of the
 *   repaired games (the guide's "retrigger sync": they were not in the first sync's count).
 * - A repair that fails (the job, after its retries) or still leaves games missing: REPAIR_FAILED,
 *   which DATA_PIPELINE counts for its circuit breaker.
 *
 * A sync with nothing missing is not this daemon's (skipped, silently: most syncs). The
 * original's per-game repairs, replica counts and hourly budgets are not built: a sync here
 * already names its targets, so the replicas a game lacks are the targets that lack it.
 */
import { createJobDaemonMachine } from '../job-daemon.js';
import { isCatchUp } from '../sync/auto-sync.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  readonly targets: readonly string[];
  /** Where the games are: the sync's source (a batch may have played on another host). */
  readonly source: string;
}

/** `host`: this host, the source of a sync that does not name one. */
export function createReplicationRepairMachine(host: string) {
  return createJobDaemonMachine<'sync', Request, null, 'DATA_SYNC_COMPLETED'>({
    id: 'replicationRepair',
    triggers: ['DATA_SYNC_COMPLETED'],
    skips: true,
    toRequest: (_, p) => {
      if (!p.games_missing) return { skip: 'nothing missing' };
      // A catch-up's gaps are filled by the host's next syncs (a repair would sync them again).
      if (isCatchUp(p)) return { skip: 'a catch-up' };
      if (p.config_key === undefined || !p.target_hosts?.length)
        return {
          reject: 'DATA_SYNC_COMPLETED with games_missing but no config_key or target_hosts',
        };
      return {
        config_key: p.config_key,
        games: p.games_missing,
        targets: p.target_hosts,
        source: p.host || host,
      };
    },
    job: (r, attempt, causeId) => ({
      kind: 'sync',
      idempotencyKey: `repair:${r.config_key}:${causeId}:${attempt}`,
      input: {
        config_key: r.config_key,
        source_host: r.source,
        target_hosts: [...r.targets],
        games: r.games,
        purpose: 'repair',
      },
    }),
    completed: (r, result) =>
      result.games_missing
        ? [
            {
              type: 'REPAIR_FAILED',
              payload: {
                config_key: r.config_key,
                host: r.source,
                error: `${result.games_missing} of ${r.games} games still missing after the repair`,
                games: r.games,
                target_hosts: [...r.targets],
              },
            },
          ]
        : [
            {
              type: 'REPAIR_COMPLETED',
              payload: {
                config_key: r.config_key,
                host: r.source,
                games_repaired: r.games,
                target_hosts: [...r.targets],
                duration_seconds: result.duration,
              },
            },
          ],
    failed: (r, error) => [
      {
        type: 'REPAIR_FAILED',
        payload: {
          config_key: r.config_key,
          host: r.source,
          error,
          games: r.games,
          target_hosts: [...r.targets],
        },
      },
    ],
  });
}
