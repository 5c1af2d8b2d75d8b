import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectEventLog } from '../../src/index.js';
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
        "ringrift-coord: '--iterations' must be a whole number (got 'many')",
      ),
    });
    await expect(cli('run', '--bogus')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--bogus'"),
    });
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
