/**
 * The long seeded run: `run --iterations 50 --configs hex8_2p,square8_2p,hex8_4p --seed 7`
 * on a SQLite file, in a real child process. The simulated world (regressions, poor batches,
 * partial syncs, failed repairs, network and training outages, preempted gauntlets, hosts coming
 * and going) exercises the guide's tables: every one of its events occurs, and the summary prints
 * each with its count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GUIDE_ROWS } from '../../src/events/guide-tables.js';
import { runCli } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

describe('the long seeded run', () => {
  it('50 iterations over three configs exercise the guide: the summary counts each of its events', async () => {
    tmp = tempDb();
    const args = [
      'run',
      '--iterations',
      '50',
      '--configs',
      'hex8_2p,square8_2p,hex8_4p',
      '--seed',
      '7',
      '--db',
      tmp.path,
      '--view',
      'log',
    ];
    // The world's outages fail some syncs and trainings for good: the run says it finished with
    // failures (exit 1), after every iteration.
    const { stdout, code } = await runCli(...args).then(
      (r) => ({ ...r, code: 0 }),
      (e: { stdout: string; code: number }) => e,
    );
    expect(stdout).toMatch(/Pipeline run \(profile standalone\) finished (with failures )?in /);
    expect(code).toBe(/finished with failures/.test(stdout) ? 1 : 0);
    expect(stdout).toContain('iterations: 50 (configs: hex8_2p, square8_2p, hex8_4p)');
    const guide = [...new Set(GUIDE_ROWS.map((r) => r.event))];
    const counts = Object.fromEntries(
      guide.map((t) => [t, Number(new RegExp(`^ {4}${t} +(\\d+)$`, 'm').exec(stdout)?.[1])]),
    );
    const seen = guide.filter((t) => (counts[t] ?? 0) > 0);
    const unseen = guide.filter((t) => !((counts[t] ?? 0) > 0));
    expect(stdout).toContain(`the guide's events: ${seen.length} of ${guide.length} seen`);
    console.log(
      `guide events seen: ${seen.length} of ${guide.length}; not seen: ${unseen.join(', ')}`,
    );
    expect(unseen).toEqual([]);
    expect(Number(/LEADER_ELECTED +(\d+)/.exec(stdout)?.[1])).toBeGreaterThan(1);
  }, 240_000);
});
