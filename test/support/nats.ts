/**
 * Real `nats-server` processes for tests and benchmarks: 127.0.0.1, random ports, a temporary
 * store directory each, JetStream on; stopped (or killed) by PID. A cluster of three shares one
 * route mesh, for replicated streams.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** `n` distinct free ports: all bound at once, so the kernel cannot hand the same one out twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Null when nats-server is installed, else why these tests cannot run (printed by the suite). */
export function natsUnavailable(): string | null {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'pipe' });
    return null;
  } catch {
    return 'nats-server is not installed (apt-get install nats-server; .ci/run does it)';
  }
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: () => number;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts the same server again, same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

interface ServerSpec {
  readonly name: string;
  readonly port: number;
  readonly clusterPort?: number;
  readonly routes?: readonly number[];
  readonly clusterName?: string;
  readonly token?: string;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
      socket.connect(port, '127.0.0.1');
    };
    attempt();
  });
}

function server(spec: ServerSpec, storeDir: string): NatsServer {
  let child: ChildProcess | null = null;
  const args = [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(spec.port),
    '-sd',
    storeDir,
    '-n',
    spec.name,
    ...(spec.token ? ['--auth', spec.token] : []),
    ...(spec.clusterPort
      ? [
          '--cluster_name',
          spec.clusterName ?? 'test',
          '--cluster',
          `nats://127.0.0.1:${spec.clusterPort}`,
          '--routes',
          (spec.routes ?? []).map((p) => `nats://127.0.0.1:${p}`).join(','),
        ]
      : []),
  ];
  const exitOf = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once('exit', () => resolve()));
  const handle: NatsServer = {
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    storeDir,
    pid: () => child?.pid ?? -1,
    async start() {
      child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d) => {
        stderr = (stderr + d).slice(-4000);
      });
      const started = child;
      await Promise.race([
        waitForPort(spec.port, 10_000),
        exitOf(started).then(() => {
          throw new Error(`nats-server exited at start: ${stderr}`);
        }),
      ]);
    },
    async stop() {
      if (!child) return;
      const c = child;
      child = null;
      c.kill('SIGTERM');
      await exitOf(c);
    },
    async kill() {
      if (!child) return;
      const c = child;
      child = null;
      c.kill('SIGKILL');
      await exitOf(c);
    },
    async dispose() {
      await handle.kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** One JetStream server on a random port (or `port`), optionally wanting a token. */
export async function startNats(
  options: { port?: number; token?: string } = {},
): Promise<NatsServer> {
  const port = options.port ?? (await freePort());
  const s = server(
    { name: `n${port}`, port, token: options.token },
    mkdtempSync(join(tmpdir(), 'ringrift-nats-')),
  );
  await s.start();
  return s;
}

/** Three routed JetStream servers (a cluster that can hold an R3 stream). */
export async function startNatsCluster(): Promise<NatsServer[]> {
  const [p1, p2, p3, r1, r2, r3] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ports = [p1, p2, p3];
  const routes = [r1, r2, r3];
  const servers = ports.map((port, i) =>
    server(
      {
        name: `s${i + 1}`,
        port,
        clusterPort: routes[i],
        routes: routes.filter((_, j) => j !== i),
      },
      mkdtempSync(join(tmpdir(), `ringrift-nats-s${i + 1}-`)),
    ),
  );
  await Promise.all(servers.map((s) => s.start()));
  return servers;
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
