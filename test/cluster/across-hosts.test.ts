/**
 * The runtime across hosts, on real nats-server processes: each host is its own `run` process
 * with its own directory, SQLite file and `--host`. What each host handled is read from its file
 * afterwards: the file is the only place an event reaches the host's daemons.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NatsServer, natsUnavailable, startNats, tempDir } from '../support/nats.js';
import { runCli } from '../support/processes.js';
import {
  duplicateIds,
  eventually,
  type HostProcess,
  killAll,
  rowsOf,
  slowTrainingConfig,
  snapshotOf,
  startHost,
  waitForLog,
} from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`cluster tests not run: ${unavailable}`);

/** The assigned training requests of a coordinator's file: job id -> target host(s). */
function assignments(db: string): Map<string, string[]> {
  const jobs = new Map<string, string[]>();
  for (const r of rowsOf(db, 'TRAINING_THRESHOLD_REACHED')) {
    if (typeof r.payload.target_host !== 'string' || r.via_cluster !== null) continue;
    const id = r.payload.job_id as string;
    jobs.set(id, [...(jobs.get(id) ?? []), r.payload.target_host]);
  }
  return jobs;
}

/** TRAINING_COMPLETED written by each training host itself, by job id. */
function trainedJobs(hosts: readonly HostProcess[]): Map<string, string[]> {
  const trained = new Map<string, string[]>();
  for (const h of hosts)
    for (const r of rowsOf(h.db, 'TRAINING_COMPLETED')) {
      if (r.via_cluster !== null) continue;
      const id = r.payload.job_id as string;
      trained.set(id, [...(trained.get(id) ?? []), h.name]);
    }
  return trained;
}

describe.skipIf(unavailable !== null)('across hosts (real nats-server)', () => {
  let nats: NatsServer;
  let dir: string;
  const hosts: HostProcess[] = [];

  beforeEach(async () => {
    nats = await startNats();
    dir = tempDir('ringrift-cluster-');
  });

  afterEach(async () => {
    await killAll(hosts.splice(0));
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a coordinator on a and training nodes on b and c: every request trained exactly once, on b or c; sync and distribution name b and c', async () => {
    const b = startHost(dir, 'b', nats.url, ['--profile', 'training_node']);
    const c = startHost(dir, 'c', nats.url, ['--profile', 'training_node']);
    hosts.push(b, c);
    await waitForLog(b, /serving the coordinator/);
    await waitForLog(c, /serving the coordinator/);
    const a = startHost(dir, 'a', nats.url, ['--profile', 'coordinator', '--iterations', '3']);
    hosts.push(a);
    expect(await a.fixture.exited, a.fixture.stderr()).toBe(0);

    const jobs = assignments(a.db);
    expect(jobs.size, a.fixture.stderr().slice(-3000)).toBeGreaterThan(0);
    const trained = trainedJobs([b, c]);
    for (const [job, targets] of jobs) {
      expect(targets, job).toHaveLength(1); // nobody went away: no reassignment
      expect(trained.get(job), `job ${job}`).toEqual(targets);
    }
    expect([...trained.keys()].sort()).toEqual([...jobs.keys()].sort());
    expect(new Set([...jobs.values()].flat())).toEqual(new Set(['b', 'c'])); // both got work

    const online = new Set(rowsOf(a.db, 'HOST_ONLINE').map((r) => r.payload.host));
    expect(online).toEqual(new Set(['a', 'b', 'c']));
    for (const r of rowsOf(a.db, 'DATA_SYNC_COMPLETED'))
      expect(r.payload.target_hosts).toEqual(['b', 'c']);
    const distributions = rowsOf(a.db, 'MODEL_DISTRIBUTION_COMPLETE');
    expect(distributions.length).toBeGreaterThan(0);
    for (const r of distributions) expect(r.payload.hosts).toEqual(['b', 'c']);
    // Answers reached the coordinator's file once each; nothing came back to its sender.
    for (const h of [a, b, c]) expect(duplicateIds(h.db), h.name).toEqual([]);
    for (const h of [b, c])
      expect(
        rowsOf(h.db).filter((r) => r.via_cluster === h.name),
        h.name,
      ).toEqual([]);
  }, 90_000);

  it('two processes of one host share its file: one runs the bridge, the other stands by and takes it over when the first is killed -9', async () => {
    const coordinator = startHost(dir, 'a', nats.url, ['--profile', 'coordinator', '--forever']);
    hosts.push(coordinator);
    await waitForLog(coordinator, /this runtime runs the host's cluster bridge/);
    await waitForLog(coordinator, /running forever/);
    const trainer = startHost(dir, 'a', nats.url, ['--profile', 'training_node']);
    hosts.push(trainer);
    await waitForLog(trainer, /serving the coordinator/);
    expect(trainer.fixture.stderr()).not.toMatch(/runs the host's cluster bridge/);
    const profileOfA = async () => {
      const { stdout } = await runCli('cluster', 'status', '--nats', nats.url);
      return /^ {2}a +seen .* profile (\S+)/m.exec(stdout)?.[1] ?? null;
    };
    expect(await profileOfA()).toBe('coordinator');
    coordinator.fixture.child.kill('SIGKILL');
    // The standby checks the lease every 3 s; the dead holder's PID frees it at once.
    await waitForLog(trainer, /this runtime runs the host's cluster bridge/, 10_000);
    await eventually(
      async () => (await profileOfA()) === 'training_node',
      15_000,
      'a announced by the training node',
    );
    const { stdout } = await runCli('status', '--db', trainer.db);
    expect(stdout).toMatch(/bridge: runtime training_node@a/);
  }, 90_000);

  it('b of two hosts stops: on a, CLUSTER_HEALTH finds half the cluster gone (a critical alert logged) and healthy again once b recovers; LEADERSHIP_COORDINATOR holds a as leader', async () => {
    const b = startHost(dir, 'b', nats.url, ['--profile', 'training_node']);
    hosts.push(b);
    await waitForLog(b, /serving the coordinator/);
    const a = startHost(dir, 'a', nats.url, [
      '--profile',
      'coordinator',
      // More than it will get through: the test stops it.
      '--iterations',
      '1000',
      '--configs',
      'hex8_2p',
    ]);
    hosts.push(a);
    await eventually(
      () => rowsOf(a.db, 'HOST_ONLINE').some((r) => r.payload.host === 'b'),
      30_000,
      'HOST_ONLINE for b on a',
    );
    // A clean stop deletes b's presence key: a sees it gone at once. (CLUSTER_HEALTH's own
    // events stay in a's process; its alert is in a's log, its state in its snapshot.)
    b.fixture.child.kill('SIGTERM');
    expect(await b.fixture.exited).toBe(0);
    await waitForLog(a, /ALERT \(critical\) 1 of 2 hosts offline: b/, 15_000);
    const again = startHost(dir, 'b', nats.url, ['--profile', 'training_node']);
    hosts.push(again);
    await eventually(
      () => rowsOf(a.db, 'NODE_RECOVERED').some((r) => r.payload.node_id === 'b'),
      30_000,
      'NODE_RECOVERED for b on a',
    );
    a.fixture.child.kill('SIGTERM');
    await a.fixture.exited;
    const health = snapshotOf(a.db, 'CLUSTER_HEALTH') as {
      value: string;
      context: { hosts: Record<string, boolean> };
    };
    expect([health.value, health.context.hosts]).toEqual(['healthy', { a: true, b: true }]);
    const leadership = snapshotOf(a.db, 'LEADERSHIP_COORDINATOR') as {
      context: { leader: string; members: Record<string, string> };
    };
    expect(leadership.context.leader).toBe('a');
    expect(leadership.context.members).toMatchObject({ a: 'online', b: 'online' });
  }, 90_000);

  it('kill -9 of b mid-training: HOST_OFFLINE for b on a within the TTL plus a sweep, the job retrained on c with the same job id, NODE_RECOVERED when b returns', async () => {
    const slow = slowTrainingConfig(dir, 2_500);
    const b = startHost(dir, 'b', nats.url, ['--profile', 'training_node', '--config', slow]);
    hosts.push(b);
    await waitForLog(b, /serving the coordinator/);
    const c = startHost(dir, 'c', nats.url, ['--profile', 'training_node', '--config', slow]);
    hosts.push(c);
    await waitForLog(c, /serving the coordinator/);
    const a = startHost(dir, 'a', nats.url, [
      '--profile',
      'coordinator',
      '--iterations',
      '2',
      '--configs',
      'hex8_2p',
    ]);
    hosts.push(a);
    // The first job goes to b (fewest jobs, then name): kill it while it trains.
    await eventually(
      () => rowsOf(b.db, 'TRAINING_STARTED').length > 0,
      30_000,
      'b to start training',
    );
    b.fixture.child.kill('SIGKILL');
    const killedAt = Date.now() / 1000;
    const offline = await eventually(
      () => rowsOf(a.db, 'HOST_OFFLINE').find((r) => r.payload.host === 'b'),
      20_000,
      'HOST_OFFLINE for b on a',
    );
    // Presence TTL 10 s, sweep 1 s (plus the file's poll and a slow machine's slack).
    expect(offline.created_at - killedAt).toBeLessThan(10 + 1 + 2);
    const job = [...assignments(a.db)].find(([, targets]) => targets[0] === 'b');
    expect(job, 'a job first assigned to b').toBeDefined();
    const [jobId] = job as [string, string[]];
    await eventually(
      () => assignments(a.db).get(jobId)?.includes('c'),
      10_000,
      'the job reassigned to c',
    );
    expect(await a.fixture.exited, a.fixture.stderr()).toBe(0);
    expect(trainedJobs([c]).get(jobId)).toEqual(['c']);

    const again = startHost(dir, 'b', nats.url, ['--profile', 'training_node', '--config', slow]);
    hosts.push(again);
    const recovered = await eventually(
      () => rowsOf(c.db, 'NODE_RECOVERED').find((r) => r.payload.node_id === 'b'),
      20_000,
      'NODE_RECOVERED for b (seen on c)',
    );
    expect(recovered.payload.previous_incarnation).not.toEqual(recovered.payload.incarnation);
  }, 120_000);
});
