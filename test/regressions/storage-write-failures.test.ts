/**
 * Issue 9.1: a SQLite write that fails (a full file, a held lock, a damaged file) killed `run`
 * and lost what it held. Now a full or locked file is a degraded state that is visible and
 * recovers, with every accepted event written exactly once; a damaged file stops the run cleanly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPipelineDaemons,
  createRouter,
  createRuntime,
  createSimulatedWorker,
  type Envelope,
  EventLogError,
  OutboxFullError,
  openEventLog,
  type SqliteEventLog,
} from '../../src/index.js';
import { until } from '../support/log.js';
import { memoryLogger } from '../support/memory-logger.js';
import { runCli, startFixture } from '../support/processes.js';
import { tempDb } from '../support/temp-db.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const training = (i: number) => ({
  config_key: 'hex8_2p',
  model_path: `models/m${i}.pth`,
  success: true,
  duration: 1,
  note: 'x'.repeat(300),
});

function envelopeIdsIn(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db.prepare('SELECT envelope_id FROM events WHERE envelope_id IS NOT NULL').all() as {
        envelope_id: string;
      }[]
    ).map((r) => r.envelope_id);
  } finally {
    db.close();
  }
}

/**
 * Publishes until the outbox refuses; returns what was accepted. Bursts of 100 wait for the
 * writer while the file takes them, so that the bound is reached because the file is full, not
 * because the publisher outran a healthy writer.
 */
async function publishUntilRefused(
  router: ReturnType<typeof createRouter>,
  log: SqliteEventLog,
  limit = 100_000,
) {
  const accepted: string[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      accepted.push(router.publish('TRAINING_COMPLETED', training(i)).id);
    } catch (error) {
      return { accepted, refusal: error };
    }
    if (i % 100 === 99)
      await until(
        () => log.getStats().pending === 0 || log.health().state !== 'ok',
        10_000,
        'the writer',
      );
  }
  return { accepted, refusal: null };
}

describe('a full database file', () => {
  it('is a degraded state: events stay queued up to the bound, past it publish throws OutboxFullError, and freeing space writes every accepted event once', async () => {
    const tmp = tempDb();
    const logs = memoryLogger();
    // max_page_count: the file cannot grow past ~1 MB, on any filesystem.
    const log = openEventLog({
      path: tmp.path,
      logger: logs.logger,
      maxBytes: 1_000_000,
      maxQueuedEvents: 500,
    });
    const router = createRouter({ eventLog: log, logger: logs.logger });
    cleanups.push(async () => {
      await router.close();
      tmp.cleanup();
    });
    const delivered: string[] = [];
    router.subscribe('TRAINING_COMPLETED', (e: Envelope) => {
      delivered.push(e.id);
    });

    const { accepted, refusal } = await publishUntilRefused(router, log);
    expect(refusal).toBeInstanceOf(OutboxFullError);
    expect((refusal as OutboxFullError).message).toContain('SQLITE_FULL');
    expect(log.health()).toMatchObject({
      state: 'degraded',
      code: 'SQLITE_FULL',
      queuedEvents: 500,
      waiting: ['outbox'],
    });
    expect(router.health().healthy).toBe(false);
    expect(router.health().storage).toBe('degraded');
    expect(router.health().problems.join()).toContain('event log degraded');
    // The refused event reached nobody: what was delivered is exactly what was accepted.
    await router.whenIdle();
    expect(delivered).toEqual(accepted);
    const warns = logs.records.filter((r) => r.code === 'SQLITE_FULL' && r.level === 40);
    expect(warns).toHaveLength(1);

    // The operator frees space (old rows deleted by another connection): the outbox drains.
    const before = new Set(envelopeIdsIn(tmp.path));
    const other = new Database(tmp.path);
    other.prepare('DELETE FROM events').run();
    other.close();
    await until(() => log.health().state === 'ok', 20_000, 'the outbox to drain');
    await router.flush();
    const after = envelopeIdsIn(tmp.path);
    // Everything queued while full is now written, once each, in order.
    expect(new Set(after).size).toBe(after.length);
    expect(after).toEqual(accepted.filter((id) => !before.has(id)));
    expect(after.length).toBe(500);
    expect(log.getStats().pending).toBe(0);
    expect(logs.records.some((r) => /accepts writes again/.test(r.msg))).toBe(true);
    // And publishing works again.
    expect(() => router.publish('TRAINING_COMPLETED', training(-1))).not.toThrow();
  });

  it('on a real small tmpfs: degraded while full, recovered when space is freed', async (ctx) => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'ringrift-tmpfs-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
    if (mounted.status !== 0) {
      rmSync(mountPoint, { recursive: true, force: true });
      const why = `mount -t tmpfs is not permitted here (${String(mounted.stderr).trim() || `exit ${mounted.status}`}); the max_page_count test above covers the same path`;
      console.log(`skipped: ${why}`);
      ctx.skip(why);
      return;
    }
    cleanups.push(() => {
      spawnSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    });
    const path = join(mountPoint, 'events.db');
    const logs = memoryLogger();
    const log = openEventLog({ path, logger: logs.logger, maxQueuedEvents: 1_000 });
    const router = createRouter({ eventLog: log, logger: logs.logger });
    cleanups.push(async () => {
      await router.close();
    });
    // Leave the file some room, then fill the rest of the filesystem.
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(1_500_000));
    const { accepted, refusal } = await publishUntilRefused(router, log);
    expect(refusal).toBeInstanceOf(OutboxFullError);
    expect(log.health().state).toBe('degraded');
    expect(log.health().code).toMatch(/^SQLITE_(FULL|IOERR)/);
    rmSync(filler);
    await until(() => log.getStats().pending === 0, 20_000, 'the outbox to drain');
    // Each writer that met the full disk (the outbox, the checkpoint, a reader) clears its own
    // report on its next success: under load the checkpoint's may come a moment after the drain.
    await until(() => log.health().state === 'ok', 20_000, 'the file to be healthy again');
    const written = envelopeIdsIn(path);
    expect(written.sort()).toEqual([...accepted].sort());
  });
  it('is shown by `status` from another process: the state, the code and what is queued', async () => {
    const tmp = tempDb();
    const runtime = createRuntime({
      profile: ['EVENT_ROUTER'],
      daemons: createPipelineDaemons({
        worker: createSimulatedWorker(),
        masterLoop: { configs: ['hex8_2p'], iterations: 1, gamesPerBatch: 1 },
      }).filter((d) => d.type === 'EVENT_ROUTER'),
      dbPath: tmp.path,
      logger: pino({ level: 'silent' }),
      eventLog: { maxBytes: 1_000_000, maxQueuedEvents: 300 },
    });
    cleanups.push(async () => {
      await runtime.stop();
      tmp.cleanup();
    });
    await runtime.start();
    await runtime.whenReady();
    const log = runtime.eventLog as SqliteEventLog;
    await publishUntilRefused(runtime.router, log);
    expect(runtime.status().storage?.state).toBe('degraded');
    // The runtime's heartbeat (every 5 s) updates its row in place: a full file still takes it
    // (unless the row grows past a page: then `status` shows the last beat it took, and its age).
    await new Promise((r) => setTimeout(r, 5_500));
    const { stdout } = await runCli('status', '--db', tmp.path);
    expect(stdout).toMatch(
      /: running \(heartbeat \d+ s ago\)\n {4}event log DEGRADED \(SQLITE_FULL\): \d+ events queued in memory; waiting: outbox/,
    );
  }, 60_000);
});

describe('a write lock held by another process', () => {
  it('longer than every timeout: the runtime goes on degraded, and afterwards every accepted event is in the log exactly once', async () => {
    const tmp = tempDb();
    const logs = memoryLogger('info');
    const daemons = createPipelineDaemons({
      worker: createSimulatedWorker({ seed: 3, durationsMs: { training: 5, selfplay: 5 } }),
      trainingThreshold: 10,
      durable: true,
      masterLoop: { configs: ['hex8_2p', 'square8_2p'], iterations: 0, gamesPerBatch: 10 },
    });
    const runtime = createRuntime({
      profile: daemons.map((d) => d.type),
      daemons,
      dbPath: tmp.path,
      logger: logs.logger,
      // Every wait shorter than the lock is held: the writer thread's, and the main thread's.
      eventLog: { lockWaitMs: 300, writeTimeoutMs: 500 },
    });
    const published: string[] = [];
    runtime.router.subscribe('*', (e: Envelope) => {
      if (e.origin.runtimeId === runtime.runtimeId) published.push(e.id);
    });
    cleanups.push(async () => {
      await runtime.stop();
      tmp.cleanup();
    });
    await runtime.start();
    await runtime.whenReady();
    await until(() => published.length > 50, 20_000, 'the pipeline to run');

    // A real process (python3, like the original service) takes the write lock and keeps it.
    const holder = spawn(
      'python3',
      [
        '-c',
        `import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN IMMEDIATE')
print('locked', flush=True)
time.sleep(float(sys.argv[2]))
c.execute('COMMIT')
print('released', flush=True)`,
        tmp.path,
        '4',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const output: string[] = [];
    holder.stdout.on('data', (d) => output.push(String(d)));
    await until(() => output.join('').includes('locked'), 10_000, 'the lock');
    await until(() => runtime.status().storage?.state === 'degraded', 10_000, 'degraded');
    expect(runtime.status().healthy).toBe(false);
    expect(runtime.status().storage?.code).toBe('SQLITE_BUSY');
    const duringLock = published.length;
    await new Promise<void>((resolve) => holder.on('exit', () => resolve()));
    expect(output.join('')).toContain('released');
    // Recovered by itself, and the pipeline went on.
    await until(() => runtime.status().storage?.state === 'ok', 20_000, 'recovery');
    await until(() => published.length > duringLock + 50, 20_000, 'the pipeline to go on');
    expect(runtime.status().daemons.every((d) => d.state === 'running')).toBe(true);
    await runtime.stop();
    // Everything this runtime published that crosses processes is in the file, once each.
    const written = envelopeIdsIn(tmp.path);
    expect(new Set(written).size).toBe(written.length);
    const { CATALOG } = await import('../../src/events/catalog/index.js');
    const crossing = runtime.router
      .getRecentEvents({ limit: 1_000 })
      .filter((e) => CATALOG[e.type].crossProcess && e.origin.runtimeId === runtime.runtimeId)
      .map((e) => e.id);
    expect(crossing.length).toBeGreaterThan(20);
    for (const id of crossing) expect(written).toContain(id);
    const busyWarns = logs.records.filter((r) => r.level === 40 && r.code === 'SQLITE_BUSY');
    expect(busyWarns.length).toBeGreaterThanOrEqual(1);
    expect(logs.records.some((r) => /accepts writes again/.test(r.msg))).toBe(true);
    // No write failed for good.
    expect(logs.atLeast(50).map((r) => r.msg)).toEqual([]);
  }, 60_000);
});

describe('a damaged file', () => {
  it('is refused at open by quick_check, naming the file', () => {
    const tmp = tempDb();
    cleanups.push(() => tmp.cleanup());
    const db = new Database(tmp.path);
    db.exec('CREATE TABLE filler (v TEXT)');
    const insert = db.prepare('INSERT INTO filler VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 5_000; i++) insert.run('x'.repeat(200));
    })();
    db.close();
    truncateSync(tmp.path, 8192);
    let error: unknown;
    try {
      openEventLog({ path: tmp.path, logger: pino({ level: 'silent' }) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EventLogError);
    expect((error as Error).message).toContain('damaged');
    expect((error as Error).message).toContain(tmp.path);
  });

  it('truncated mid-run: run prints its summary, a one-line reason naming the file, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringrift-trunc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'db', 'events.db');
    mkdirSync(join(dir, 'db'));
    const run = startFixture('src/cli/main', ['run', '--forever', '--db', path, '--view', 'log']);
    const count = () => {
      // Read-only and only once it exists: creating the file here would race the runtime's open.
      if (!existsSync(path)) return 0;
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
      } catch {
        return 0; // tables not created yet
      } finally {
        db.close();
      }
    };
    await until(() => count() > 200, 30_000, 'events in the file').catch((error) => {
      throw new Error(
        `${error.message}; count ${count()}; exit ${run.child.exitCode}; stderr: ${run.stderr().slice(-2000)}`,
      );
    });
    truncateSync(path, 8192);
    const code = await Promise.race([
      run.exited,
      new Promise((r) => setTimeout(() => r('still running'), 20_000)),
    ]);
    if (code === 'still running') run.child.kill('SIGKILL');
    expect(code).toBe(1);
    const stdout = run.lines.join('\n');
    expect(stdout).toContain('Pipeline run (profile standalone) FAILED');
    expect(stdout).toContain('damaged');
    const reason = run
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('ringrift-coord: '));
    expect(reason).toHaveLength(1);
    expect(reason[0]).toContain(path);
    expect(reason[0]).toContain('damaged');
    expect(run.stderr()).not.toMatch(/\n\s+at /); // no stack trace outside JSON log records
  }, 60_000);
});
