import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { onDaemonFailedForGood } from '../../src/cli/run.js';
import { createRuntime, inspectEventLog } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';
import { runCli as cli } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let tmp: TempDb | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

describe('ringrift-coord run', () => {
  it('runs the pipeline for the iterations asked, on a SQLite file, and prints a summary', async () => {
    tmp = tempDb();
    const { stdout } = await cli(
      'run',
      '--iterations',
      '2',
      '--configs',
      'hex8_2p,sq19_4p',
      '--db',
      tmp.path,
      // Without simulated hosts: IDLE_RESOURCE fills an idle one with a batch of its own, whose
      // games would train more than the 4 runs the iterations ask for.
      '--simulated-hosts',
      '0',
    );
    expect(stdout).toMatch(/Pipeline run \(profile standalone\) finished in \d+\.\d\d s/);
    expect(stdout).toContain('iterations: 2 (configs: hex8_2p, sq19_4p)');
    expect(stdout).toMatch(/promotions: \d+ {2}rejections: \d+ {2}failures: 0/);
    expect(stdout).toMatch(/TRAINING_COMPLETED\s+4\n/);
    // Cross-process events went through the file.
    expect(inspectEventLog(tmp.path).events.count).toBeGreaterThan(20);
  });

  it('refuses bad options with a clear message', async () => {
    await expect(cli('run', '--iterations', 'many')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "ringrift-coord: '--iterations' must be a whole number of at least 1 (got 'many')",
      ),
    });
    await expect(cli('run', '--bogus')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--bogus'"),
    });
  });
});

describe('a daemon that fails for good ends the run', () => {
  it("reports each of its own runtime's daemons that failed for good, with the last error", async () => {
    const runtime = createRuntime({
      profile: ['STUCK'],
      daemons: [
        testDaemon('STUCK', {
          neverReady: true,
          startTimeoutMs: 20,
          backoff: { initialMs: 1, maxMs: 2, jitter: 0 },
          intensity: { maxRestarts: 1, periodMs: 60_000 },
        }),
      ],
      dbPath: false,
      logger: pino({ level: 'silent' }),
    });
    const failed: [string, string | null][] = [];
    onDaemonFailedForGood(runtime, (daemon, error) => failed.push([daemon, error]));
    // Another runtime's failure, seen through a shared log, is not this run's.
    runtime.router.deliverRemote({
      ...runtime.router.publish('HOST_ONLINE', { host: 'h' }),
      id: 'elsewhere-1',
      type: 'DAEMON_PERMANENTLY_FAILED',
      payload: {
        daemon_name: 'OTHER',
        hostname: 'h',
        restart_count: 6,
        requires_intervention: true,
      },
      origin: { host: 'h', pid: 1, runtimeId: 'elsewhere' },
    } as never);
    await runtime.start();
    await until(() => failed.length > 0, 5_000, 'the failure');
    expect(failed).toEqual([['STUCK', expect.stringMatching(/did not become ready within 20 ms/)]]);
    await runtime.stop();
  });
});

describe('npm start', () => {
  it('runs 3 iterations over two configs and exits 0 with the summary', async () => {
    const { stdout } = await run('npm', ['start', '--silent'], {
      cwd: root,
      env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    expect(stdout).toContain('iterations: 3 (configs: hex8_2p, square8_2p)');
    expect(stdout).toMatch(/Pipeline run \(profile standalone\) finished/);
  }, 120_000);
});
