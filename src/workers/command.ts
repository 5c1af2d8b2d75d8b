/**
 * The command worker: one configured process per job (e.g. `python train.py --config {config_key}`).
 *
 * - The job reaches the process as JSON on stdin and in `RINGRIFT_JOB` (plus `RINGRIFT_JOB_KIND`
 *   and `RINGRIFT_JOB_KEY`), and through `{field}` placeholders, each substituted inside one argv
 *   element. There is never a shell, so a value from another process's event cannot become a
 *   command.
 * - stdout carries JSON lines: `{"progress": 0.4, "message": "epoch 4/10"}` while working, and
 *   one `{"result": {...}}`, checked against the kind's result schema. Other lines are ignored.
 * - A non-zero exit, a missing or invalid result, a timeout, or an abort is a `WorkerError` with
 *   the tail of stderr. The process runs in its own process group, and the whole group is
 *   killed on timeout, abort and `close()`: no orphans.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { WorkerConfigError, WorkerError } from '../errors.js';
import {
  JOB_INPUTS,
  JOB_RESULTS,
  type Job,
  type JobContext,
  type JobResult,
  WORK_KINDS,
  type Worker,
  type WorkKind,
} from './worker.js';

export interface CommandSpec {
  /** argv, with `{field}` placeholders from the job input, `{idempotency_key}` and `{kind}`. */
  readonly command: readonly string[];
  /** Default 1 hour. */
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export type CommandConfig = Partial<Record<WorkKind, CommandSpec>>;

const commandSpecSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1),
  timeoutMs: z.number().int().positive().optional(),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});
/** `cluster` of a config file: `ClusterOptions` (src/cluster/options.ts), checked in full there. */
const clusterSchema = z.strictObject({
  servers: z.array(z.string().min(1)).min(1).optional(),
  host: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  credsFile: z.string().min(1).optional(),
  tls: z
    .union([
      z.boolean(),
      z.strictObject({
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
      }),
    ])
    .optional(),
  replicas: z.number().int().optional(),
  maxAgeMs: z.number().positive().optional(),
  maxBytes: z.number().positive().optional(),
  duplicateWindowMs: z.number().positive().optional(),
  presenceTtlMs: z.number().positive().optional(),
  presenceRefreshMs: z.number().positive().optional(),
  sweepMs: z.number().positive().optional(),
  leaseTtlMs: z.number().positive().optional(),
  maxOutbox: z.number().int().positive().optional(),
  capabilities: z
    .strictObject({
      gpus: z.number().int().nonnegative().optional(),
      slots: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

export type ClusterFileOptions = z.infer<typeof clusterSchema>;

const configFileSchema = z.strictObject({
  cluster: clusterSchema.optional(),
  workers: z.strictObject(
    Object.fromEntries(WORK_KINDS.map((k) => [k, commandSpecSchema.optional()])) as Record<
      WorkKind,
      z.ZodOptional<typeof commandSpecSchema>
    >,
  ),
});

/** `{field}`, or `{field?}` for a field that may be absent (then it becomes an empty string). */
const PLACEHOLDER = /\{([a-z_]+)(\?)?\}/g;
/** Seconds a killed process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_BYTES = 4_096;

/**
 * Reads and checks a `ringrift.config.json`: `{ "workers": { "training": { "command": [...] } } }`.
 * @throws {WorkerConfigError} naming the file and every problem.
 */
export function loadCommandConfig(path: string): CommandConfig {
  return parseConfigFile(path, readJsonConfig(path)).workers;
}

export function readJsonConfig(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new WorkerConfigError(path, [(error as Error).message]);
  }
}

/**
 * Checks a config object (a JSON file's, or a `ringrift.config.ts` module's default export).
 * @throws {WorkerConfigError} naming `path` and every problem.
 */
export function parseCommandConfig(path: string, raw: unknown): CommandConfig {
  return parseConfigFile(path, raw).workers;
}

/** The whole config file: worker commands and, when present, the cluster's options. */
export function parseConfigFile(
  path: string,
  raw: unknown,
): { workers: CommandConfig; cluster: ClusterFileOptions | undefined } {
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WorkerConfigError(
      path,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const config = parsed.data.workers as CommandConfig;
  checkPlaceholders(path, config);
  return { workers: config, cluster: parsed.data.cluster };
}

/**
 * Every placeholder must name a scalar field of its kind's input, the executable must be written
 * out (a value from an event must never choose the program), and `cwd` must be a directory:
 * all checked at load, before any job runs.
 */
function checkPlaceholders(path: string, config: CommandConfig): void {
  const problems: string[] = [];
  for (const kind of WORK_KINDS) {
    const spec = config[kind];
    if (!spec) continue;
    const shape = JOB_INPUTS[kind].shape as Record<string, z.ZodType>;
    if (PLACEHOLDER.test(spec.command[0] ?? ''))
      problems.push(
        `workers.${kind}.command[0]: the executable cannot be a placeholder (got '${spec.command[0]}'); name the program`,
      );
    PLACEHOLDER.lastIndex = 0;
    if (spec.cwd !== undefined && !isDirectory(spec.cwd))
      problems.push(`workers.${kind}.cwd: '${spec.cwd}' is not a directory`);
    for (const arg of spec.command) {
      for (const [, field] of arg.matchAll(PLACEHOLDER)) {
        if (field === 'idempotency_key' || field === 'kind') continue;
        if (field === 'target_host' && PER_HOST_KINDS.has(kind)) continue;
        const schema = shape[field as string];
        if (!schema)
          problems.push(
            `workers.${kind}.command: unknown placeholder '{${field}}' (fields: ${Object.keys(shape).join(', ')})`,
          );
        else if (schema instanceof z.ZodArray)
          problems.push(
            `workers.${kind}.command: '{${field}}' is a list; read it from the job JSON on stdin instead`,
          );
      }
    }
  }
  if (problems.length > 0) throw new WorkerConfigError(path, problems);
}

/**
 * @example
 * const worker = createCommandWorker(loadCommandConfig('ringrift.config.json'));
 */
export function createCommandWorker(config: CommandConfig, fallback?: Worker): Worker {
  const running = new Set<ChildProcess>();
  return {
    run<K extends WorkKind>(job: Job<K>, context: JobContext): Promise<JobResult<K>> {
      const spec = config[job.kind];
      if (!spec) {
        if (fallback) return fallback.run(job, context);
        return Promise.reject(
          new WorkerError(
            job.kind,
            job.idempotencyKey,
            'exit',
            `no command is configured for '${job.kind}' jobs`,
          ),
        );
      }
      if (PER_HOST_KINDS.has(job.kind) && spec.command.some((a) => a.includes('{target_host')))
        return runPerHost(spec, job as Job<'sync' | 'distribution'>, context, running) as Promise<
          JobResult<K>
        >;
      return runCommand(spec, job, context, running);
    },
    async close() {
      const exits = [...running].map(
        (child) => new Promise((resolve) => child.once('exit', resolve)),
      );
      for (const child of running) killGroup(child, 'SIGKILL');
      await Promise.all(exits);
      await fallback?.close();
    },
  };
}

/**
 * Kinds whose job goes to several hosts (`target_hosts`): a command naming `{target_host}` runs
 * once per host, one after the other, and the results are combined into the job's one result.
 * A host that fails fails the job (its error names the host); the daemon's retry runs it again.
 */
const PER_HOST_KINDS: ReadonlySet<WorkKind> = new Set(['sync', 'distribution']);

async function runPerHost(
  spec: CommandSpec,
  job: Job<'sync' | 'distribution'>,
  context: JobContext,
  running: Set<ChildProcess>,
): Promise<JobResult<'sync' | 'distribution'>> {
  const hosts = (job.input as { target_hosts: readonly string[] }).target_hosts;
  const results: { host: string; result: Record<string, unknown> }[] = [];
  for (const host of hosts) {
    const one = {
      ...job,
      idempotencyKey: `${job.idempotencyKey}:${host}`,
      input: { ...job.input, target_host: host, target_hosts: [host] },
    } as unknown as Job<'sync' | 'distribution'>;
    try {
      results.push({
        host,
        result: (await runCommand(spec, one, context, running)) as Record<string, unknown>,
      });
    } catch (error) {
      if (!(error instanceof WorkerError)) throw error;
      throw new WorkerError(
        job.kind,
        job.idempotencyKey,
        error.failure,
        `on host ${host} (done before it: ${results.map((r) => r.host).join(', ') || 'none'}): ${error.message}`,
        { exitCode: error.exitCode },
      );
    }
  }
  const sum = (field: string) => results.reduce((n, r) => n + (Number(r.result[field]) || 0), 0);
  if (job.kind === 'sync')
    return {
      // Every host received the batch: the games synced are those each of them has.
      games_synced: Math.min(...results.map((r) => Number(r.result.games_synced) || 0)),
      bytes_transferred: sum('bytes_transferred'),
      duration: sum('duration'),
    } as JobResult<'sync'>;
  return {
    hosts: results.map((r) => r.host),
    models_distributed: sum('models_distributed'),
    duration: sum('duration'),
  } as JobResult<'distribution'>;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The argv of a job, or the placeholders that have no value: an absent field becomes an empty
 * argument only when its placeholder is marked optional (`{learning_rate?}`); otherwise the
 * job fails naming it (an empty `--lr ''` once reached a training script).
 */
function argvFor(spec: CommandSpec, job: Job): { argv: string[] } | { missing: string[] } {
  const values: Record<string, unknown> = {
    ...job.input,
    idempotency_key: job.idempotencyKey,
    kind: job.kind,
  };
  const missing: string[] = [];
  const argv = spec.command.map((arg) =>
    arg.replace(PLACEHOLDER, (_, field: string, optional: string | undefined) => {
      const value = values[field];
      if (value === undefined || value === null) {
        if (!optional) missing.push(field);
        return '';
      }
      return String(value);
    }),
  );
  return missing.length > 0 ? { missing } : { argv };
}

function runCommand<K extends WorkKind>(
  spec: CommandSpec,
  job: Job<K>,
  context: JobContext,
  running: Set<ChildProcess>,
): Promise<JobResult<K>> {
  const fail = (
    failure: ConstructorParameters<typeof WorkerError>[2],
    detail: string,
    extra = {},
  ) => new WorkerError(job.kind, job.idempotencyKey, failure, detail, extra);
  return new Promise((resolve, reject) => {
    if (context.signal.aborted) return reject(fail('aborted', 'cancelled before it started'));
    const built = argvFor(spec, job);
    if ('missing' in built)
      return reject(
        fail(
          'input',
          `no value for ${built.missing.map((m) => `'{${m}}'`).join(', ')} in the command (mark a placeholder optional as '{${built.missing[0]}?}' to pass an empty argument instead)`,
        ),
      );
    const [file, ...args] = built.argv as [string, ...string[]];
    const json = JSON.stringify(job);
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: {
        ...process.env,
        ...spec.env,
        RINGRIFT_JOB: json,
        RINGRIFT_JOB_KIND: job.kind,
        RINGRIFT_JOB_KEY: job.idempotencyKey,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, so that the whole tree can be killed
      shell: false,
    });
    running.add(child);
    let stderr = '';
    let result: unknown;
    let resultError: string | null = null;
    let ended: 'timeout' | 'aborted' | null = null;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return; // not ours: a library printing to stdout
      }
      if (message === null || typeof message !== 'object') return;
      const m = message as { progress?: unknown; message?: unknown; result?: unknown };
      if (typeof m.progress === 'number') {
        context.progress({
          fraction: Math.min(1, Math.max(0, m.progress)),
          message: typeof m.message === 'string' ? m.message : undefined,
        });
      }
      if ('result' in m) {
        const checked = JOB_RESULTS[job.kind].safeParse(m.result);
        if (checked.success) result = checked.data;
        else
          resultError = checked.error.issues
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ');
      }
    });
    child.stdin?.on('error', () => {}); // a process that does not read stdin closes it early
    child.stdin?.end(json);
    const stop = (why: 'timeout' | 'aborted') => {
      ended = why;
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => stop('timeout'), spec.timeoutMs ?? 3_600_000);
    const onAbort = () => stop('aborted');
    context.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(fail('exit', `cannot start '${file}': ${error.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onAbort);
      running.delete(child);
      // The process is gone; make sure nothing it started outlives it.
      killGroup(child, 'SIGKILL');
      const extra = { exitCode: code, stderrTail: stderr };
      if (ended === 'timeout')
        return reject(fail('timeout', `no result within ${spec.timeoutMs ?? 3_600_000} ms`, extra));
      if (ended === 'aborted') return reject(fail('aborted', 'cancelled', extra));
      if (code !== 0)
        return reject(
          fail('exit', `exited with ${code === null ? `signal ${signal}` : `code ${code}`}`, extra),
        );
      if (resultError)
        return reject(
          fail('output', `result does not match the ${job.kind} result: ${resultError}`, extra),
        );
      if (result === undefined)
        return reject(fail('output', 'exited without a {"result": ...} line on stdout', extra));
      resolve(result as JobResult<K>);
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ESRCH') throw error; // already gone
  }
}
