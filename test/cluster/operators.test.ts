/**
 * The cluster from an operator's side, on real processes: bad input at the command line and on
 * the wire, a taken host name, an unreachable server at start, credentials that stay secret,
 * `status` and `cluster status`, and the outbox's bound while NATS is away (embedded).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  ClusterOutboxFullError,
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
} from '../../src/index.js';
import { memoryLogger } from '../support/memory-logger.js';
import { freePort, natsUnavailable, startNats } from '../support/nats.js';
import { cliWith, runCli, startFixture } from '../support/processes.js';
import {
  clusterScratch,
  eventually,
  type HostProcess,
  rowsOf,
  startHost,
  waitForLog,
} from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`cluster operator tests not run: ${unavailable}`);

const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );

/** A training node run that must be refused: its exit code and stderr (warnings silenced). */
const refusedRun = (db: string, args: readonly string[], env: Record<string, string> = {}) =>
  failure(
    cliWith({ RINGRIFT_LOG_LEVEL: 'error', ...env })(
      'run',
      '--profile',
      'training_node',
      '--db',
      db,
      ...args,
    ),
  );

describe.skipIf(unavailable !== null)('the cluster for operators (real nats-server)', () => {
  const { hosts, servers, dir } = clusterScratch('ringrift-ops-');
  /** A server and a training node `b` serving on it. */
  const serverAndTrainingNode = async () => {
    const nats = await startNats();
    servers.push(nats);
    const d = dir();
    const b = startHost(d, 'b', nats.url, ['--profile', 'training_node']);
    hosts.push(b);
    await waitForLog(b, /serving the coordinator/);
    return { nats, d, b };
  };

  it('bad cluster options are one line, exit 2: a malformed URL, --host without --nats, a bad replica count', async () => {
    const d = dir();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--nats', 'foo', '--host', 'x'], {}, /'cluster.servers' must be NATS URLs/],
      [['--nats', 'http://h:4222', '--host', 'x'], {}, /'cluster.servers' must be NATS URLs/],
      [['--host', 'x'], {}, /'--host' must be given with --nats/],
      [['--nats', 'nats://127.0.0.1:1'], {}, /'--host' must be this host's name/],
      [['--nats', 'nats://127.0.0.1:1', '--host', 'a b'], {}, /'cluster.host' must be a host name/],
      [
        ['--nats', 'nats://127.0.0.1:1', '--host', 'x'],
        { RINGRIFT_NATS_REPLICAS: '2' },
        /RINGRIFT_NATS_REPLICAS/,
      ],
    ];
    for (const [args, env, message] of cases) {
      const { code, stderr } = await refusedRun(join(d, 'x.db'), [...args], env);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr, args.join(' ')).toMatch(message);
    }
  }, 60_000);

  it('a --host that another live runtime holds (another file) is refused: one line, exit 2', async () => {
    const { nats, d } = await serverAndTrainingNode();
    const { code, stderr } = await refusedRun(join(d, 'other.db'), [
      '--nats',
      nats.url,
      '--host',
      'b',
    ]);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(
      /^ringrift-coord: host 'b' is already in the cluster \(runtime training_node@b/,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('an unreachable --nats at start: run starts degraded (local work goes on), status says so, and it joins once the server is up', async () => {
    const port = await freePort();
    const d = dir();
    const u = startHost(d, 'u', `nats://127.0.0.1:${port}`, ['--profile', 'training_node']);
    hosts.push(u);
    await waitForLog(u, /NATS unreachable; running degraded/);
    await waitForLog(u, /serving the coordinator/);
    const status = await eventually(
      async () => (await runCli('status', '--db', u.db)).stdout,
      10_000,
      'status',
    );
    expect(status).toMatch(/cluster: host u/);
    const degraded = await eventually(
      async () => {
        const out = (await runCli('status', '--db', u.db)).stdout;
        return /NATS: connecting/.test(out) ? out : null;
      },
      15_000,
      'status to show the degraded connection',
    );
    expect(degraded).toMatch(/outbox: 0 cross-host events/);
    const nats = await startNats({ port });
    servers.push(nats);
    await waitForLog(u, /connected to NATS/, 15_000);
    const cluster = await eventually(
      async () => {
        const out = (await runCli('cluster', 'status', '--nats', nats.url)).stdout;
        return /^ {2}u +seen/m.test(out) ? out : null;
      },
      15_000,
      'cluster status to list u',
    );
    expect(cluster).toMatch(/inbound consumers:\n {2}host_u/);
    expect(cluster).toMatch(/stream RINGRIFT_ringrift: \d+ messages/);
  }, 90_000);

  it('the cluster from the config file (flags and environment over it); a bad cluster key there is one line, exit 2', async () => {
    const nats = await startNats();
    servers.push(nats);
    const d = dir();
    const config = join(d, 'ringrift.config.json');
    writeFileSync(
      config,
      JSON.stringify({ cluster: { servers: [nats.url], host: 'f' }, workers: {} }),
    );
    const f = startFixture(
      'src/cli/main',
      [
        'run',
        '--profile',
        'training_node',
        '--db',
        join(d, 'f.db'),
        '--config',
        config,
        '--view',
        'log',
      ],
      { RINGRIFT_LOG_LEVEL: 'info' },
    );
    hosts.push({ name: 'f', db: join(d, 'f.db'), fixture: f });
    await waitForLog(hosts[0] as HostProcess, /serving the coordinator/);
    const out = await eventually(
      async () => {
        const o = (await runCli('cluster', 'status', '--nats', nats.url)).stdout;
        return /^ {2}f +seen/m.test(o) ? o : null;
      },
      15_000,
      'cluster status to list f',
    );
    expect(out).toMatch(/profile training_node/);
    const bad = join(d, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ cluster: { servers: [nats.url], hots: 'x' }, workers: {} }),
    );
    const { code, stderr } = await refusedRun(join(d, 'g.db'), ['--config', bad]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/cluster: Unrecognized key: "hots"/);
  }, 60_000);

  it('cluster status of an unreachable server: one line, exit 1', async () => {
    const port = await freePort();
    const { code, stderr } = await failure(
      runCli('cluster', 'status', '--nats', `nats://127.0.0.1:${port}`),
    );
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^ringrift-coord: NATS unreachable at nats:\/\/127\.0\.0\.1:\d+/);
  }, 30_000);

  it('credentials never reach a log line; wrong ones are refused at start (one line, exit 2)', async () => {
    const secret = 's3cr3t-token-value';
    const nats = await startNats({ token: secret });
    servers.push(nats);
    const d = dir();
    const ok = startHost(d, 't', nats.url, ['--profile', 'training_node'], {
      RINGRIFT_NATS_TOKEN: secret,
      RINGRIFT_LOG_LEVEL: 'debug',
    });
    hosts.push(ok);
    await waitForLog(ok, /serving the coordinator/);
    await waitForLog(ok, /"auth":"token"/);
    const { code, stderr } = await failure(
      runCli(
        'run',
        '--profile',
        'training_node',
        '--db',
        join(d, 'w.db'),
        '--nats',
        `nats://user:${secret}@127.0.0.1:${nats.port}`,
        '--host',
        'w',
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/refused the credentials/);
    expect(stderr).not.toContain(secret);
    expect(ok.fixture.stderr()).not.toContain(secret);
    expect(ok.fixture.lines.join('\n')).not.toContain(secret);
  }, 60_000);

  it('unreadable messages on the subject go to the host dead letters and nothing stops', async () => {
    const { nats, b } = await serverAndTrainingNode();
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    const subject = (t: string) => `ringrift.ringrift.events.${t}`;
    const row = (type: string, payload: unknown, id: string) =>
      JSON.stringify({
        event_type: type,
        payload: JSON.stringify(payload),
        source: 'test',
        hostname: 'z',
        created_at: Date.now() / 1000,
        envelope_id: id,
        origin_runtime: 'z-runtime',
        origin_pid: 1,
      });
    await js.publish(subject('TRAINING_COMPLETED'), 'this is not JSON', { msgID: 'bad-1' });
    await js.publish(subject('NO_SUCH_TYPE'), row('NO_SUCH_TYPE', {}, 'bad-2'), { msgID: 'bad-2' });
    await js.publish(
      subject('TRAINING_COMPLETED'),
      row('TRAINING_COMPLETED', { success: true }, 'bad-3'),
      {
        msgID: 'bad-3',
      },
    );
    // Then real work, addressed to b: it is trained.
    await js.publish(
      subject('TRAINING_THRESHOLD_REACHED'),
      row(
        'TRAINING_THRESHOLD_REACHED',
        { config_key: 'hex8_2p', games: 50, target_host: 'b', job_id: 'j1' },
        'good-1',
      ),
      { msgID: 'good-1' },
    );
    await nc.close();
    await eventually(
      () => rowsOf(b.db, 'TRAINING_COMPLETED').find((r) => r.payload.job_id === 'j1'),
      20_000,
      'b to train the good request',
    );
    const conn = new Database(b.db, { readonly: true });
    const letters = conn
      .prepare(
        "SELECT envelope_id, event_type, error FROM dead_letters WHERE consumer = 'cluster:host_b' ORDER BY id",
      )
      .all() as { envelope_id: string | null; event_type: string; error: string }[];
    conn.close();
    expect(
      letters.map((l) => l.error.replace(/^cluster message \d+ on \S+: /, '').split(':')[0]),
    ).toEqual(['not JSON', 'unknown-type', 'invalid-payload']);
    expect(letters[2]?.envelope_id).toBe('bad-3');
    const { stdout } = await runCli('dlq', 'list', '--db', b.db);
    expect(stdout).toMatch(/cluster:host_b/);
  }, 60_000);

  it('embedded: while NATS is away the outbox holds cross-host events up to its bound, then publish refuses (ClusterOutboxFullError); they drain once, in order, on reconnect', async () => {
    const nats = await startNats();
    servers.push(nats);
    const d = dir();
    const log = memoryLogger('info');
    const runtime = createRuntime({
      profile: ['EVENT_ROUTER'],
      daemons: createPipelineDaemons({ worker: createSimulatedWorker() }),
      dbPath: join(d, 'e.db'),
      logger: log.logger,
      isolatedRouter: true,
      cluster: { servers: [nats.url], host: 'e', maxOutbox: 5 },
    });
    try {
      await runtime.start();
      await eventually(() => runtime.status().cluster?.state === 'ok', 10_000, 'cluster ok');
      await nats.stop();
      await eventually(() => runtime.status().cluster?.state === 'degraded', 10_000, 'degraded');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(runtime.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' }).id);
      expect(() => runtime.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' })).toThrow(
        ClusterOutboxFullError,
      );
      // Local events are not held back.
      runtime.router.publish('TRAINING_PROGRESS', {});
      const status = runtime.status();
      expect(status.healthy).toBe(false);
      expect(status.cluster?.outbox).toBe(5);
      expect(status.cluster?.reason).toMatch(/NATS disconnected/);
      await nats.start();
      await eventually(
        () => runtime.status().cluster?.outbox === 0 && runtime.status().cluster?.state === 'ok',
        30_000,
        'the outbox to drain',
      );
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      const stored: string[] = [];
      const info = await jsm.streams.info('RINGRIFT_ringrift');
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('RINGRIFT_ringrift', { seq });
        if (!m) continue;
        const body = JSON.parse(new TextDecoder().decode(m.data)) as {
          envelope_id: string;
          event_type: string;
        };
        if (body.event_type === 'TRAINING_STARTED') stored.push(body.envelope_id);
      }
      await nc.close();
      expect(
        stored,
        JSON.stringify(log.records.filter((r) => r.level >= 40).map((r) => r.msg)),
      ).toEqual(ids);
      expect(runtime.status().healthy).toBe(true);
    } finally {
      await runtime.stop();
    }
  }, 90_000);
});
