/**
 * Issue 9.2: a lease on the same host trusted `kill(pid, 0)` alone, so a node restarted under
 * the dead one's PID (always 1 in a container) was refused for ever. A lease now names its
 * holder by PID and process start identity, and a heartbeat older than the lease frees it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  busyConsumers,
  ConsumerBusyError,
  openEventLog,
  type SqliteEventLog,
  subscribeDurable,
} from '../../src/index.js';
import { processIdentity } from '../../src/persistence/process-identity.js';
import { until } from '../support/log.js';
import { tempDb } from '../support/temp-db.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openLog(): { log: SqliteEventLog; path: string } {
  const tmp = tempDb();
  const log = openEventLog({ path: tmp.path, logger: pino({ level: 'silent' }) });
  cleanups.push(async () => {
    await log.close();
    tmp.cleanup();
  });
  return { log, path: tmp.path };
}

/** Writes a consumer row as another process would have left it. */
function forgeLease(
  log: SqliteEventLog,
  name: string,
  row: { pid: number; start: string | null; heartbeatAgoS: number },
): void {
  const t = Date.now() / 1000;
  log.db.db
    .prepare(
      `INSERT INTO consumers (name, types, cursor, owner, owner_host, owner_pid, owner_start, heartbeat_at, created_at)
        VALUES (?, '["TRAINING_COMPLETED"]', 0, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      name,
      `${hostname()}:${row.pid}:forged`,
      hostname(),
      row.pid,
      row.start,
      t - row.heartbeatAgoS,
      t,
    );
  log.noteLocalCommit();
}

/** Another live process on this host (a `sleep`), with its PID and start identity. */
async function liveProcess(): Promise<{ pid: number; identity: string | null }> {
  const child = spawn('sleep', ['30']);
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  await until(() => child.pid !== undefined && processIdentity(child.pid) !== null);
  const pid = child.pid as number;
  return { pid, identity: processIdentity(pid) };
}

const subscribe = (log: SqliteEventLog, name: string) =>
  subscribeDurable(log, name, ['TRAINING_COMPLETED'], () => {});

describe('durable consumer leases', () => {
  it('are taken over when the row carries this process’s own PID from another incarnation', async () => {
    const { log, path } = openLog();
    // What a container's PID 1 finds after a kill -9: its own PID, a fresh-looking heartbeat.
    forgeLease(log, 'TRAINING', { pid: process.pid, start: 'another-boot:42', heartbeatAgoS: 1 });
    expect(busyConsumers(path, ['TRAINING'])).toEqual([]);
    const sub = await subscribe(log, 'TRAINING');
    await sub.stop();
  });

  it('are taken over when the PID is alive but belongs to another process (PID reuse)', async () => {
    const { log, path } = openLog();
    const other = await liveProcess();
    forgeLease(log, 'TRAINING', {
      pid: other.pid,
      start: 'the-process-that-died:7',
      heartbeatAgoS: 1,
    });
    expect(busyConsumers(path, ['TRAINING'])).toEqual([]);
    await (await subscribe(log, 'TRAINING')).stop();
  });

  it('are taken over once the heartbeat is older than the lease, whatever kill(pid, 0) says', async () => {
    const { log, path } = openLog();
    const other = await liveProcess();
    // The very process that holds it, alive, but silent for longer than the 30 s lease.
    forgeLease(log, 'TRAINING', {
      pid: other.pid,
      start: other.identity,
      heartbeatAgoS: 31,
    });
    expect(busyConsumers(path, ['TRAINING'])).toEqual([]);
    await (await subscribe(log, 'TRAINING')).stop();
  });

  it('still refuse a second owner while the holder is alive and beating', async () => {
    const { log, path } = openLog();
    const other = await liveProcess();
    forgeLease(log, 'TRAINING', {
      pid: other.pid,
      start: other.identity,
      heartbeatAgoS: 1,
    });
    expect(busyConsumers(path, ['TRAINING']).map((b) => b.name)).toEqual(['TRAINING']);
    await expect(subscribe(log, 'TRAINING')).rejects.toBeInstanceOf(ConsumerBusyError);
  });

  it('in a real PID namespace: a training node kill -9ed as PID 1 starts again as PID 1', async (ctx) => {
    const probe = spawnSync('unshare', ['-fp', '--mount-proc', 'true']);
    if (probe.status !== 0) {
      const why = `unshare -fp --mount-proc is not permitted here (${String(probe.stderr).trim() || `exit ${probe.status}`}); the forged-row tests above cover the rule`;
      console.log(`skipped: ${why}`);
      ctx.skip(why);
      return;
    }
    const { path } = openLog();
    const root = new URL('../..', import.meta.url).pathname;
    /** `run --profile training_node` as PID 1 of a new PID namespace, as in a container. */
    const start = () => {
      const child = spawn(
        'unshare',
        [
          '-fp',
          '--mount-proc',
          // The node process (PID 1 inside) dies with unshare, even when unshare is SIGKILLed.
          '--kill-child=SIGKILL',
          process.execPath,
          '--import',
          'tsx',
          'src/cli/main.ts',
          'run',
          '--profile',
          'training_node',
          '--db',
          path,
          '--view',
          'log',
        ],
        { cwd: root, env: { ...process.env, RINGRIFT_LOG_LEVEL: 'info' } },
      );
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      cleanups.push(() => {
        // The namespace's PID 1 is unshare's child: killed first, while it is still unshare's.
        spawnSync('pkill', ['-KILL', '-P', String(child.pid)]);
        child.kill('SIGKILL');
      });
      return { child, exited, stderr: () => stderr };
    };
    const serving = async (node: ReturnType<typeof start>) => {
      await until(
        () => /serving the coordinator/.test(node.stderr()) || node.child.exitCode !== null,
        60_000,
        'the node to serve',
      );
      const line = node
        .stderr()
        .split('\n')
        .find((l) => /serving the coordinator/.test(l));
      if (!line) throw new Error(`the node did not serve: ${node.stderr().slice(-1500)}`);
      return JSON.parse(line).pid as number;
    };
    const first = start();
    expect(await serving(first)).toBe(1);
    // kill -9 of the namespace's PID 1 (unshare's child, seen from here by its host PID).
    const inner = spawnSync('pgrep', ['-P', String(first.child.pid)])
      .stdout.toString()
      .trim();
    expect(inner).toMatch(/^\d+$/);
    process.kill(Number(inner), 'SIGKILL');
    await first.exited;
    const second = start();
    // Before: refused for ever ("durable consumer ... is already running in vm:1:...").
    expect(await serving(second)).toBe(1);
    expect(second.stderr()).not.toContain('already running');
  }, 120_000);
});
