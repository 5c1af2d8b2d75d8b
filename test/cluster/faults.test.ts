import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { type NatsServer, natsUnavailable, startNats, startNatsCluster } from '../support/nats.js';
import {
  clusterScratch,
  duplicateIds,
  eventually,
  exitOf,
  type HostProcess,
  rowsOf,
  slowTrainingConfig,
  startHost,
  waitForLog,
} from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`cluster fault tests not run: ${unavailable}`);

/** Training requests a training host received, by job id (written by its bridge). */
function received(h: HostProcess) {
  return rowsOf(h.db, 'TRAINING_THRESHOLD_REACHED').filter((r) => r.via_cluster !== null);
}

/** Each job id trained (TRAINING_COMPLETED written by the host itself) on these hosts. */
function trainedTimes(hosts: readonly HostProcess[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const h of hosts)
    for (const r of rowsOf(h.db, 'TRAINING_COMPLETED'))
      if (r.via_cluster === null) {
        const id = r.payload.job_id as string;
        n.set(id, (n.get(id) ?? 0) + 1);
      }
  return n;
}

describe.skipIf(unavailable !== null)('cluster faults (real nats-server)', () => {
  const { hosts, servers, dir } = clusterScratch('ringrift-faults-');

  it('two coordinators: one leads; kill -9 of the leader, the other is elected within the lease TTL plus 5 s and the pipeline goes on, fenced', async () => {
    const nats = await startNats();
    servers.push(nats);
    const d = dir();
    const slow = slowTrainingConfig(d, 1_500);
    const b = startHost(d, 'b', nats.url, ['--profile', 'training_node', '--config', slow]);
    hosts.push(b);
    await waitForLog(b, /serving the coordinator/);
    const coordinator = ['--profile', 'coordinator', '--iterations', '2', '--configs', 'hex8_2p'];
    const a1 = startHost(d, 'a1', nats.url, coordinator);
    hosts.push(a1);
    await waitForLog(a1, /this runtime leads the cluster/);
    const a2 = startHost(d, 'a2', nats.url, coordinator);
    hosts.push(a2);
    await waitForLog(a2, /running 2 iterations/);
    // a1 leads: a2's MasterLoop is held. Kill a1 once b trains for it.
    await eventually(() => received(b).length > 0, 30_000, 'b to receive a1 work');
    expect(a2.fixture.stderr()).not.toMatch(/this runtime leads the cluster/);
    a1.fixture.child.kill('SIGKILL');
    const killedAt = Date.now() / 1000;
    const elected = await eventually(
      () =>
        rowsOf(a2.db, 'LEADER_ELECTED').find(
          (r) => r.payload.leader_id === 'a2' && r.via_cluster === null,
        ),
      30_000,
      'LEADER_ELECTED for a2',
    );
    expect(elected.created_at - killedAt).toBeLessThan(9 + 5); // lease TTL 9 s, plus 5 s
    expect(await exitOf(a2, 60_000, [b]), a2.fixture.stderr().slice(-2000)).toBe(0);

    // Fencing: the work b took came from one leader at a time: a1's before a2 was elected, a2's
    // (with a newer token) after; none of a1's after a2's election.
    const token = elected.payload.term as number;
    for (const r of received(b)) {
      const fromA2 = r.hostname === 'a2';
      if (fromA2) expect(r.payload.leader_token).toBe(token);
      else expect(r.created_at).toBeLessThan(elected.created_at);
      if (fromA2) expect(r.created_at).toBeGreaterThanOrEqual(elected.created_at - 0.01);
    }
    expect(received(b).some((r) => r.hostname === 'a2')).toBe(true);
    for (const h of [a2, b]) expect(duplicateIds(h.db), h.name).toEqual([]);
  }, 120_000);

  it('the NATS server stopped for 10 s mid-run and started again on its store: every envelope once in each file, every job trained once, the run completes', async () => {
    const nats = await startNats();
    servers.push(nats);
    const d = dir();
    const slow = slowTrainingConfig(d, 1_000);
    const b = startHost(d, 'b', nats.url, ['--profile', 'training_node', '--config', slow]);
    const c = startHost(d, 'c', nats.url, ['--profile', 'training_node', '--config', slow]);
    hosts.push(b, c);
    await waitForLog(b, /serving the coordinator/);
    await waitForLog(c, /serving the coordinator/);
    const a = startHost(d, 'a', nats.url, ['--profile', 'coordinator', '--iterations', '3']);
    hosts.push(a);
    await eventually(
      () => received(b).length + received(c).length > 0,
      30_000,
      'work to reach b or c',
    );
    await nats.stop();
    await new Promise((r) => setTimeout(r, 10_000));
    await nats.start();
    expect(await exitOf(a, 90_000, [b, c]), a.fixture.stderr().slice(-2000)).toBe(0);
    expect(a.fixture.stderr()).toMatch(/NATS connection lost/);
    expect(a.fixture.stderr()).toMatch(/NATS connection restored/);

    for (const h of [a, b, c]) expect(duplicateIds(h.db), h.name).toEqual([]);
    const trained = trainedTimes([b, c]);
    const asked = new Set(
      rowsOf(a.db, 'TRAINING_THRESHOLD_REACHED')
        .filter((r) => typeof r.payload.job_id === 'string')
        .map((r) => r.payload.job_id as string),
    );
    expect(asked.size).toBeGreaterThan(0);
    for (const job of asked) expect(trained.get(job), `job ${job}`).toBe(1);
    // Every answer b and c sent reached a, once.
    const answers = (h: HostProcess) =>
      rowsOf(h.db, 'TRAINING_COMPLETED')
        .filter((r) => r.via_cluster === null)
        .map((r) => r.envelope_id);
    const atA = new Set(rowsOf(a.db, 'TRAINING_COMPLETED').map((r) => r.envelope_id));
    for (const id of [...answers(b), ...answers(c)]) expect(atA.has(id), id).toBe(true);
  }, 150_000);

  it('a 3-server NATS cluster with a 3-replica stream: kill -9 of the stream leader, publishing resumes, nothing lost or handled twice', async () => {
    const cluster = await startNatsCluster();
    servers.push(...cluster);
    const urls = cluster.map((s) => s.url).join(',');
    const d = dir();
    const env = { RINGRIFT_NATS_REPLICAS: '3' };
    const slow = slowTrainingConfig(d, 800);
    const b = startHost(d, 'b', urls, ['--profile', 'training_node', '--config', slow], env);
    hosts.push(b);
    await waitForLog(b, /serving the coordinator/, 40_000);
    const a = startHost(d, 'a', urls, ['--profile', 'coordinator', '--iterations', '3'], env);
    hosts.push(a);
    await eventually(() => received(b).length > 0, 40_000, 'work to reach b');
    const nc = await connect({ servers: cluster.map((s) => s.url) });
    const info = await (await jetstreamManager(nc)).streams.info('RINGRIFT_ringrift');
    await nc.close();
    expect(info.config.num_replicas).toBe(3);
    const leader = cluster.find(
      (s) =>
        `n${s.port}` === info.cluster?.leader ||
        info.cluster?.leader === `s${cluster.indexOf(s) + 1}`,
    );
    expect(leader, `stream leader ${info.cluster?.leader}`).toBeDefined();
    await (leader as NatsServer).kill();
    expect(await exitOf(a, 120_000, [b]), a.fixture.stderr().slice(-2000)).toBe(0);
    for (const h of [a, b]) expect(duplicateIds(h.db), h.name).toEqual([]);
    const trained = trainedTimes([b]);
    const asked = rowsOf(a.db, 'TRAINING_THRESHOLD_REACHED').filter(
      (r) => typeof r.payload.job_id === 'string',
    );
    for (const r of asked) expect(trained.get(r.payload.job_id as string)).toBe(1);
    const sentByB = rowsOf(b.db, 'TRAINING_COMPLETED').filter((r) => r.via_cluster === null);
    const atA = new Set(rowsOf(a.db, 'TRAINING_COMPLETED').map((r) => r.envelope_id));
    for (const r of sentByB) expect(atA.has(r.envelope_id)).toBe(true);
  }, 180_000);
});
