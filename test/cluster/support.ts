/**
 * Hosts of a test cluster: each one a real `ringrift-coord run` process with its own directory,
 * SQLite file and `--host`, against real nats-server processes. Reading a host's file afterwards
 * (or while it runs, read-only) is how the tests check what each host handled.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import {
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  type Logger,
} from '../../src/index.js';
import { type NatsServer, tempDir } from '../support/nats.js';
import { type Fixture, startFixture } from '../support/processes.js';

/** An embedded runtime on `path` that runs the host's bridge, and nothing else of the pipeline. */
export function bridgeRuntime(
  path: string,
  server: string,
  host: string,
  logger: Logger = pino({ level: 'silent' }),
) {
  return createRuntime({
    profile: ['EVENT_ROUTER'],
    daemons: createPipelineDaemons({ worker: createSimulatedWorker() }),
    dbPath: path,
    logger,
    isolatedRouter: true,
    cluster: { servers: [server], host },
  });
}

export interface HostProcess {
  readonly name: string;
  readonly db: string;
  readonly fixture: Fixture;
}

export function startHost(
  dir: string,
  name: string,
  servers: string,
  args: readonly string[],
  env: Record<string, string> = {},
): HostProcess {
  const db = join(dir, `${name}.db`);
  const fixture = startFixture(
    'src/cli/main',
    ['run', '--db', db, '--nats', servers, '--host', name, '--view', 'log', ...args],
    { RINGRIFT_LOG_LEVEL: 'info', ...env },
  );
  return { name, db, fixture };
}

export interface Row {
  readonly event_id: number;
  readonly event_type: string;
  readonly payload: Record<string, unknown>;
  readonly hostname: string;
  readonly envelope_id: string;
  readonly via_cluster: string | null;
  readonly created_at: number;
}

/** Every event of a host's file, in order (read-only, so it works while the host runs). */
export function rowsOf(db: string, type?: string): Row[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    conn.pragma('busy_timeout = 5000');
    const rows = conn
      .prepare(
        `SELECT event_id, event_type, payload, hostname, envelope_id, via_cluster, created_at FROM events ${type ? 'WHERE event_type = ?' : ''} ORDER BY event_id`,
      )
      .all(...(type ? [type] : [])) as (Omit<Row, 'payload'> & { payload: string })[];
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  } finally {
    conn.close();
  }
}

/** A daemon's last snapshot in a host's file (read-only): its state `value` and `context`. */
export function snapshotOf(db: string, daemon: string): unknown {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const row = conn
      .prepare('SELECT snapshot FROM actor_snapshots WHERE actor_id = ? ORDER BY saved_at DESC')
      .get(daemon) as { snapshot: string } | undefined;
    if (!row) throw new Error(`no snapshot of ${daemon} in ${db}`);
    return JSON.parse(row.snapshot) as unknown;
  } finally {
    conn.close();
  }
}

/** A worker config whose training takes `ms` (a real process per job), other kinds simulated. */
export function slowTrainingConfig(dir: string, ms: number): string {
  const path = join(dir, `slow-training-${ms}.json`);
  const script = `setTimeout(() => console.log(JSON.stringify({ result: { model_path: 'models/' + process.argv[1] + '/gen1.pth', final_loss: 0.3, epochs: 2, early_stopped: false, duration: ${ms / 1000} } })), ${ms})`;
  writeFileSync(
    path,
    JSON.stringify({
      workers: { training: { command: [process.execPath, '-e', script, '{config_key}'] } },
    }),
  );
  return path;
}

/**
 * A host's exit code, or a failure that says which host did not end within `ms` and what it and
 * the others last wrote: a host that hangs then fails its test with its own words, before the
 * test's timeout would end it with none.
 */
export async function exitOf(
  host: HostProcess,
  ms: number,
  others: readonly HostProcess[] = [],
): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    const code = await Promise.race([host.fixture.exited, hung]);
    if (code !== 'hung') return code;
  } finally {
    clearTimeout(timer);
  }
  const said = [host, ...others]
    .map((h) => `--- ${h.name}, stderr's end:\n${h.fixture.stderr().slice(-3000)}`)
    .join('\n');
  throw new Error(
    `host ${host.name} still running ${ms / 1000} s after it should have ended\n${said}`,
  );
}

/** Polls `check` every 100 ms until it holds; rejects after `timeoutMs` naming `what`. */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | null | false;
    try {
      value = await check();
    } catch (error) {
      // The file may not exist yet, or be mid-migration: try again.
      if (!(error instanceof Error) || !/SQLITE_|no such|unable to open/i.test(error.message))
        throw error;
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a log line (the CLI logs to stderr) matching `pattern`. */
export function waitForLog(host: HostProcess, pattern: RegExp, timeoutMs = 20_000): Promise<true> {
  return eventually(
    () => pattern.test(host.fixture.stderr()),
    timeoutMs,
    `${host.name}: ${pattern}`,
  );
}

export async function killAll(hosts: readonly HostProcess[]): Promise<void> {
  for (const h of hosts) {
    if (h.fixture.child.exitCode === null && h.fixture.child.signalCode === null)
      h.fixture.child.kill('SIGKILL');
  }
  await Promise.all(hosts.map((h) => h.fixture.exited));
}

/** Envelope ids that occur more than once in a host's file (none may). */
export function duplicateIds(db: string): string[] {
  const seen = new Map<string, number>();
  for (const r of rowsOf(db)) seen.set(r.envelope_id, (seen.get(r.envelope_id) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

/**
 * What a test of the cluster starts, stopped after each test of the suite that calls this: host
 * processes (killed), nats-servers (stopped, stores removed), directories (removed).
 */
export function clusterScratch(prefix: string) {
  const hosts: HostProcess[] = [];
  const servers: NatsServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await killAll(hosts.splice(0));
    for (const s of servers.splice(0)) await s.dispose();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    hosts,
    servers,
    dir: () => {
      const d = tempDir(prefix);
      dirs.push(d);
      return d;
    },
  };
}
