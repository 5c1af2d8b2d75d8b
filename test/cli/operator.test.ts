import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPipelineWiring } from '../../src/cli/inspect-commands.js';
import { createSimulatedWorker } from '../../src/index.js';
import { createPipelineDaemons, PIPELINE_PROFILES } from '../../src/pipeline/pipeline-daemons.js';
import { runCli as cli } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb;
/** What the run wrote to stderr (warnings and errors): a failure below quotes it. */
let runStderr = '';
beforeAll(async () => {
  tmp = tempDb();
  // Without simulated hosts, whose filler batches (IDLE_RESOURCE) may still be on their way
  // through sync and export when the iteration ends: the pipeline's last stage would vary.
  const run = await cli(
    'run',
    '--iterations',
    '1',
    '--configs',
    'hex8_2p',
    '--simulated-hosts',
    '0',
    '--db',
    tmp.path,
  );
  runStderr = run.stderr;
}, 60_000);
afterAll(() => tmp.cleanup());

/** The file's events other than daemon status, a line each: the run's course, for a failure. */
function eventsOf(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare(
        "SELECT event_id, event_type, source, created_at FROM events WHERE event_type NOT LIKE 'DAEMON_%' ORDER BY event_id",
      )
      .all() as { event_id: number; event_type: string; source: string; created_at: number }[];
    return rows
      .map((r) => `${r.event_id} ${r.created_at.toFixed(3)} ${r.source} ${r.event_type}`)
      .join('\n');
  } finally {
    db.close();
  }
}

describe('operator commands', () => {
  it('status reads daemon states, machine states, pipeline stages, consumers and dead letters from the file', async () => {
    const { stdout } = await cli('status', '--db', tmp.path);
    // Seen twice in CI and never here: EVALUATION's snapshot 'working' after the run. The
    // message carries what the run said and the whole status, so the next sighting says why.
    const why = `status:\n${stdout}\nrun stderr:\n${runStderr.slice(-3000)}\nevents:\n${eventsOf(tmp.path)}`;
    expect(stdout, why).toContain(`database: ${tmp.path}`);
    expect(stdout, why).toMatch(/MASTER_LOOP\s+stopped\s+snapshot iterating\.waiting\s+restarts 0/);
    expect(stdout, why).toMatch(/EVALUATION\s+stopped\s+snapshot idle/);
    // The DATA_PIPELINE's stage per config, from its snapshot.
    expect(stdout, why).toMatch(/pipeline stages: hex8_2p (trained|promotion_failed)\n/);
    expect(stdout, why).toMatch(/FEEDBACK_LOOP\s+lag 0 /);
    expect(stdout, why).toContain('dead letters: 0 (0 not replayed)');
  });

  it('events publish validates, and events tail shows what was published', async () => {
    const published = await cli(
      'events',
      'publish',
      'host_online',
      '--payload',
      '{"host":"gpu-9"}',
      '--db',
      tmp.path,
    );
    expect(published.stdout).toMatch(/^published HOST_ONLINE \S+-1\n$/);
    await expect(
      cli('events', 'publish', 'HOST_ONLINE', '--payload', '{}', '--db', tmp.path),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "event 'HOST_ONLINE' payload is invalid: 'host': required (missing)",
      ),
    });
    const { stdout } = await cli(
      'events',
      'tail',
      '--type',
      'HOST_ONLINE',
      '--no-follow',
      '--db',
      tmp.path,
    );
    // The run before published this host's presence (local presence).
    const tailed = stdout.trim().split('\n');
    expect(tailed.filter((l) => l.includes('{"host":"gpu-9"'))).toHaveLength(1);
    expect(tailed.at(-1)).toContain('{"host":"gpu-9"');
  });

  it("wiring check prints the guide's 35 rows, all wired, and exits 0; no subscription lacks an emitter", async () => {
    const { stdout } = await cli('wiring', 'check');
    expect(stdout).toContain(
      `profile: standalone; daemons: ${PIPELINE_PROFILES.standalone.length}; guide table rows: 35`,
    );
    expect(stdout).not.toContain('GAP:');
    const table = stdout.split('\n').filter((l) => /^ {4}[A-Z_]+ +\| /.test(l));
    expect(table).toHaveLength(35);
    expect(stdout).toMatch(
      /TRAINING_COMPLETED +\| TrainingCoordinator \(CONTINUOUS_TRAINING_LOOP\): wired -> FeedbackLoop \(FEEDBACK_LOOP\): wired; DataPipeline \(DATA_PIPELINE\): wired; ModelDistribution \(MODEL_DISTRIBUTION\): deviation - /,
    );
    expect(stdout).toMatch(
      /DATA_SYNC_COMPLETED +\| P2POrchestrator \(AUTO_SYNC\): wired; SyncPlanner \(SYNC_PLANNER\): wired/,
    );
    // A component a daemon built for another role plays, with why.
    expect(stdout).toMatch(
      /TASK_ABANDONED +\| JobManager \(SELFPLAY_COORDINATOR\): wired - SELFPLAY_COORDINATOR plays it for selfplay: /,
    );
    expect(stdout).not.toContain(': MISSING');
    expect(stdout).toContain(
      'guide: 35 of 35 rows wired (deviations included); 0 component(s) missing',
    );
    expect(stdout.trim().endsWith('wiring: ok')).toBe(true);
    const split = await cli('wiring', 'check', '--profile', 'training_node');
    expect(split.stdout).toContain(
      'cross-process in: TRAINING_THRESHOLD_REACHED comes from the other process',
    );
    expect(split.stdout).toContain(
      'cross-process out: TRAINING_COMPLETED goes to the other process',
    );
    // The coordinator's daemons are in the other process, not missing.
    expect(split.stdout).toMatch(
      /FeedbackLoop \(FEEDBACK_LOOP\): other process - built, not in this profile/,
    );
    expect(split.stdout).not.toContain('GAP:');
  });

  it('wiring check names a gap, a local event consumed in the other process included', () => {
    const pipeline = () =>
      createPipelineDaemons({
        worker: createSimulatedWorker(),
        masterLoop: { configs: ['x'], iterations: 1, gamesPerBatch: 1 },
      });
    const lines: string[] = [];
    // The training node would need DATA_PIPELINE's NEW_GAMES_AVAILABLE, which stays in its process.
    const reaching = pipeline().map((d) =>
      d.type === 'CONTINUOUS_TRAINING_LOOP'
        ? { ...d, subscribes: [...d.subscribes, 'NEW_GAMES_AVAILABLE'] }
        : d,
    );
    const missingIn = (profile: 'training_node' | 'standalone') => {
      const quiet: string[] = [];
      checkPipelineWiring((l) => quiet.push(l), profile, pipeline());
      return (quiet.join('\n').match(/: MISSING/g) ?? []).length;
    };
    // One gap on top of the guide components this profile does not build.
    expect(checkPipelineWiring((l) => lines.push(l), 'training_node', reaching)).toBe(
      1 + missingIn('training_node'),
    );
    expect(lines).toContain(
      'GAP: NEW_GAMES_AVAILABLE: subscribed to here, emitted only in the other process, and it does not cross processes',
    );
    lines.length = 0;
    // Standalone, a subscription nobody emits.
    const orphan = pipeline().map((d) =>
      d.type === 'EVALUATION' ? { ...d, subscribes: [...d.subscribes, 'CMAES_TRIGGERED'] } : d,
    );
    expect(checkPipelineWiring((l) => lines.push(l), 'standalone', orphan)).toBe(
      1 + missingIn('standalone'),
    );
    expect(lines).toContain('GAP: CMAES_TRIGGERED: subscribed to, but no daemon emits it');
    // Every guide component is built: the gap is the only problem.
    expect(missingIn('standalone')).toBe(0);
    expect(lines.at(-1)).toBe('wiring: 1 gap(s)');
  });

  it("wiring check holds the daemons to the guide's rows, reasons given where they deviate", () => {
    const pipeline = createPipelineDaemons({
      worker: createSimulatedWorker(),
      masterLoop: { configs: ['x'], iterations: 1, gamesPerBatch: 1 },
    });
    const lines: string[] = [];
    const missing = checkPipelineWiring((l) => lines.push(l), 'standalone', pipeline);
    expect(lines.filter((l) => l.startsWith('GAP:'))).toEqual([]);
    expect(missing).toBe((lines.join('\n').match(/: MISSING/g) ?? []).length);
    expect(lines).toContain(
      'deviation: TRAINING_COMPLETED: ModelDistribution (MODEL_DISTRIBUTION) does not subscribe to it: a model is copied to the cluster on MODEL_PROMOTED, once the gate passed it; pre-staging candidates is not built',
    );
    // A row whose emitter is not in the set is listed, not failed.
    const withoutController = pipeline
      .filter((d) => d.type !== 'CURRICULUM_CONTROLLER')
      .map((d) =>
        d.type === 'DATA_PIPELINE'
          ? { ...d, subscribes: d.subscribes.filter((t) => t !== 'CURRICULUM_ADVANCED') }
          : d,
      );
    const idleLines: string[] = [];
    checkPipelineWiring((l) => idleLines.push(l), 'standalone', withoutController);
    expect(idleLines).toContain(
      'not wired: CURRICULUM_ADVANCED -> DataPipeline (DATA_PIPELINE): nothing here emits it (CurriculumController not built)',
    );
    // The cluster member plays the P2POrchestrator's presence and leadership rows.
    expect(lines).toContain(
      '    LEADER_ELECTED             | P2POrchestrator (cluster member): wired -> LeadershipCoordinator (LEADERSHIP_COORDINATOR): wired',
    );
    // The SelfplayScheduler must hear the DataPipelineOrchestrator's NEW_GAMES_AVAILABLE.
    const deaf = pipeline.map((d) =>
      d.type === 'SELFPLAY_COORDINATOR'
        ? { ...d, subscribes: d.subscribes.filter((t) => t !== 'NEW_GAMES_AVAILABLE') }
        : d,
    );
    lines.length = 0;
    // The deaf scheduler is a gap, and its NEW_GAMES_AVAILABLE cell turns missing too.
    expect(checkPipelineWiring((l) => lines.push(l), 'standalone', deaf)).toBe(1 + missing + 1);
    expect(lines).toContain(
      'GAP: guide: NEW_GAMES_AVAILABLE: SelfplayScheduler (SELFPLAY_COORDINATOR) does not subscribe to it',
    );
  });
});
