/**
 * Issue 9.7: job inputs were not checked against their kind's schema (a TRAINING_THRESHOLD_REACHED
 * with `games: -5` from another process reached a real command as `--samples -300 --lr ''`), and a
 * config key could be anything (`--help`, `../../etc`), though keys become argv elements and paths.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCommandWorker,
  createPipelineDaemons,
  createRouter,
  createRuntime,
  type Envelope,
  EventValidationError,
  isValidConfigKey,
  parseCommandConfig,
  WorkerConfigError,
  WorkerError,
} from '../../src/index.js';
import { until } from '../support/log.js';
import { tempDb } from '../support/temp-db.js';

const jobs = new URL('../fixtures/jobs/', import.meta.url).pathname;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the config-key rule', () => {
  it.each([
    ['hex8_2p', true],
    ['square19_4p.v2', true],
    ['A-1', true],
    ['--help', false],
    ['-x', false],
    ['../../etc/x', false],
    ['models/../x', false],
    ['a..b', false],
    ['a b', false],
    ['', false],
    ['x'.repeat(65), false],
  ])('%j is %s', (key, ok) => {
    expect(isValidConfigKey(key)).toBe(ok);
    const router = createRouter({ logger: pino({ level: 'silent' }) });
    cleanups.push(() => router.close().then(() => undefined));
    const publish = () =>
      router.publish('TRAINING_THRESHOLD_REACHED', { config_key: key, games: 10 });
    if (ok) expect(publish).not.toThrow();
    else expect(publish).toThrow(EventValidationError);
  });

  it('names the rule in the error', () => {
    const router = createRouter({ logger: pino({ level: 'silent' }) });
    cleanups.push(() => router.close().then(() => undefined));
    expect(() =>
      router.publish('TRAINING_COMPLETED', { config_key: '--help', success: true, duration: 1 }),
    ).toThrow(/'config_key': must be a config key: 1-64 letters, digits/);
  });

  it('refuses empty required strings', () => {
    const router = createRouter({ logger: pino({ level: 'silent' }) });
    cleanups.push(() => router.close().then(() => undefined));
    expect(() => router.publish('HOST_ONLINE', { host: '' })).toThrow(/'host': must not be empty/);
  });
});

describe('job inputs', () => {
  it('a training request with negative games fails as TRAINING_FAILED naming the field, and no command runs', async () => {
    const tmp = tempDb();
    cleanups.push(() => tmp.cleanup());
    const record = join(tmp.dir, 'argv.jsonl');
    process.env.RECORD_ARGV = record;
    const daemons = createPipelineDaemons({
      worker: createCommandWorker({
        training: {
          command: [
            process.execPath,
            join(jobs, 'record-argv.mjs'),
            '--samples',
            '{samples}',
            '--lr',
            '{learning_rate?}',
          ],
        },
      }),
      masterLoop: { configs: ['hex8_2p'], iterations: 1, gamesPerBatch: 10 },
    }).filter((d) => ['EVENT_ROUTER', 'CONTINUOUS_TRAINING_LOOP'].includes(d.type));
    const runtime = createRuntime({
      profile: daemons.map((d) => d.type),
      daemons,
      dbPath: false,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => runtime.stop());
    const seen: Envelope[] = [];
    runtime.router.subscribe('*', (e: Envelope) => {
      seen.push(e);
    });
    await runtime.start();
    await runtime.whenReady();
    // The schema allows any integer: `games` is a count another process computed.
    runtime.router.publish('TRAINING_THRESHOLD_REACHED', { config_key: 'hex8_2p', games: -5 });
    await until(() => seen.some((e) => e.type === 'TRAINING_FAILED'), 10_000, 'TRAINING_FAILED');
    const failed = seen.find((e) => e.type === 'TRAINING_FAILED') as Envelope;
    expect(String(failed.payload.error)).toMatch(/invalid training job input: 'samples'/);
    // Not retried: the same input cannot become valid.
    expect(seen.filter((e) => e.type === 'TRAINING_STARTED')).toHaveLength(1);
    expect(existsSync(record)).toBe(false);

    // A valid one runs, and the optional placeholder without a value is an empty argument.
    runtime.router.publish('TRAINING_THRESHOLD_REACHED', { config_key: 'hex8_2p', games: 5 });
    await until(() => seen.some((e) => e.type === 'TRAINING_COMPLETED'), 10_000, 'trained');
    expect(readFileSync(record, 'utf8').trim()).toBe(
      JSON.stringify(['--samples', '300', '--lr', '']),
    );
  });

  it('a placeholder with no value fails the job naming it, unless marked optional', async () => {
    const worker = createCommandWorker({
      training: { command: [process.execPath, join(jobs, 'ok.mjs'), '--lr', '{learning_rate}'] },
    });
    cleanups.push(() => worker.close());
    const error = await worker
      .run(
        {
          kind: 'training',
          idempotencyKey: 'training:hex8_2p:1',
          input: { config_key: 'hex8_2p', samples: 10, epochs: 1 },
        },
        { signal: new AbortController().signal, progress: () => {} },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerError);
    expect((error as WorkerError).failure).toBe('input');
    expect((error as Error).message).toContain("no value for '{learning_rate}'");
    expect((error as Error).message).toContain("'{learning_rate?}'");
  });

  it('refuses, at load, an executable that is a placeholder and a cwd that is not a directory', () => {
    let error: unknown;
    try {
      parseCommandConfig('ringrift.config.json', {
        workers: {
          training: { command: ['{config_key}', 'train.py'] },
          export: { command: ['python', 'export.py'], cwd: '/nonexistent/dir' },
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkerConfigError);
    const problems = (error as WorkerConfigError).problems.join('\n');
    expect(problems).toContain(
      'workers.training.command[0]: the executable cannot be a placeholder',
    );
    expect(problems).toContain("workers.export.cwd: '/nonexistent/dir' is not a directory");
  });
});
