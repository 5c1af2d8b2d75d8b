/**
 * In a cluster, the local inspector's tree shows the cluster (its leader and token, the
 * connection) and the other hosts present, and drops a host that leaves: two runtimes on a real
 * nats-server, the page's feed read as a browser would.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorNode,
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  type Runtime,
} from '../../src/index.js';
import { eventually } from '../cluster/support.js';
import { freePort, type NatsServer, natsUnavailable, startNats, tempDir } from '../support/nats.js';
import { runCli, startFixture } from '../support/processes.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`skipping the inspector's cluster view: ${unavailable}`);

const runtimes: Runtime[] = [];
let nats: NatsServer | null = null;

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop();
  await nats?.stop();
  nats = null;
});

function host(name: string, dir: string, url: string, inspect: boolean): Runtime {
  const runtime = createRuntime({
    profile: ['EVENT_ROUTER'],
    daemons: createPipelineDaemons({ worker: createSimulatedWorker() }),
    dbPath: join(dir, `${name}.db`),
    logger: pino({ level: 'silent' }),
    isolatedRouter: true,
    cluster: { servers: [url], host: name },
    ...(inspect ? { inspect: 'local' as const, inspectPort: 0 } : {}),
  });
  runtimes.push(runtime);
  return runtime;
}

/** The tree as the page gets it: the nodes of the latest feed message that carried them. */
async function treeOf(url: string): Promise<ActorNode[]> {
  const response = await fetch(url.replace('/?', '/api/feed?'));
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  return (
    JSON.parse(text.split('\n\n')[0]?.replace(/^data: /, '') ?? '{}') as { nodes: ActorNode[] }
  ).nodes;
}

describe.skipIf(unavailable !== null)("the local inspector's cluster view", () => {
  it('shows the cluster (leader, connection, outbox) and the other hosts present, and drops a host that leaves', async () => {
    nats = await startNats();
    const dir = tempDir('inspector-cluster-');
    const a = host('a', dir, nats.url, true);
    await a.start();
    await eventually(() => a.status().cluster?.state === 'ok', 15_000, 'a in the cluster');
    const b = host('b', dir, nats.url, false);
    await b.start();
    const url = a.inspectorUrl as string;
    const withB = await eventually(
      async () => {
        const nodes = await treeOf(url);
        return nodes.some((n) => n.id === 'cluster:ringrift/b') ? nodes : null;
      },
      15_000,
      'host b in the tree',
    );
    const cluster = withB.find((n) => n.id === 'cluster:ringrift');
    expect(cluster).toMatchObject({ kind: 'cluster', status: 'ok' });
    // Only a runtime with leader-scoped daemons campaigns; these two have none.
    expect(cluster?.message).toMatch(
      /^(leader \S+ \(token \d+\)|no leader); NATS connected; outbox 0/,
    );
    expect(withB.find((n) => n.id === 'cluster:ringrift/b')).toMatchObject({
      kind: 'host',
      parent: 'cluster:ringrift',
      status: 'present',
      message: expect.stringMatching(/^custom: 1 daemons/),
    });
    // This host is the runtime's own subtree, not a second entry.
    expect(withB.some((n) => n.id === 'cluster:ringrift/a')).toBe(false);
    await b.stop();
    await eventually(
      async () => !(await treeOf(url)).some((n) => n.id === 'cluster:ringrift/b'),
      15_000,
      'host b gone from the tree',
    );
  }, 60_000);

  it('ringrift-coord inspect --nats shows the hosts NATS knows, with consumer lag, and an unreachable cluster as such', async () => {
    nats = await startNats();
    const dir = tempDir('inspector-cluster-');
    const a = host('a', dir, nats.url, false);
    await a.start();
    await eventually(() => a.status().cluster?.state === 'ok', 15_000, 'a in the cluster');
    const port = await freePort();
    const watcher = startFixture('src/cli/main', [
      'inspect',
      '--db',
      join(dir, 'a.db'),
      '--port',
      String(port),
      '--nats',
      nats.url,
    ]);
    try {
      const line = await watcher.waitFor(/^inspector for /, 30_000);
      const url = line.slice(line.indexOf('http://'));
      const nodes = await eventually(
        async () => {
          const tree = await treeOf(url);
          return tree.some((n) => n.id === 'cluster:ringrift/a') ? tree : null;
        },
        15_000,
        'host a read from NATS',
      );
      expect(nodes.find((n) => n.id === 'cluster:ringrift')?.message).toMatch(
        /NATS connected \(127\.0\.0\.1:\d+\)/,
      );
      expect(nodes.find((n) => n.id === 'cluster:ringrift/a')?.message).toMatch(
        /^custom: 1 daemons, \d+ GPUs, \d+ free slots, outbox \d+, consumer lag \d+$/,
      );
      // The server goes away: the page says so, and the inspector keeps serving.
      await nats.stop();
      await eventually(
        async () =>
          (await treeOf(url)).find((n) => n.id === 'cluster:ringrift')?.status === 'unreachable',
        20_000,
        'the cluster shown unreachable',
      );
      expect((await treeOf(url)).some((n) => n.id === 'cluster:ringrift/a')).toBe(false);
    } finally {
      watcher.child.kill('SIGINT');
      expect(await watcher.exited).toBe(0);
    }
  }, 90_000);

  it('inspect --cluster without --nats is refused in one line, exit 2', async () => {
    const refused = await runCli('inspect', '--cluster', 'x').catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/'--cluster' must be given with --nats/),
    });
  });
});
