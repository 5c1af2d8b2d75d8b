/**
 * SELFPLAY_COORDINATOR (the original's SelfplayScheduler): SELFPLAY_TARGET_UPDATED -> run a
 * selfplay batch for the config -> SELFPLAY_COMPLETE (a failed batch, after its retries, is a
 * TASK_FAILED). It hears NEW_GAMES_AVAILABLE to know how much fresh data each config has, and
 * when batches wait, runs the one for the config with the least first (the data-starved config
 * gets the GPUs).
 *
 * IDLE_RESOURCE_DETECTED (an idle GPU; the guide's "spawn selfplay") is a batch too: for the
 * config the detector recommends, else the most data-starved config asked for so far, of that
 * config's last target size, played on the idle host. One that arrives before any target was
 * asked for is skipped: nothing says which config or how large a batch.
 *
 * Hosts coming and going (the guide's Cluster table): HOST_ONLINE ("node available") and
 * NODE_RECOVERED ("node back online") put a host with free GPU slots in the selfplay pool, and an
 * idle GPU of a pool host gets its batch there; only the leader's scheduler places batches on
 * other hosts (in a cluster every coordinator hears the same presence; one must decide). A
 * batch's SELFPLAY_COMPLETE names the host that holds its games (AUTO_SYNC syncs from there).
 * When a host goes offline its batches, queued or running, are withdrawn: TASK_ABANDONED.
 * A host's arrival is not a batch by itself: unrequested batches would outlive the MasterLoop's
 * iterations. The MasterLoop's own batches play on this host; spreading those over the pool is
 * the cluster's work assignment. IDLE_RESOURCE reports another host's idle GPU from its presence
 * (the IdleDetectionLoop's free slots), at most once per host and iteration.
 *
 * A batch's size is the target scaled by the config's curriculum weight (CURRICULUM_REBALANCED)
 * and its selfplay rate (ELO_VELOCITY_CHANGED: 1.0 while its Elo improves, 1.25 on a plateau, 1.5
 * when it declines: a config that stalls needs fresh data); a rate that changes is a
 * SELFPLAY_RATE_CHANGED.
 *
 * As the guide's JobManager for selfplay: when a config's training is paused (TRAINING_PAUSED:
 * its production model regressed and is being rolled back), its batches, queued or running,
 * would play the rolled-back model; they are withdrawn (the running one's worker is stopped),
 * each with a TASK_ABANDONED (caused by the request, so the MasterLoop learns its chain ended).
 * A batch asked for while the pause lasts runs: abandoning it as it arrives made the MasterLoop
 * of a single paused config start iteration after iteration with nothing to wait for (thousands
 * a second, until a mailbox overflowed); holding it until TRAINING_RESUMED is not built.
 */
import type { PayloadOf } from '../../events/catalog/index.js';
import { freeSlots, presenceHost } from '../cluster/cluster-hosts.js';
import { isConfigKey } from '../emitted.js';
import { createJobDaemonMachine } from '../job-daemon.js';

interface Request {
  readonly config_key: string;
  readonly games: number;
  /** Where the batch plays. */
  readonly host: string;
}

export interface SelfplayNotes {
  /** New games exported per config so far. */
  readonly gamesAvailable: Readonly<Record<string, number>>;
  /** The last target asked for per config (the size of a batch an idle GPU gets). */
  readonly targets: Readonly<Record<string, number>>;
  /** Config -> its curriculum weight (CURRICULUM_REBALANCED; 1 when absent). */
  readonly weights: Readonly<Record<string, number>>;
  /** Config -> its selfplay rate (ELO_VELOCITY_CHANGED; 1 when absent). */
  readonly rates: Readonly<Record<string, number>>;
  /**
   * Other hosts present with free GPU slots -> how many (HOST_ONLINE; NODE_RECOVERED puts a host
   * back with one until its HOST_ONLINE says).
   */
  readonly pool: Readonly<Record<string, number>>;
  /** The cluster's leader (LEADER_ELECTED); null before the first. */
  readonly leader: string | null;
}

/** The selfplay rate of an Elo trend. */
export const RATE_OF_TREND: Readonly<Record<string, number>> = {
  improving: 1,
  plateau: 1.25,
  declining: 1.5,
};

/** A batch of `target` games for `config`, as its weight and rate scale it (at least one game). */
export function batchSize(notes: SelfplayNotes, config: string, target: number): number {
  return Math.max(
    1,
    Math.round(target * (notes.weights[config] ?? 1) * (notes.rates[config] ?? 1)),
  );
}

function foldHosts(notes: SelfplayNotes, type: string, p: Record<string, unknown>): SelfplayNotes {
  if (type === 'LEADER_ELECTED' && typeof p.leader_id === 'string')
    return { ...notes, leader: p.leader_id };
  const host = presenceHost(type, p);
  if (host === undefined) return notes;
  const { [host]: _, ...others } = notes.pool;
  if (type === 'HOST_ONLINE')
    return freeSlots(p) > 0
      ? { ...notes, pool: { ...notes.pool, [host]: freeSlots(p) } }
      : { ...notes, pool: others };
  if (type === 'HOST_OFFLINE') return { ...notes, pool: others };
  // NODE_RECOVERED: back in the pool with one slot until its HOST_ONLINE says how many.
  return { ...notes, pool: { ...notes.pool, [host]: notes.pool[host] ?? 1 } };
}

const HOST_EVENTS = new Set(['HOST_ONLINE', 'HOST_OFFLINE', 'NODE_RECOVERED', 'LEADER_ELECTED']);

function foldNotes(notes: SelfplayNotes, type: string, p: Record<string, unknown>): SelfplayNotes {
  if (HOST_EVENTS.has(type)) return foldHosts(notes, type, p);
  if (type === 'CURRICULUM_REBALANCED' && p.new_weights && typeof p.new_weights === 'object')
    return {
      ...notes,
      weights: { ...notes.weights, ...(p.new_weights as Record<string, number>) },
    };
  if (typeof p.config_key !== 'string') return notes;
  if (type === 'ELO_VELOCITY_CHANGED') {
    const rate = RATE_OF_TREND[String(p.trend)] ?? 1;
    return { ...notes, rates: { ...notes.rates, [p.config_key]: rate } };
  }
  if (
    type === 'SELFPLAY_TARGET_UPDATED' &&
    typeof p.target_games === 'number' &&
    p.target_games > 0
  )
    return { ...notes, targets: { ...notes.targets, [p.config_key]: p.target_games } };
  if (type !== 'NEW_GAMES_AVAILABLE' || !Number.isInteger(p.new_games)) return notes;
  const before = notes.gamesAvailable[p.config_key] ?? 0;
  return {
    ...notes,
    gamesAvailable: { ...notes.gamesAvailable, [p.config_key]: before + (p.new_games as number) },
  };
}

/** The config an idle GPU plays: the one recommended if it has a target, else the most starved. */
function idleConfig(notes: SelfplayNotes, recommended: string | undefined): string | undefined {
  if (recommended !== undefined && isConfigKey(recommended) && recommended in notes.targets)
    return recommended;
  return Object.keys(notes.targets).sort(
    (a, b) => (notes.gamesAvailable[a] ?? 0) - (notes.gamesAvailable[b] ?? 0) || a.localeCompare(b),
  )[0];
}

type Trigger = 'SELFPLAY_TARGET_UPDATED' | 'IDLE_RESOURCE_DETECTED';

/**
 * The host an idle GPU's batch plays on, or why there is none: this host, or another host of the
 * pool where this host leads.
 */
function placement(
  notes: SelfplayNotes,
  self: string,
  host: string,
): { host: string } | { skip: string } {
  if (host === self) return { host };
  if (!(host in notes.pool))
    return { skip: `idle GPU on ${host}, which is not in the selfplay pool` };
  return notes.leader === self
    ? { host }
    : { skip: `${host} is the leader's to fill (${notes.leader ?? 'no leader yet'})` };
}

/** `host`: where this daemon runs (and the MasterLoop's batches play). */
export function createSelfplayCoordinatorMachine(host: string) {
  return createJobDaemonMachine<'selfplay', Request, SelfplayNotes, Trigger>({
    id: 'selfplayCoordinator',
    triggers: ['SELFPLAY_TARGET_UPDATED', 'IDLE_RESOURCE_DETECTED'],
    skips: ['IDLE_RESOURCE_DETECTED'],
    // The schema guarantees an idle GPU's host; what it lacks is a reason to skip, not an error.
    rejects: ['SELFPLAY_TARGET_UPDATED'],
    notes: {
      initial: {
        gamesAvailable: {},
        targets: {},
        weights: {},
        rates: {},
        pool: {},
        leader: null,
      },
      listens: [
        'NEW_GAMES_AVAILABLE',
        'CURRICULUM_REBALANCED',
        'ELO_VELOCITY_CHANGED',
        'HOST_ONLINE',
        'NODE_RECOVERED',
        'LEADER_ELECTED',
      ],
      fold: foldNotes,
      rank: (r, notes) => notes.gamesAvailable[r.config_key] ?? 0,
      reacts: (type, p, notes, before) => {
        const config = p.config_key as string;
        if (type !== 'ELO_VELOCITY_CHANGED') return [];
        const [from, to] = [before.rates[config] ?? 1, notes.rates[config] ?? 1];
        return from === to
          ? []
          : [
              {
                type: 'SELFPLAY_RATE_CHANGED',
                payload: {
                  config_key: config,
                  old_rate: from,
                  new_rate: to,
                  reason: `Elo velocity ${String(p.velocity)} (${String(p.trend)})`,
                },
              },
            ];
      },
    },
    cancels: {
      on: ['TRAINING_PAUSED', 'HOST_OFFLINE'],
      match: (type, p, r) => {
        if (type === 'HOST_OFFLINE')
          return p.host === r.host && r.host !== host ? `${r.host} went offline` : null;
        return p.config_key === r.config_key
          ? `training of ${r.config_key} paused: ${String(p.reason)}`
          : null;
      },
      abandoned: (r, reason) => [
        {
          type: 'TASK_ABANDONED',
          payload: {
            work_id: `selfplay:${r.config_key}`,
            reason,
            component: 'SELFPLAY_COORDINATOR',
            node_id: r.host,
            task_type: 'selfplay',
            config_key: r.config_key,
            games: r.games,
          },
        },
      ],
    },
    toRequest: (type, payload, notes) => {
      if (type === 'SELFPLAY_TARGET_UPDATED') {
        const p = payload as PayloadOf<'SELFPLAY_TARGET_UPDATED'>;
        return p.target_games > 0
          ? {
              config_key: p.config_key,
              games: batchSize(notes, p.config_key, p.target_games),
              host,
            }
          : { reject: 'SELFPLAY_TARGET_UPDATED without a positive target_games' };
      }
      // An idle GPU: a batch there.
      const p = payload as PayloadOf<'IDLE_RESOURCE_DETECTED'>;
      const where = placement(notes, host, p.host);
      if ('skip' in where) return where;
      const config = idleConfig(notes, p.recommended_config);
      const games = config === undefined ? undefined : notes.targets[config];
      return config === undefined || games === undefined
        ? {
            skip: `idle GPU on ${where.host} before any selfplay target: no config or batch size to give it`,
          }
        : { config_key: config, games: batchSize(notes, config, games), host: where.host };
    },
    job: (r, attempt, causeId) => ({
      kind: 'selfplay',
      idempotencyKey: `selfplay:${r.config_key}:${causeId}:${attempt}`,
      input: { config_key: r.config_key, games: r.games, target_host: r.host },
    }),
    completed: (r, result) => [
      {
        type: 'SELFPLAY_COMPLETE',
        payload: {
          config_key: r.config_key,
          games_played: result.games_played,
          db_path: result.db_path,
          duration_seconds: result.duration_seconds,
          engine: 'gumbel-mcts',
          host: r.host,
          ...(result.quality_score === undefined ? {} : { quality_score: result.quality_score }),
        },
      },
    ],
    failed: (r, error) => [
      {
        type: 'TASK_FAILED',
        payload: {
          task_id: `selfplay:${r.config_key}`,
          task_type: 'selfplay',
          node_id: r.host,
          error,
        },
      },
    ],
  });
}
