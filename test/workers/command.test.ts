import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerConfigError, WorkerError } from '../../src/errors.js';
import { createCommandWorker, loadCommandConfig } from '../../src/workers/command.js';
import type { Job, Progress, Worker } from '../../src/workers/worker.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

const jobs = new URL('../fixtures/jobs/', import.meta.url).pathname;
const node = process.execPath;
let worker: Worker | null = null;
let tmp: TempDb | null = null;
afterEach(async () => {
  await worker?.close();
  worker = null;
  tmp?.cleanup();
  tmp = null;
});

const training = (config_key = 'hex8_2p'): Job<'training'> => ({
  kind: 'training',
  idempotencyKey: `training:${config_key}:1`,
  input: { config_key, samples: 1000, epochs: 2 },
});
const context = (progress: Progress[] = [], signal = new AbortController().signal) => ({
  signal,
  progress: (p: Progress) => void progress.push(p),
});
const failure = async (promise: Promise<unknown>): Promise<WorkerError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WorkerError) return error;
    throw error;
  }
  throw new Error('expected a WorkerError');
};
/** Running, and not a zombie waiting for a reaper (containers often have none). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

/** slow.mjs reports its grandchild's pid in its first progress message. */
const grandchildOf = (progress: Progress[]) => Number(progress[0]?.message?.split(' ')[1]);
const firstProgress = async (progress: Progress[]) => {
  while (progress.length === 0) await new Promise((r) => setTimeout(r, 10));
};

describe('command worker', () => {
  it('runs the command with the job on stdin and in the environment, and returns the checked result', async () => {
    worker = createCommandWorker({
      training: { command: [node, join(jobs, 'ok.mjs'), '{config_key}'] },
    });
    const progress: Progress[] = [];
    const result = await worker.run(training(), context(progress));
    expect(result).toEqual({
      model_path: 'hex8_2p',
      final_loss: 0.4,
      epochs: 2,
      early_stopped: false,
      duration: 0.1,
    });
    expect(progress).toEqual([{ fraction: 0.5, message: 'epoch 1/2' }]);
  });

  it('passes payload values as one argv element each, never through a shell', async () => {
    tmp = tempDb();
    const marker = join(tmp.dir, 'pwned');
    worker = createCommandWorker({
      training: { command: [node, join(jobs, 'ok.mjs'), '{config_key}'] },
    });
    const hostile = `x; touch ${marker} && echo $(id)`;
    const result = await worker.run(training(hostile), context());
    expect(result.model_path).toBe(hostile);
    expect(existsSync(marker)).toBe(false);
  });

  it('turns a non-zero exit into a failure with the tail of stderr', async () => {
    worker = createCommandWorker({ training: { command: [node, join(jobs, 'fail.mjs')] } });
    const error = await failure(worker.run(training(), context()));
    expect(error).toMatchObject({ failure: 'exit', exitCode: 3, kind: 'training' });
    expect(error.stderrTail).toContain('CUDA out of memory');
    expect(error.message).toContain(
      "training job 'training:hex8_2p:1' failed (exit): exited with code 3; stderr ends with:",
    );
  });

  it('turns output without a valid result into a failure', async () => {
    worker = createCommandWorker({
      training: { command: [node, join(jobs, 'garbage.mjs')] },
      evaluation: { command: [node, join(jobs, 'bad-result.mjs')] },
    });
    expect((await failure(worker.run(training(), context()))).message).toContain(
      'exited without a {"result": ...} line on stdout',
    );
    const bad = await failure(
      worker.run(
        {
          kind: 'evaluation',
          idempotencyKey: 'e:1',
          input: { config_key: 'x', model_path: 'm', games: 10 },
        },
        context(),
      ),
    );
    expect(bad.failure).toBe('output');
    expect(bad.message).toMatch(/result does not match the evaluation result: elo: /);
  });

  it('kills the whole process tree on timeout and on abort, leaving no orphans', async () => {
    worker = createCommandWorker({
      training: { command: [node, join(jobs, 'slow.mjs')], timeoutMs: 300 },
    });
    const timedOut: Progress[] = [];
    expect((await failure(worker.run(training(), context(timedOut)))).failure).toBe('timeout');
    const controller = new AbortController();
    const aborted: Progress[] = [];
    const run = worker.run(training('other'), context(aborted, controller.signal));
    await firstProgress(aborted);
    controller.abort();
    expect((await failure(run)).failure).toBe('aborted');
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchildOf(timedOut))).toBe(false);
    expect(alive(grandchildOf(aborted))).toBe(false);
  });

  it('kills running jobs on close()', async () => {
    worker = createCommandWorker({ training: { command: [node, join(jobs, 'slow.mjs')] } });
    const progress: Progress[] = [];
    const run = worker.run(training(), context(progress)).catch((e: unknown) => e);
    await firstProgress(progress);
    await worker.close();
    worker = null;
    expect(await run).toBeInstanceOf(WorkerError);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchildOf(progress))).toBe(false);
  });

  it('refuses a job kind with no command', async () => {
    worker = createCommandWorker({});
    expect((await failure(worker.run(training(), context()))).message).toContain(
      "no command is configured for 'training' jobs",
    );
  });
});

describe('loadCommandConfig()', () => {
  it('loads a valid file', () => {
    tmp = tempDb();
    const path = join(tmp.dir, 'ringrift.config.json');
    writeFileSync(
      path,
      JSON.stringify({
        workers: {
          training: {
            command: ['python', 'train.py', '--config', '{config_key}'],
            timeoutMs: 60_000,
          },
        },
      }),
    );
    expect(loadCommandConfig(path).training?.command).toEqual([
      'python',
      'train.py',
      '--config',
      '{config_key}',
    ]);
  });

  it('names the file and every problem', () => {
    tmp = tempDb();
    const path = join(tmp.dir, 'ringrift.config.json');
    writeFileSync(
      path,
      JSON.stringify({
        workers: {
          training: { command: [], timeoutMs: -1 },
          bogus: {},
          evaluation: { command: ['x', '{model}', '{target}'] },
        },
      }),
    );
    const error = (() => {
      try {
        loadCommandConfig(path);
      } catch (e) {
        return e as WorkerConfigError;
      }
    })();
    expect(error).toBeInstanceOf(WorkerConfigError);
    expect(error?.message).toContain(`worker configuration '${path}' is invalid:`);
    expect(error?.problems.join('\n')).toMatch(/workers\.training\.command: /);
    expect(error?.problems.join('\n')).toMatch(/workers\.training\.timeoutMs: /);
    expect(error?.problems.join('\n')).toMatch(/bogus/);
    writeFileSync(
      path,
      JSON.stringify({
        workers: { distribution: { command: ['x', '{model}', '{target_hosts}'] } },
      }),
    );
    expect(() => loadCommandConfig(path)).toThrow(
      /unknown placeholder '\{model\}'.*'\{target_hosts\}' is a list/,
    );
    writeFileSync(path, '{ not json');
    expect(() => loadCommandConfig(path)).toThrow(WorkerConfigError);
  });
});
