/**
 * How daemons do real work. A job is one piece of work of one kind, built from an event payload;
 * a worker runs it and resolves with a typed result, reporting progress and honouring
 * cancellation. The idempotency key names the job: a restored daemon re-runs work that was in
 * flight, and a worker may answer a repeated key with the result it already has.
 */
import { z } from 'zod';
import { CONFIG_KEY_PATTERN, CONFIG_KEY_RULE } from '../events/config-key.js';

export const WORK_KINDS = [
  'selfplay',
  'sync',
  'export',
  'training',
  'evaluation',
  'distribution',
] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

const configKey = z.string().regex(CONFIG_KEY_PATTERN, `must be ${CONFIG_KEY_RULE}`);

/** What each kind of job needs, as schemas (a command's result is checked against these too). */
export const JOB_INPUTS = {
  selfplay: z.object({
    config_key: configKey,
    games: z.number().int().positive(),
    /** The host the batch plays on (a command reaches it; the simulated worker only names it). */
    target_host: z.string().min(1).optional(),
  }),
  sync: z.object({
    config_key: configKey,
    source_host: z.string().min(1),
    target_hosts: z.array(z.string()).min(1),
    games: z.number().int().nonnegative(),
    /**
     * `repair`: copying again games an earlier sync left missing (REPLICATION_REPAIR);
     * `catch_up`: games a host missed while it was away (SYNC_PLANNER).
     */
    purpose: z.enum(['sync', 'repair', 'catch_up']).optional(),
  }),
  export: z.object({ config_key: configKey, games: z.number().int().nonnegative() }),
  training: z.object({
    config_key: configKey,
    samples: z.number().int().nonnegative(),
    epochs: z.number().int().positive(),
    learning_rate: z.number().positive().optional(),
  }),
  evaluation: z.object({
    config_key: configKey,
    model_path: z.string().min(1),
    games: z.number().int().positive(),
  }),
  distribution: z.object({
    config_key: configKey,
    model_id: z.string().min(1),
    model_path: z.string().min(1),
    target_hosts: z.array(z.string()).min(1),
  }),
} as const;

export const JOB_RESULTS = {
  selfplay: z.object({
    games_played: z.number().int().nonnegative(),
    db_path: z.string(),
    duration_seconds: z.number().nonnegative(),
    /** The batch's data quality, 0 to 1, when the worker scores it (QUALITY_MONITOR reads it). */
    quality_score: z.number().min(0).max(1).optional(),
  }),
  sync: z.object({
    games_synced: z.number().int().nonnegative(),
    bytes_transferred: z.number().int().nonnegative(),
    duration: z.number().nonnegative(),
    /** Games of the job the targets do not hold afterwards (a copy failed its check); 0. */
    games_missing: z.number().int().nonnegative().optional(),
  }),
  export: z.object({
    samples: z.number().int().nonnegative(),
    npz_path: z.string(),
    duration: z.number().nonnegative(),
  }),
  training: z.object({
    model_path: z.string().min(1),
    final_loss: z.number(),
    epochs: z.number().int().nonnegative(),
    early_stopped: z.boolean(),
    duration: z.number().nonnegative(),
  }),
  evaluation: z.object({
    elo: z.number(),
    win_rate: z.number().min(0).max(1),
    games_played: z.number().int().nonnegative(),
  }),
  distribution: z.object({
    hosts: z.array(z.string()),
    models_distributed: z.number().int().nonnegative(),
    duration: z.number().nonnegative(),
  }),
} as const;

export type JobInput<K extends WorkKind> = z.infer<(typeof JOB_INPUTS)[K]>;
export type JobResult<K extends WorkKind> = z.infer<(typeof JOB_RESULTS)[K]>;

export interface Job<K extends WorkKind = WorkKind> {
  readonly kind: K;
  /** Names the job: the same key means the same work (e.g. `training:hex8_2p:7`). */
  readonly idempotencyKey: string;
  readonly input: JobInput<K>;
}

export interface Progress {
  /** 0 to 1. */
  readonly fraction: number;
  readonly message?: string;
}

export interface JobContext {
  readonly signal: AbortSignal;
  progress(progress: Progress): void;
}

export interface Worker {
  /** @throws {WorkerError} when the job fails, times out or is aborted. */
  run<K extends WorkKind>(job: Job<K>, context: JobContext): Promise<JobResult<K>>;
  /** Ends everything the worker started (processes, timers). */
  close(): Promise<void>;
}
