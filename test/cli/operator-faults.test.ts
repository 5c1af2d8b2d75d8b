/**
 * Issue 9.8: what the CLI says when runs fail, die or are stopped, and the commands the README
 * named that did not exist. Real processes on real files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventLog, subscribeDurable } from '../../src/index.js';
import { until } from '../support/log.js';
import { runCli as cli, cliWith, startFixture } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

const root = new URL('../..', import.meta.url).pathname;
const jobs = new URL('../fixtures/jobs/', import.meta.url).pathname;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});
const temp = (): TempDb => {
  const t = tempDb();
  cleanups.push(() => t.cleanup());
  return t;
};
/** Until the run's MasterLoop has completed an iteration, read from the file as `status` would. */
async function untilRunning(path: string): Promise<void> {
  const iterations = () => {
    if (!existsSync(path)) return 0;
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (
        db
          .prepare(
            "SELECT COUNT(*) AS n FROM events WHERE event_type = 'DAEMON_STATUS_CHANGED' AND payload LIKE '%MASTER_LOOP%running%'",
          )
          .get() as { n: number }
      ).n;
    } catch {
      return 0; // tables not there yet
    } finally {
      db.close();
    }
  };
  await until(() => iterations() > 0, 30_000, 'the MasterLoop to run');
  await new Promise((r) => setTimeout(r, 500));
}

/** `run --forever` on a fresh file, once its MasterLoop runs. */
async function foreverRun() {
  const tmp = temp();
  const run = startFixture('src/cli/main', ['run', '--forever', '--db', tmp.path, '--view', 'log']);
  cleanups.push(() => run.child.kill('SIGKILL'));
  await untilRunning(tmp.path);
  return { tmp, run };
}

const outcome = (p: Promise<{ stdout: string; stderr: string }>) =>
  p.then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('status', () => {
  it('shows a run killed with kill -9 as dead, not running for ever', async () => {
    const { tmp, run } = await foreverRun();
    const alive = await cli('status', '--db', tmp.path);
    expect(alive.stdout).toMatch(/: running \(heartbeat \d+ s ago\)/);
    run.child.kill('SIGKILL');
    await run.exited;
    const dead = await cli('status', '--db', tmp.path);
    expect(dead.stdout).toMatch(/: dead \(last heartbeat \d+ s ago; process \d+ is gone\)/);
    expect(dead.stdout).toMatch(/MASTER_LOOP\s+was running/);
    expect(dead.stdout).not.toMatch(/MASTER_LOOP\s+running/);
  }, 90_000);
});

describe('run', () => {
  it('stops cleanly on SIGHUP like SIGTERM: summary printed, exit 130 (interrupted before the end)', async () => {
    const { tmp, run } = await foreverRun();
    run.child.kill('SIGHUP');
    expect(await run.exited).toBe(130);
    expect(run.lines.join('\n')).toMatch(/Pipeline run \(profile standalone\) stopped by a signal/);
    // Stopped, not dead: it said so in the file.
    const status = await cli('status', '--db', tmp.path);
    expect(status.stdout).toMatch(/: stopped \d+ s ago \(stopped\)/);
  }, 60_000);

  it('a chain that ends in failure: each attempt logged at warn with its reason, the failures listed in the summary, exit 1', async () => {
    const tmp = temp();
    const config = join(tmp.dir, 'ringrift.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        workers: { training: { command: [process.execPath, join(jobs, 'fail.mjs')] } },
      }),
    );
    const result = await outcome(
      cliWith({ RINGRIFT_LOG_LEVEL: 'warn' })(
        'run',
        '--iterations',
        '1',
        '--configs',
        'hex8_2p',
        '--db',
        tmp.path,
        '--config',
        config,
        '--view',
        'log',
      ),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/finished with failures/);
    expect(result.stdout).toMatch(
      /failed \(1\):\n\s+TRAINING_FAILED hex8_2p: .*exited with code 3.*CUDA out of memory/,
    );
    const attempts = result.stderr
      .split('\n')
      .filter((l) => l.includes('job attempt'))
      .map((l) => JSON.parse(l));
    expect(attempts.map((a) => [a.level, a.attempt, a.retrying])).toEqual([
      [40, 1, true],
      [40, 2, true],
      [40, 3, false],
    ]);
    expect(attempts[0].error).toContain('CUDA out of memory');
  }, 60_000);

  it('without --db uses the library’s path rules ($RINGRIFT_COORDINATION_DIR), and creates directories 0700', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringrift-dir-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const home = join(dir, 'coordination', 'nested');
    const env = { RINGRIFT_COORDINATION_DIR: home, RINGRIFT_LOG_LEVEL: 'warn' };
    await cliWith(env)('run', '--iterations', '1', '--configs', 'hex8_2p', '--view', 'log');
    expect(statSync(join(home, 'events.db')).isFile()).toBe(true);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'coordination')).mode & 0o777).toBe(0o700);
    const status = await cliWith(env)('status');
    expect(status.stdout).toContain(`database: ${join(home, 'events.db')}`);
  }, 60_000);
});

describe('events publish', () => {
  it('takes the payload from a file (@FILE) or stdin (-): one argv string is limited to 128 KiB', async () => {
    const tmp = temp();
    const big = { host: 'gpu-9', note: 'x'.repeat(200_000) };
    const file = join(tmp.dir, 'payload.json');
    writeFileSync(file, JSON.stringify(big));
    const fromFile = await cli(
      'events',
      'publish',
      'HOST_ONLINE',
      '--payload',
      `@${file}`,
      '--db',
      tmp.path,
    );
    expect(fromFile.stdout).toMatch(/^published HOST_ONLINE /);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'events',
        'publish',
        'HOST_ONLINE',
        '--payload',
        '-',
        '--db',
        tmp.path,
      ],
      { cwd: root, env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn' } },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stdin.end(JSON.stringify({ host: 'gpu-10' }));
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    expect(stdout).toMatch(/^published HOST_ONLINE /);
    const tail = await cli(
      'events',
      'tail',
      '--type',
      'HOST_ONLINE',
      '--no-follow',
      '--db',
      tmp.path,
    );
    expect(tail.stdout).toContain('"host":"gpu-10"');
    expect(tail.stdout).toContain('"host":"gpu-9"');
  }, 60_000);
});

describe('dlq', () => {
  it('lists dead letters and replays them to the consumer that gave up', async () => {
    const tmp = temp();
    const log = openEventLog({ path: tmp.path, logger: pino({ level: 'silent' }) });
    const sub = await subscribeDurable(
      log,
      'PROMOTION',
      ['EVALUATION_COMPLETED'],
      () => {
        throw new Error('no win_rate');
      },
      { maxAttempts: 1, startAt: 'earliest' },
    );
    await cli(
      'events',
      'publish',
      'EVALUATION_COMPLETED',
      '--payload',
      '{"config_key":"hex8_2p","elo":1500,"games_played":10,"win_rate":0.5}',
      '--db',
      tmp.path,
    );
    await until(() => sub.stats().deadLettered === 1, 10_000, 'the dead letter');
    await sub.stop();
    await log.close();
    const listed = await cli('dlq', 'list', '--db', tmp.path);
    expect(listed.stdout).toMatch(
      /^\s+1 \S+ PROMOTION\s+EVALUATION_COMPLETED\s+attempts 1\s+Error: no win_rate\n$/,
    );
    expect((await cli('dlq', 'list', '--consumer', 'OTHER', '--db', tmp.path)).stdout).toBe(
      'no dead letters for OTHER\n',
    );
    const replayed = await cli('dlq', 'replay', '--consumer', 'PROMOTION', '--db', tmp.path);
    expect(replayed.stdout).toBe('replayed 1 dead letter to PROMOTION\n');
    expect((await cli('dlq', 'list', '--db', tmp.path)).stdout).toBe('no dead letters\n');
    expect((await cli('dlq', 'list', '--all', '--db', tmp.path)).stdout).toContain('(replayed)');
  }, 60_000);
});
