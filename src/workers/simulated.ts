/**
 * The simulated worker (the default): the whole pipeline on one laptop with no GPU. Deterministic
 * for a seed (each job draws from a generator seeded by the seed, its idempotency key and its
 * attempt), with configurable durations and failure rates, and plausible results: games and
 * samples in proportion, losses that fall, Elo that rises with each training run, with noise.
 */
import { WorkerError } from '../errors.js';
import { seededRandom } from './seeded-random.js';
import type { Job, JobContext, JobResult, Worker, WorkKind } from './worker.js';

export interface SimulatedWorkerOptions {
  readonly seed?: number;
  /** How long each kind of job takes; defaults are tens of milliseconds. */
  readonly durationsMs?: Partial<Record<WorkKind, number>>;
  /** Probability (0 to 1) that a job of this kind fails; 0. */
  readonly failureRates?: Partial<Record<WorkKind, number>>;
  /**
   * Probability (0 to 1) that a model regresses: its gauntlet still shows the Elo its generation
   * earns (so the promotion gate may pass it), but it wins 15 points fewer of its games than its
   * generation would (what MODEL_PERFORMANCE_WATCHDOG catches after the promotion); 0.
   */
  readonly regressionRate?: number;
  /**
   * Probability (0 to 1) that a selfplay batch is of poor quality (score about 0.4 instead of
   * about 0.8): what QUALITY_MONITOR reports as QUALITY_DEGRADED; 0. Every batch is scored.
   */
  readonly lowQualityRate?: number;
  /**
   * Probability (0 to 1) that a sync leaves some of its games (1 to 10%) missing on the targets:
   * what REPLICATION_REPAIR copies again (and a repair, being a sync, can leave games missing
   * too: a failed repair); 0.
   */
  readonly partialSyncRate?: number;
  /**
   * Per kind, the probability (0 to 1) that a job starts an outage of that kind of work (the
   * network for syncs, a diverging run for training): it and the next ones fail until the outage
   * has failed `outageAttempts` attempts, whatever their config. A sync outage outlasts a sync's
   * retries and the RecoveryOrchestrator's (orphaned games); a training one, a training's; 0.
   */
  readonly outageRates?: Partial<Record<WorkKind, number>>;
  /** Attempts an outage of each kind lasts; 30 for sync, 3 otherwise. */
  readonly outageAttempts?: Partial<Record<WorkKind, number>>;
  /**
   * Jobs of each kind and config before the faults (poor batches, partial syncs, failed repairs,
   * outages, preempted gauntlets; not regressions) can happen: a healthy start, so that a short run is clean
   * and a long one is not; 0.
   */
  readonly faultsAfter?: number;
  /**
   * Probability (0 to 1) that a repair (a sync job of `purpose: 'repair'`) still leaves some of
   * its games missing: a repair that fails; 0.
   */
  readonly repairFailureRate?: number;
  /**
   * Probability (0 to 1) that an evaluation is preempted (its host taken back) and reports the 10
   * to 40% of its games it played: a gauntlet too short to judge, what AUTO_PROMOTION answers with
   * PROMOTION_FAILED; 0.
   */
  readonly preemptedGauntletRate?: number;
}

const DEFAULT_DURATIONS: Record<WorkKind, number> = {
  selfplay: 40,
  sync: 20,
  export: 20,
  training: 60,
  evaluation: 40,
  distribution: 20,
};

/** Keys a worker remembers (results and attempts): enough for redeliveries, bounded for long runs. */
const REMEMBERED_KEYS = 1_000;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED_KEYS) map.delete(map.keys().next().value as string);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * @example
 * const worker = createSimulatedWorker({ seed: 7, failureRates: { training: 0.1 } });
 * const result = await worker.run({ kind: 'selfplay', idempotencyKey: 'selfplay:hex8_2p:1', input: { config_key: 'hex8_2p', games: 200 } }, context);
 */
export function createSimulatedWorker(options: SimulatedWorkerOptions = {}): Worker {
  const seed = options.seed ?? 1;
  const durations = { ...DEFAULT_DURATIONS, ...options.durationsMs };
  const failureRates = options.failureRates ?? {};
  const regressionRate = options.regressionRate ?? 0;
  const lowQualityRate = options.lowQualityRate ?? 0;
  const partialSyncRate = options.partialSyncRate ?? 0;
  const repairFailureRate = options.repairFailureRate ?? 0;
  /** Per kind, the attempts its current outage still fails. */
  const outageLeft = new Map<WorkKind, number>();
  const attempts = new Map<string, number>();
  const results = new Map<string, unknown>();
  /** Training runs completed per config: what makes Elo rise. */
  const generations = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  /**
   * A job's draws come from its place among the jobs of its kind and config (the 3rd sync of
   * hex8_2p), not from its key, which carries envelope ids that differ from run to run: the same
   * seed replays the same world.
   */
  const places = new Map<string, number>();
  const jobsPer = new Map<string, number>();
  const placeOf = (job: Job): { group: string; place: number } => {
    const group = `${job.kind}:${(job.input as { config_key?: string }).config_key ?? ''}`;
    let place = places.get(job.idempotencyKey);
    if (place === undefined) {
      place = jobsPer.get(group) ?? 0;
      jobsPer.set(group, place + 1);
      remember(places, job.idempotencyKey, place);
    }
    return { group, place };
  };
  const faultsAfter = options.faultsAfter ?? 0;

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        timers.delete(timer);
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      timers.add(timer);
      const onAbort = () => {
        clearTimeout(timer);
        timers.delete(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });

  return {
    async run<K extends WorkKind>(job: Job<K>, context: JobContext): Promise<JobResult<K>> {
      // The same key is the same work: answer with the result already produced.
      if (results.has(job.idempotencyKey)) return results.get(job.idempotencyKey) as JobResult<K>;
      const attempt = (attempts.get(job.idempotencyKey) ?? 0) + 1;
      remember(attempts, job.idempotencyKey, attempt);
      const { group, place } = placeOf(job);
      const random = seededRandom(hash(`${seed}:${group}:${place}:${attempt}`));
      // The world's faults (not its regressions) begin after a healthy start.
      const faulty = place >= faultsAfter;
      const total = durations[job.kind];
      try {
        for (let step = 1; step <= 4; step++) {
          // Zero-duration work (benchmarks) takes no timer at all, only a turn of the microtask queue.
          if (total > 0) await sleep(total / 4, context.signal);
          else await Promise.resolve();
          if (context.signal.aborted) throw context.signal.reason;
          context.progress({ fraction: step / 4, message: `${job.kind} ${step * 25}%` });
        }
      } catch (reason) {
        throw new WorkerError(
          job.kind,
          job.idempotencyKey,
          'aborted',
          `cancelled: ${String((reason as Error)?.message ?? reason)}`,
        );
      }
      const outageRate = faulty ? (options.outageRates?.[job.kind] ?? 0) : 0;
      if (outageRate > 0) {
        let left = outageLeft.get(job.kind) ?? 0;
        if (left === 0 && random() < outageRate)
          left = options.outageAttempts?.[job.kind] ?? (job.kind === 'sync' ? 30 : 3);
        if (left > 0) {
          outageLeft.set(job.kind, left - 1);
          throw new WorkerError(
            job.kind,
            job.idempotencyKey,
            'simulated',
            `simulated ${job.kind === 'sync' ? 'network outage: the targets are unreachable' : 'outage'} (${left - 1} more attempts)`,
          );
        }
      }
      if (random() < (failureRates[job.kind] ?? 0)) {
        throw new WorkerError(
          job.kind,
          job.idempotencyKey,
          'simulated',
          `simulated failure (attempt ${attempt})`,
        );
      }
      const result = simulate(job as Job, random, generations, total / 1000, {
        regressionRate,
        lowQualityRate: faulty ? lowQualityRate : 0,
        partialSyncRate: faulty ? partialSyncRate : 0,
        repairFailureRate: faulty ? repairFailureRate : 0,
        preemptedGauntletRate: faulty ? (options.preemptedGauntletRate ?? 0) : 0,
      });
      remember(results, job.idempotencyKey, result);
      return result as JobResult<K>;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

function simulate(
  job: Job,
  random: () => number,
  generations: Map<string, number>,
  seconds: number,
  world: {
    readonly regressionRate: number;
    readonly lowQualityRate: number;
    readonly partialSyncRate: number;
    readonly repairFailureRate: number;
    readonly preemptedGauntletRate: number;
  },
): unknown {
  const { regressionRate, lowQualityRate, partialSyncRate, repairFailureRate } = world;
  const noise = (scale: number) => (random() - 0.5) * 2 * scale;
  switch (job.kind) {
    case 'selfplay': {
      const input = job.input as Job<'selfplay'>['input'];
      const poor = lowQualityRate > 0 && random() < lowQualityRate;
      const quality = (poor ? 0.4 : 0.8) + noise(0.05);
      return {
        games_played: input.games,
        db_path: `data/selfplay/${input.config_key}.db`,
        duration_seconds: seconds,
        quality_score: Math.round(quality * 1000) / 1000,
      };
    }
    case 'sync': {
      const input = job.input as Job<'sync'>['input'];
      const rate = input.purpose === 'repair' ? repairFailureRate : partialSyncRate;
      const partial = rate > 0 && input.games > 0 && random() < rate;
      const missing = partial ? Math.max(1, Math.round(input.games * (0.01 + 0.09 * random()))) : 0;
      return {
        games_synced: input.games - missing,
        bytes_transferred: (input.games - missing) * 48_000 * input.target_hosts.length,
        duration: seconds,
        ...(missing > 0 ? { games_missing: missing } : {}),
      };
    }
    case 'export': {
      const input = job.input as Job<'export'>['input'];
      return {
        samples: input.games * 60,
        npz_path: `data/npz/${input.config_key}.npz`,
        duration: seconds,
      };
    }
    case 'training': {
      const input = job.input as Job<'training'>['input'];
      const generation = (generations.get(input.config_key) ?? 0) + 1;
      generations.set(input.config_key, generation);
      return {
        model_path: `models/${input.config_key}/gen${generation}.pth`,
        final_loss: Math.max(0.05, 1.2 / Math.sqrt(generation) + noise(0.05)),
        epochs: input.epochs,
        early_stopped: random() < 0.1,
        duration: seconds,
      };
    }
    case 'evaluation': {
      const input = job.input as Job<'evaluation'>['input'];
      // The model's own generation (from its path), not this process's count: the training may
      // have run in another process.
      const named = /gen(\d+)\.[a-z]+$/.exec(input.model_path);
      const generation = named ? Number(named[1]) : (generations.get(input.config_key) ?? 0);
      const natural = 0.5 + 0.04 * generation + noise(0.05);
      const elo = 1500 + 25 * generation + noise(15);
      // Drawn after the others, so that a rate of 0 leaves every other result as it was.
      const regressed = regressionRate > 0 && random() < regressionRate;
      // The loss is taken after the cap: a late generation's natural rate is past 0.95, and a
      // regression taken before the cap would vanish in it (one regression in a 50-iteration run).
      const winRate = Math.max(0.05, Math.min(0.95, natural) - (regressed ? 0.15 : 0));
      // A preempted gauntlet (its host taken back) reports what it played: 10 to 40% of its games.
      const preempted = world.preemptedGauntletRate > 0 && random() < world.preemptedGauntletRate;
      return {
        elo,
        win_rate: winRate,
        games_played: preempted
          ? Math.max(1, Math.round(input.games * (0.1 + 0.3 * random())))
          : input.games,
      };
    }
    case 'distribution': {
      const input = job.input as Job<'distribution'>['input'];
      return {
        hosts: [...input.target_hosts],
        models_distributed: input.target_hosts.length,
        duration: seconds,
      };
    }
  }
}
