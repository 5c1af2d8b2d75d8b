/**
 * `ringrift-coord inspect` watches a runtime started without any flag, from another process:
 * real child processes (a pipeline run and the inspector) on one real SQLite file, and the page
 * in a real browser. Also: every diagram under diagrams/ renders with Mermaid in that browser.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, PIPELINE_PROFILES } from '../../src/index.js';
import { ARTIFACTS, browserUnavailable, launchBrowser, openInspector } from '../support/browser.js';
import { until } from '../support/log.js';
import { freePort } from '../support/nats.js';
import { type Fixture, runCli, startFixture } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

/** The file exists, has its tables and a runtime registered in it. */
function hasRuntime(path: string): boolean {
  if (!existsSync(path)) return false;
  const db = openDatabase(path, { readonly: true });
  try {
    return db.db.prepare('SELECT COUNT(*) AS n FROM runtimes').get() !== undefined;
  } catch {
    return false; // the tables are being created
  } finally {
    db.close();
  }
}

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the inspect command's browser tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('ringrift-coord inspect', () => {
  let browser: Browser;
  let db: TempDb;
  const children: Fixture[] = [];

  /** `ringrift-coord inspect` on the test's file and a free port: the URL it printed. */
  const startInspect = async () => {
    const port = await freePort();
    const inspect = startFixture('src/cli/main', [
      'inspect',
      '--db',
      db.path,
      '--port',
      String(port),
    ]);
    children.push(inspect);
    const line = await inspect.waitFor(
      /^inspector for .*: http:\/\/127\.0\.0\.1:\d+\/\?token=/,
      30_000,
    );
    return { inspect, port, url: line.slice(line.indexOf('http://')) };
  };

  beforeAll(async () => {
    browser = await launchBrowser();
    db = tempDb();
  });

  afterAll(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await browser?.close();
    db?.cleanup();
  });

  it('serves the page for a runtime of another process, from the event log and its snapshots', async () => {
    // The runtime: no inspector flag, a long enough run to be watched while it works.
    const run = startFixture(
      'src/cli/main',
      ['run', '--forever', '--configs', 'hex8_2p', '--db', db.path, '--view', 'log'],
      { RINGRIFT_LOG_LEVEL: 'warn' },
    );
    children.push(run);
    await until(() => hasRuntime(db.path), 20_000, 'the run to register in its file');
    const { inspect, url, port } = await startInspect();
    expect(new URL(url).port).toBe(String(port));
    const opened = await openInspector(browser, url);
    const { page } = opened;
    for (const daemon of PIPELINE_PROFILES.standalone)
      await expect
        .poll(() => page.locator(`#tree [data-daemon="${daemon}"]`).count(), { timeout: 20_000 })
        .toBe(1);
    // States come from the snapshots the runtime saves; a job daemon's work is seen as it runs.
    await expect
      .poll(() => page.locator('#tree [data-daemon="EVENT_ROUTER"]').getAttribute('data-state'), {
        timeout: 10_000,
      })
      .toBe('routing');
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          const state = await page
            .locator('#tree [data-daemon="SELFPLAY_COORDINATOR"]')
            .getAttribute('data-state');
          if (state) seen.add(state);
          return [...seen].sort();
        },
        { timeout: 20_000, interval: 50 },
      )
      .toEqual(expect.arrayContaining(['idle', 'working']));
    // Events arrive through the file (those that cross processes: the others are never written);
    // deliveries are the specs' subscribers, marked as inferred.
    await expect
      .poll(() => page.locator('#log tbody tr[data-type="TRAINING_COMPLETED"]').count(), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    const completed = page.locator('#log tbody tr[data-type="TRAINING_COMPLETED"]').first();
    expect(await completed.locator('td').last().textContent()).toMatch(/FEEDBACK_LOOP\?/);
    await page.screenshot({ path: `${ARTIFACTS}/inspect-command.png`, fullPage: true });
    expect(opened.outside).toEqual([]);
    expect(opened.errors).toEqual([]);
    // SIGINT: the inspector stops cleanly; it never wrote the file.
    inspect.child.kill('SIGINT');
    expect(await inspect.exited).toBe(0);
    run.child.kill('SIGINT');
    await run.exited;
  }, 90_000);

  it('refuses bad options in one line with exit code 2', async () => {
    const refused = await runCli('inspect', '--db', `${db.dir}/missing/nothing.db`).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    const port = await runCli('inspect', '--port', 'x').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(port).toMatchObject({ code: 2, stderr: expect.stringMatching(/--port/) });
  });

  it('every diagram under diagrams/ renders with Mermaid in the browser', async () => {
    const { inspect, url } = await startInspect();
    const opened = await openInspector(browser, url);
    const files = readdirSync('diagrams').filter((f) => f.endsWith('.md'));
    let rendered = 0;
    for (const file of files) {
      const text = readFileSync(`diagrams/${file}`, 'utf8');
      for (const [, source] of text.matchAll(/```mermaid\n([\s\S]*?)```/g)) {
        const result = await opened.page.evaluate(async (src) => {
          const mermaid = (
            globalThis as { mermaid?: { render(id: string, s: string): Promise<{ svg: string }> } }
          ).mermaid;
          try {
            const { svg } = await (mermaid as NonNullable<typeof mermaid>).render(
              `check${Math.random().toString(36).slice(2)}`,
              src,
            );
            return { ok: true, size: svg.length, error: '' };
          } catch (error) {
            return { ok: false, size: 0, error: String((error as Error).message ?? error) };
          }
        }, source as string);
        expect(result, `${file}: ${result.error}`).toMatchObject({ ok: true });
        expect(result.size).toBeGreaterThan(500);
        rendered++;
      }
    }
    console.log(`rendered ${rendered} Mermaid diagrams from ${files.length} files in diagrams/`);
    expect(rendered).toBeGreaterThanOrEqual(files.length - 1); // index.md has none
    inspect.child.kill('SIGINT');
    expect(await inspect.exited).toBe(0);
  }, 60_000);
});
