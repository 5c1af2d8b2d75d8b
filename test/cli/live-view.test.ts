import { describe, expect, it } from 'vitest';
import {
  type ConfigProgress,
  renderLiveView,
  STAGE_OF,
  trackProgress,
} from '../../src/cli/live-view.js';
import { runCli as cli } from '../support/processes.js';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9]*[A-Za-z]`, 'g');

describe('live view', () => {
  it('places each event in its config by config_key or, without one, by the chain it belongs to', () => {
    const configs: Record<string, ConfigProgress> = {};
    const see = (type: string, payload: Record<string, unknown>, correlationId: string | null) =>
      trackProgress(configs, { type: type as never, payload: payload as never, correlationId });
    see('SELFPLAY_TARGET_UPDATED', { config_key: 'a' }, 'iteration-1:a');
    see('MODEL_PROMOTED', { config_key: 'a' }, 'iteration-1:a');
    see('MODEL_DISTRIBUTION_COMPLETE', {}, 'iteration-1:a');
    see('TRAINING_FAILED', { config_key: 'b' }, 'iteration-2:b');
    // Not a pipeline stage, and an event that names no config: neither changes anything.
    see('DAEMON_STARTED', { config_key: 'a' }, null);
    see('MODEL_DISTRIBUTION_COMPLETE', {}, null);
    expect(configs).toEqual({
      a: { iteration: 1, stage: 'distributed', promotions: 1, rejections: 0, failures: 0 },
      b: { iteration: 2, stage: 'training failed', promotions: 0, rejections: 0, failures: 1 },
    });
  });

  it('renders the daemons and the configs as aligned rows', () => {
    const frame = renderLiveView({
      profile: 'coordinator',
      elapsedMs: 1234,
      iterations: { done: 1, of: 0 },
      events: 42,
      daemons: [
        { daemon: 'EVALUATION', state: 'running', activity: 'working', restarts: 2, rejections: 1 },
        { daemon: 'MASTER_LOOP', state: 'starting', activity: null, restarts: 0, rejections: 0 },
      ],
      configs: {
        b: { iteration: 1, stage: 'training', promotions: 0, rejections: 0, failures: 0 },
        a: { iteration: 1, stage: 'promoted', promotions: 1, rejections: 0, failures: 0 },
      },
    });
    expect(frame[0]).toBe(
      'ringrift-coord run · profile coordinator · 1.2 s · 42 events  iteration 1/∞',
    );
    expect(frame).toContain('  EVALUATION                running   working            2         1');
    expect(frame).toContain('  MASTER_LOOP               starting  -                  0         0');
    const rows = frame.slice(frame.findIndex((l) => l.includes('config')) + 1);
    // A long state widens its column rather than running into the next.
    const waiting = renderLiveView({
      profile: 'p',
      elapsedMs: 0,
      iterations: null,
      events: 0,
      daemons: [
        {
          daemon: 'A',
          state: 'waiting_for_dependencies',
          activity: null,
          restarts: 0,
          rejections: 0,
        },
      ],
      configs: {},
    });
    expect(waiting.at(-1)).toMatch(/^ {2}A {25}waiting_for_dependencies {2}- /);
    expect(rows.map((l) => l.trim().split(/\s+/)[0])).toEqual(['a', 'b']);
  });

  it("shows each config's share of selfplay once the curriculum set one, and the last alerts", () => {
    const configs: Record<string, ConfigProgress> = {};
    const see = (type: string, payload: Record<string, unknown>, correlationId: string | null) =>
      trackProgress(configs, { type: type as never, payload: payload as never, correlationId });
    see('SELFPLAY_TARGET_UPDATED', { config_key: 'a', target_games: 10 }, 'iteration-1:a');
    see(
      'SELFPLAY_ALLOCATION_UPDATED',
      { config_key: 'a', allocation_weights: { a: 0.667, b: 0.333 }, reason: 'x' },
      null,
    );
    const frame = renderLiveView({
      profile: 'standalone',
      elapsedMs: 0,
      iterations: null,
      events: 0,
      daemons: [],
      configs,
      alerts: ['one', 'two', 'three', 'four'].map((m, i) => ({
        severity: i === 3 ? 'critical' : 'warning',
        message: m,
      })),
    });
    const row = (config: string) => frame.find((l) => l.startsWith(`  ${config} `))?.trim();
    expect(row('a')).toMatch(/selfplay requested\s+0\s+0\s+0\s+67%$/);
    expect(row('b')).toMatch(/^b\s+0\s+-\s+0\s+0\s+0\s+33%$/);
    expect(frame.slice(-4)).toEqual([
      '  alerts (4; the last 3):',
      '    warning  two',
      '    warning  three',
      '    critical four',
    ]);
  });

  it('is drawn in place by `run --view live` and ends with the finished state', async () => {
    const { stdout } = await cli('run', '--iterations', '2', '--no-db', '--view', 'live');
    const frames = stdout.split(new RegExp(`${ESC}\\[\\d+F`));
    expect(frames.length).toBeGreaterThanOrEqual(2); // the first frame, redrawn at least at the end
    const last = (frames.at(-1) as string).replace(ANSI, '');
    expect(last).toMatch(/profile standalone · [\d.]+ s · \d+ events {2}iteration 2\/2/);
    expect(last).toMatch(/MASTER_LOOP\s+stopped/);
    // Each config's row is at the last iteration, with both of its chains ended (promoted or
    // rejected). Its stage is the config's latest event, which is an end only when no idle-GPU
    // batch of it was still in flight at the stop: that depends on the machine's pace (a loaded CI
    // ended one run with a filler training of hex8_2p running), so any stage of the pipeline, and
    // work still running is named in the summary.
    for (const config of ['hex8_2p', 'square8_2p']) {
      const row = last.split('\n').find((l) => l.startsWith(`  ${config} `));
      const [, iteration, stage, promoted, rejected] =
        /^ {2}\S+\s+(\d+) {2}(.+?)\s+(\d+)\s+(\d+)\s+\d+\s+\S+$/.exec(row ?? '') ?? [];
      expect({ config, iteration, known: Object.values(STAGE_OF).includes(stage ?? '') }).toEqual({
        config,
        iteration: '2',
        known: true,
      });
      expect(Number(promoted) + Number(rejected)).toBeGreaterThanOrEqual(2);
      // A config whose latest event began a stage has that work running at the stop: the
      // summary names it, since its counts are of completed work only.
      const running = { training: 'training', evaluating: 'evaluation' }[stage ?? ''];
      if (running)
        expect(last).toMatch(
          new RegExp(`stopped in flight \\(\\d+, not counted above\\): .*${running} ${config} on `),
        );
    }
    expect(last).toContain('Pipeline run (profile standalone) finished');
  });

  it('is not drawn when the output is not a terminal and no view was asked for', async () => {
    const { stdout } = await cli('run', '--iterations', '1', '--no-db');
    expect(stdout).not.toContain(ESC);
    expect(stdout).toContain('iterations: 1');
  });
});
