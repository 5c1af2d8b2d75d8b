import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerConfigError, WorkerError } from '../../src/errors.js';
import { createCommandWorker, loadCommandConfig } from '../../src/workers/command.js';
import { loadConfigFile } from '../../src/workers/config-file.js';
import type { Job, Progress, Worker } from '../../src/workers/worker.js';
import { runCli } from '../support/processes.js';
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
  it('runs a sync or distribution command naming {target_host} once per host, and reports per host', async () => {
    const script = `const h = process.argv[1]; if (h === 'bad') { console.error('unreachable ' + h); process.exit(3) } console.log(JSON.stringify({ result: process.argv[2] === 'sync' ? { games_synced: 50, bytes_transferred: 100, duration: 1 } : { hosts: [h], models_distributed: 1, duration: 2 } }))`;
    worker = createCommandWorker({
      sync: { command: [node, '-e', script, '{target_host}', 'sync'] },
      distribution: { command: [node, '-e', script, '{target_host}', 'distribution'] },
    });
    const sync = await worker.run(
      {
        kind: 'sync',
        idempotencyKey: 'sync:hex8_2p:1',
        input: { config_key: 'hex8_2p', source_host: 'a', target_hosts: ['b', 'c'], games: 50 },
      },
      context(),
    );
    expect(sync).toEqual({ games_synced: 50, bytes_transferred: 200, duration: 2 });
    const distribution = await worker.run(
      {
        kind: 'distribution',
        idempotencyKey: 'distribution:m1:1',
        input: {
          config_key: 'hex8_2p',
          model_id: 'm1',
          model_path: 'm.pth',
          target_hosts: ['b', 'c'],
        },
      },
      context(),
    );
    expect(distribution).toEqual({ hosts: ['b', 'c'], models_distributed: 2, duration: 4 });
    const error = await failure(
      worker.run(
        {
          kind: 'distribution',
          idempotencyKey: 'distribution:m2:1',
          input: {
            config_key: 'hex8_2p',
            model_id: 'm2',
            model_path: 'm.pth',
            target_hosts: ['b', 'bad', 'c'],
          },
        },
        context(),
      ),
    );
    expect(error.message).toMatch(/on host bad \(done before it: b\)/);
    expect(error.message).toMatch(/unreachable bad/);
  });

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
    // Its own worker with a timeout far away: on a loaded machine the first progress can come
    // after 300 ms, and the abort must not race the timeout.
    const patient = createCommandWorker({
      training: { command: [node, join(jobs, 'slow.mjs')], timeoutMs: 60_000 },
    });
    const controller = new AbortController();
    const aborted: Progress[] = [];
    const run = patient.run(training('other'), context(aborted, controller.signal));
    await firstProgress(aborted);
    controller.abort();
    expect((await failure(run)).failure).toBe('aborted');
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchildOf(timedOut))).toBe(false);
    expect(alive(grandchildOf(aborted))).toBe(false);
    await patient.close();
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

describe('loadConfigFile()', () => {
  const src = new URL('../../src/index.ts', import.meta.url).pathname;

  it('runs a ringrift.config.ts (computed commands, types, imports) and checks its default export', async () => {
    tmp = tempDb();
    const path = join(tmp.dir, 'ringrift.config.ts');
    writeFileSync(
      path,
      `import { defineConfig } from '${src}';
const kinds: readonly ('training' | 'export')[] = ['training', 'export'];
export default defineConfig({
  workers: Object.fromEntries(
    kinds.map((kind) => [kind, { command: ['${node}', '${jobs}ok.mjs', \`{config_key}-\${kind}\`] }]),
  ),
});
`,
    );
    const config = await loadConfigFile(path);
    expect(config.training?.command).toEqual([node, `${jobs}ok.mjs`, '{config_key}-training']);
    expect(config.export?.command.at(-1)).toBe('{config_key}-export');
    // The same file inside an ESM package (compiled as a module, not CommonJS).
    mkdirSync(join(tmp.dir, 'esm'));
    writeFileSync(join(tmp.dir, 'esm', 'package.json'), '{ "type": "module" }');
    writeFileSync(join(tmp.dir, 'esm', 'ringrift.config.ts'), readFileSync(path));
    expect(await loadConfigFile(join(tmp.dir, 'esm', 'ringrift.config.ts'))).toEqual(config);
  });

  it('loads the example config (examples/ringrift.config.ts), which imports the package by name', async () => {
    const example = new URL('../../examples/ringrift.config.ts', import.meta.url).pathname;
    const config = await loadConfigFile(example);
    expect(config.training?.command.slice(1)).toEqual([
      'train.py',
      '--config',
      '{config_key}',
      '--epochs',
      '{epochs}',
    ]);
    expect(config.evaluation?.timeoutMs).toBe(3_600_000);
  });

  it('names the file and the problem: no default export, a throwing module, a bad value, an unknown extension', async () => {
    tmp = tempDb();
    const dir = tmp.dir;
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    await expect(loadConfigFile(write('a.ts', 'export const workers = {};'))).rejects.toThrow(
      /has no default export/,
    );
    await expect(
      loadConfigFile(write('b.ts', "throw new Error('no GPU here');\nexport default {};")),
    ).rejects.toThrow(/could not be loaded: no GPU here/);
    await expect(
      loadConfigFile(
        write('c.mjs', "export default { workers: { training: { command: 'python' } } };"),
      ),
    ).rejects.toThrow(/workers\.training\.command: /);
    await expect(loadConfigFile(write('d.yaml', 'workers: {}'))).rejects.toThrow(
      /unknown extension '\.yaml'/,
    );
    await expect(loadConfigFile(join(dir, 'missing.ts'))).rejects.toThrow(WorkerConfigError);
  });

  it('drives `run --config ringrift.config.ts`: training runs the configured command', async () => {
    tmp = tempDb();
    const config = join(tmp.dir, 'ringrift.config.ts');
    writeFileSync(
      config,
      `export default {
  workers: { training: { command: ['${node}', '${jobs}ok.mjs', 'models/{config_key}/gen7.pth'] } },
} satisfies { workers: Record<string, { command: string[] }> };
`,
    );
    const db = join(tmp.dir, 'events.db');
    const { stdout, stderr } = await runCli(
      'run',
      '--iterations',
      '1',
      '--configs',
      'hex8_2p',
      '--db',
      db,
      '--config',
      config,
    );
    expect(stdout).toContain('trainings: 1');
    // The kinds it does not configure are simulated, and it says so.
    expect(stderr).toMatch(
      /no command configured for selfplay, sync, export, evaluation, distribution/,
    );
    const log = new Database(db, { readonly: true });
    const rows = log
      .prepare("SELECT payload FROM events WHERE event_type = 'TRAINING_COMPLETED'")
      .all() as { payload: string }[];
    log.close();
    expect(rows.map((r) => JSON.parse(r.payload).model_path)).toEqual(['models/hex8_2p/gen7.pth']);
  }, 60_000);
});
