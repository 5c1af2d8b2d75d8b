/**
 * The pipeline split across two OS processes that share one SQLite file: `run --profile
 * training_node` (the training) and `run --profile coordinator` (everything else, the MasterLoop
 * included). The flows' events cross between them through the event log, in the guide's order and
 * with its causality; each MasterLoop-less or foreign ALL_CRITICAL_DAEMONS_READY is ignored.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { printStatus } from '../../src/cli/inspect-commands.js';
import { until } from '../support/log.js';
import { type Fixture, runCli, startFixture } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

interface Row {
  event_id: number;
  event_type: string;
  payload: string;
  origin_pid: number;
  envelope_id: string;
  trace_id: string;
  correlation_id: string | null;
  parent_id: string | null;
}

let tmp: TempDb | null = null;
const fixtures: Fixture[] = [];
/** Starts `ringrift-coord` with `args`; whatever is still running after the test is killed. */
function startCli(args: string[]): Fixture {
  const fixture = startFixture('src/cli/main', args);
  fixtures.push(fixture);
  return fixture;
}
/** Job processes a SIGKILLed runtime could not stop (nothing can, from inside it). */
const orphans: number[] = [];
const jobs = new URL('../fixtures/jobs/', import.meta.url).pathname;
afterEach(() => {
  for (const f of fixtures.splice(0)) f.child.kill('SIGKILL');
  for (const pid of orphans.splice(0)) {
    // 0, -1 and 1 would signal this runner's process group, every process, or init.
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`not an orphan's pid: ${pid}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  tmp?.cleanup();
  tmp = null;
});

const rows = (path: string): Row[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT event_id, event_type, payload, origin_pid, envelope_id, trace_id, correlation_id, parent_id FROM events ORDER BY event_id',
      )
      .all() as Row[];
  } finally {
    db.close();
  }
};
const typed = (all: Row[], type: string) => all.filter((r) => r.event_type === type);
/** The state the training loop's last snapshot holds. */
const trainingSnapshot = (path: string): unknown => {
  const db = new Database(path, { readonly: true });
  try {
    const row = db
      .prepare("SELECT snapshot FROM actor_snapshots WHERE actor_id = 'CONTINUOUS_TRAINING_LOOP'")
      .get() as { snapshot: string } | undefined;
    return row ? JSON.parse(row.snapshot).value : undefined;
  } finally {
    db.close();
  }
};
/**
 * Waits for a node to serve: its training loop holds its durable consumer in the file (from then
 * on, a training request written to the log waits for it). A node that exits or stays silent
 * fails the test with what it wrote.
 */
async function nodeUp(node: Fixture, db: string): Promise<void> {
  const pid = node.child.pid as number;
  const started = Date.now();
  while (consumerOwner(db, 'CONTINUOUS_TRAINING_LOOP') !== pid) {
    if (node.child.exitCode !== null || node.child.signalCode !== null)
      throw new Error(`the training node exited before it served:\n${node.stderr()}`);
    if (Date.now() - started > 60_000)
      throw new Error(`the training node did not serve within 60 s:\n${node.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pid of the process that holds a durable consumer, if any. */
function consumerOwner(path: string, name: string): number | null {
  if (!existsSync(path)) return null;
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT owner_pid FROM consumers WHERE name = ?').get(name) as
      | { owner_pid: number | null }
      | undefined;
    return row?.owner_pid ?? null;
  } catch (error) {
    // The file exists a moment before the node's migration created the table.
    if (/no such table/.test((error as Error).message)) return null;
    throw error;
  } finally {
    db.close();
  }
}

describe('the pipeline split into a coordinator and a training-node process', () => {
  it('trains on the node, judges and distributes on the coordinator, through the shared file', async () => {
    tmp = tempDb();
    const db = tmp.path;
    const node = startCli(['run', '--profile', 'training_node', '--db', db]);
    const nodePid = node.child.pid as number;
    await nodeUp(node, db);

    const coordinator = startCli([
      'run',
      '--profile',
      'coordinator',
      '--iterations',
      '2',
      '--configs',
      'hex8_2p,square8_2p',
      '--db',
      db,
    ]);
    const coordinatorPid = coordinator.child.pid as number;
    await coordinator.waitFor(/iterations: 2 \(configs: hex8_2p, square8_2p\)/, 60_000);
    expect(await coordinator.exited).toBe(0);
    expect(coordinator.lines.join('\n')).toMatch(/trainings: 4\n/);

    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    const nodeOut = node.lines.join('\n');
    expect(nodeOut).toMatch(/Pipeline run \(profile training_node\) stopped by a signal/);
    expect(nodeOut).toMatch(/TRAINING_STARTED\s+4\n/);

    const all = rows(db);
    const requests = typed(all, 'TRAINING_THRESHOLD_REACHED');
    const trainings = typed(all, 'TRAINING_COMPLETED');
    expect(requests).toHaveLength(4);
    expect(trainings).toHaveLength(4);
    // Who did what: requests from the coordinator, training on the node, judging back home.
    expect(requests.every((r) => r.origin_pid === coordinatorPid)).toBe(true);
    expect(trainings.every((r) => r.origin_pid === nodePid)).toBe(true);
    for (const type of ['DATA_SYNC_COMPLETED', 'EVALUATION_COMPLETED', 'SELFPLAY_TARGET_UPDATED'])
      expect(
        typed(all, type).every((r) => r.origin_pid === coordinatorPid),
        type,
      ).toBe(true);

    // Causality across the processes: each training answers one request, in the same trace and
    // chain; its evaluation follows it; every chain of both iterations was trained once.
    const byId = new Map(all.map((r) => [r.envelope_id, r]));
    const chains = new Set<string>();
    for (const done of trainings) {
      const request = byId.get(done.parent_id as string);
      expect(request?.event_type).toBe('TRAINING_THRESHOLD_REACHED');
      expect(done.trace_id).toBe(request?.trace_id);
      expect(done.correlation_id).toBe(request?.correlation_id);
      expect(done.event_id).toBeGreaterThan(request?.event_id as number);
      const evaluation = typed(all, 'EVALUATION_COMPLETED').find(
        (e) => e.correlation_id === done.correlation_id,
      );
      expect(evaluation?.event_id).toBeGreaterThan(done.event_id);
      expect(evaluation?.trace_id).toBe(done.trace_id);
      chains.add(done.correlation_id as string);
    }
    expect([...chains].sort()).toEqual([
      'iteration-1:hex8_2p',
      'iteration-1:square8_2p',
      'iteration-2:hex8_2p',
      'iteration-2:square8_2p',
    ]);
    // Promotions follow their evaluation in the same chain, and reach the distribution.
    expect(typed(all, 'MODEL_PROMOTED').length).toBeGreaterThan(0);
    for (const promoted of typed(all, 'MODEL_PROMOTED')) {
      const evaluation = typed(all, 'EVALUATION_COMPLETED').find(
        (e) => e.correlation_id === promoted.correlation_id,
      );
      expect(promoted.parent_id).toBe(evaluation?.envelope_id);
    }
    expect(coordinator.lines.join('\n')).toMatch(
      new RegExp(`MODEL_DISTRIBUTION_COMPLETE\\s+${typed(all, 'MODEL_PROMOTED').length}\n`),
    );
    // `status` tells the two processes apart (both have an EVENT_ROUTER) and shows the durable
    // consumers of both, caught up.
    const { stdout: statusOut } = await runCli('status', '--db', db);
    const runtimeHeaders = statusOut.split('\n').filter((l) => l.startsWith('  runtime '));
    expect(runtimeHeaders).toHaveLength(2);
    // Each with its liveness: both stopped by now, and said so.
    expect(runtimeHeaders.some((l) => l.includes(`pid ${nodePid}: stopped`))).toBe(true);
    expect(runtimeHeaders.some((l) => l.includes(`pid ${coordinatorPid}: stopped`))).toBe(true);
    expect(statusOut.match(/ {4}EVENT_ROUTER\s+stopped/g)).toHaveLength(2);
    expect(statusOut).toMatch(/CONTINUOUS_TRAINING_LOOP\s+lag 0 /);
    expect(statusOut).toMatch(/FEEDBACK_LOOP\s+lag 0 /);
    // Only the most recently active runtimes are listed unless asked.
    const one: string[] = [];
    printStatus(db, (l) => one.push(l), 1);
    expect(one.filter((l) => l.startsWith('  runtime '))).toHaveLength(1);
    expect(one).toContain('  (1 older runtime not shown; --all shows them)');
    // The node's ALL_CRITICAL_DAEMONS_READY reached the coordinator, which did not start a
    // second loop on it: one request per config and iteration.
    expect(typed(all, 'SELFPLAY_TARGET_UPDATED')).toHaveLength(4);
  }, 180_000);

  it('a training node killed mid-training resumes that training when restarted; the iteration completes', async () => {
    tmp = tempDb();
    const db = tmp.path;
    const marker = join(tmp.dir, 'first-training.pid');
    const config = join(tmp.dir, 'ringrift.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        workers: {
          training: {
            command: [
              process.execPath,
              `${jobs}train-once.mjs`,
              marker,
              'models/{config_key}/gen1.pth',
            ],
          },
        },
      }),
    );
    const nodeArgs = ['run', '--profile', 'training_node', '--db', db, '--config', config];
    const first = startCli(nodeArgs);
    await nodeUp(first, db);
    const coordinator = startCli([
      'run',
      '--profile',
      'coordinator',
      '--iterations',
      '1',
      '--configs',
      'hex8_2p',
      '--db',
      db,
    ]);
    // The first training run hangs: kill -9 its node while it trains, once its snapshot says so.
    await until(() => existsSync(marker), 30_000, 'the first training run');
    await until(() => trainingSnapshot(db) === 'working', 10_000, 'the snapshot in working');
    const orphan = readFileSync(marker, 'utf8');
    expect(orphan).toMatch(/^\d+$/);
    orphans.push(Number(orphan));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startCli(nodeArgs);
    await coordinator.waitFor(/iterations: 1 \(configs: hex8_2p\)/, 60_000);
    expect(await coordinator.exited).toBe(0);
    expect(coordinator.lines.join('\n')).toMatch(/trainings: 1\n/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const all = rows(db);
    // Started by the first node; the second restored it in `working` from its snapshot, ran the
    // job again and said so.
    expect(typed(all, 'TRAINING_STARTED').map((r) => r.origin_pid)).toEqual([
      first.child.pid,
      second.child.pid,
    ]);
    const done = typed(all, 'TRAINING_COMPLETED');
    expect(done).toHaveLength(1);
    expect(done[0]?.origin_pid).toBe(second.child.pid);
    // Still the answer to the coordinator's request: same chain, same parent.
    const request = typed(all, 'TRAINING_THRESHOLD_REACHED')[0];
    expect(done[0]?.parent_id).toBe(request?.envelope_id);
    expect(done[0]?.correlation_id).toBe('iteration-1:hex8_2p');
  }, 180_000);

  it('refuses a second training node on the same file at once, naming the one that runs', async () => {
    tmp = tempDb();
    const db = tmp.path;
    const node = startCli(['run', '--profile', 'training_node', '--db', db]);
    await nodeUp(node, db);
    const second = startCli(['run', '--profile', 'training_node', '--db', db]);
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toMatch(
      new RegExp(
        `durable consumer 'CONTINUOUS_TRAINING_LOOP' is already running in [^:]+:${node.child.pid}:`,
      ),
    );
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
  }, 120_000);

  it('refuses a split profile without an event log, and iteration options on the training node', async () => {
    const refuse = async (args: string[], message: string) => {
      const f = startCli(['run', ...args]);
      expect(await f.exited).toBe(2);
      expect(f.stderr()).toContain(message);
    };
    await refuse(
      ['--profile', 'coordinator', '--no-db'],
      "'--db' must be a SQLite file for the coordinator profile",
    );
    await refuse(
      ['--profile', 'training_node', '--iterations', '2'],
      "'--iterations' must be left out with --profile training_node",
    );
    await refuse(
      ['--profile', 'gpu'],
      "'--profile' must be one of standalone, coordinator, training_node (got 'gpu')",
    );
  }, 30_000);
});
