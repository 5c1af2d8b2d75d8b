/**
 * The local inspector in a real browser, on a real pipeline (simulated workers, a real SQLite
 * file): every view is asserted from what the page shows, and screenshotted under .tmp/inspector.
 */
import { createServer } from 'node:http';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  type Envelope,
  PIPELINE_PROFILES,
  type Runtime,
  type Worker,
} from '../../src/index.js';
import {
  ARTIFACTS,
  browserUnavailable,
  launchBrowser,
  type OpenedPage,
  openInspector,
} from '../support/browser.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipping the inspector's browser tests: ${unavailable}`);

const ITERATIONS = 2;
const DAEMONS = PIPELINE_PROFILES.standalone;

/** The first job waits for the page: launching a browser takes longer than the whole run. */
function heldUntil(gate: Promise<void>, worker: Worker): Worker {
  return {
    run: async (job, context) => {
      await gate;
      return worker.run(job, context);
    },
    close: () => worker.close(),
  };
}

describe.skipIf(unavailable !== null)('the local inspector, live', () => {
  let browser: Browser;
  let db: TempDb;
  let runtime: Runtime;
  let opened: OpenedPage;
  const published: Envelope[] = [];
  /** What the page showed as SELFPLAY_COORDINATOR's active state while the run went on. */
  const activeStates = new Set<string>();

  let openPage: () => void = () => {};
  const pageOpen = new Promise<void>((resolve) => {
    openPage = resolve;
  });

  beforeAll(async () => {
    browser = await launchBrowser();
    db = tempDb();
    runtime = createRuntime({
      profile: [...DAEMONS],
      profileName: 'standalone',
      daemons: createPipelineDaemons({
        worker: heldUntil(
          pageOpen,
          createSimulatedWorker({
            seed: 3,
            durationsMs: {
              selfplay: 500,
              sync: 100,
              export: 100,
              training: 600,
              evaluation: 300,
              distribution: 100,
            },
          }),
        ),
        trainingThreshold: 10,
        promotion: { minWinRate: 0, minEloGain: -1e9 },
        masterLoop: { configs: ['hex8_2p'], iterations: ITERATIONS, gamesPerBatch: 10 },
      }),
      dbPath: db.path,
      logger: pino({ level: 'silent' }),
      isolatedRouter: true,
      inspect: 'local',
      inspectPort: 0,
      inspectAllowSend: true,
    });
    runtime.router.subscribe('*', (e: Envelope) => void published.push(e));
    await runtime.start();
    opened = await openInspector(browser, runtime.inspectorUrl as string);
    const { page } = opened;
    await page.locator('#tree [data-daemon="SELFPLAY_COORDINATOR"]').click();
    openPage();
    // Watch the statechart while the work runs: the page must follow the machine.
    const done = () => published.filter((e) => e.type === 'ITERATION_COMPLETE').length;
    const deadline = Date.now() + 30_000;
    while (done() < ITERATIONS && Date.now() < deadline) {
      const active = await page.locator('#chart').getAttribute('data-active');
      if (active) activeStates.add(active);
      await page.waitForTimeout(100);
    }
    expect(done(), 'the pipeline finished its iterations').toBe(ITERATIONS);
    // The page is at most a tick behind.
    await page.waitForTimeout(600);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    db?.cleanup();
  });

  it('shows every daemon of the profile in the tree, under the runtime and its supervisor', async () => {
    const { page } = opened;
    for (const daemon of DAEMONS)
      await expect.poll(() => page.locator(`#tree [data-daemon="${daemon}"]`).count()).toBe(1);
    const tree = await page.locator('#tree').textContent();
    expect(tree).toContain(`runtime ${runtime.runtimeId} (standalone)`);
    expect(tree).toContain('supervisor');
    // Lifecycle, readiness and incarnation of a daemon that keeps running.
    const router = page.locator('#tree [data-daemon="EVENT_ROUTER"]');
    expect(await router.getAttribute('data-status')).toBe('running');
    expect(await router.textContent()).toMatch(/running · ready[\s\S]*#1 · 0 restarts/);
    await page.locator('#tree-view').screenshot({ path: `${ARTIFACTS}/tree.png` });
  });

  it("highlights a job daemon's active state as its work runs", async () => {
    const { page } = opened;
    expect([...activeStates].sort()).toEqual(expect.arrayContaining(['idle', 'working']));
    // The highlighted node of the drawn statechart is the active state.
    await expect.poll(() => page.locator('#chart').getAttribute('data-active')).toBe('idle');
    const highlighted = page.locator('#chart svg g.active');
    expect(await highlighted.count()).toBe(1);
    expect((await highlighted.textContent())?.trim()).toBe('idle');
    await page.locator('#chart-view').screenshot({ path: `${ARTIFACTS}/statechart.png` });
  });

  it("draws the guide's Training Completion flow in time order, with every delivery", async () => {
    const { page } = opened;
    const chain = `iteration-1:hex8_2p`;
    await page.locator(`.lane[data-chain="${chain}"]`).click();
    await expect
      .poll(() => page.locator('#sequence').getAttribute('data-chain'), { timeout: 10_000 })
      .toBe(chain);
    const labels = (await page.locator('#sequence svg text').allTextContents())
      .map((t) => /^(\d+)\. ([A-Z_]+)/.exec(t.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ n: Number(m[1]), type: m[2] as string }));
    // The order the diagram numbers events in is the order they were published in.
    const truth = published
      .filter((e) => e.correlationId === chain)
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((e) => e.type);
    const numbered = [...new Map(labels.map((l) => [l.n, l.type])).entries()].sort(
      (a, b) => a[0] - b[0],
    );
    expect(numbered.map(([, type]) => type)).toEqual(truth);
    const flow = [
      'TRAINING_COMPLETED',
      'EVALUATION_REQUESTED',
      'EVALUATION_STARTED',
      'EVALUATION_COMPLETED',
      'MODEL_PROMOTED',
    ];
    const positions = flow.map((type) => (truth as string[]).indexOf(type));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // TRAINING_COMPLETED reaches DATA_PIPELINE and FEEDBACK_LOOP, MODEL_PROMOTED two daemons too:
    // each delivery is an arrow of its own.
    const arrows = (type: string) => labels.filter((l) => l.type === type).length;
    expect(arrows('TRAINING_COMPLETED')).toBeGreaterThanOrEqual(2);
    expect(arrows('MODEL_PROMOTED')).toBeGreaterThanOrEqual(2);
    // Wide enough for the whole chain (the view scrolls sideways otherwise).
    const width = await page.locator('#sequence svg').evaluate((svg) => svg.scrollWidth);
    await page.setViewportSize({ width: Math.max(1400, width + 60), height: 1000 });
    await page.locator('#sequence-view').screenshot({ path: `${ARTIFACTS}/sequence.png` });
    await page.setViewportSize({ width: 1400, height: 1000 });
  });

  it('filters the event log by type, daemon and correlation, and pauses', async () => {
    const { page } = opened;
    const rows = page.locator('#log tbody tr');
    await page.fill('#filter-type', 'training_completed');
    await expect
      .poll(async () => new Set(await rows.evaluateAll((r) => r.map((x) => x.dataset.type))))
      .toEqual(new Set(['TRAINING_COMPLETED']));
    expect(await rows.count()).toBe(
      published.filter((e) => e.type === 'TRAINING_COMPLETED').length,
    );
    await page.fill('#filter-type', '');
    await page.selectOption('#filter-daemon', 'AUTO_PROMOTION');
    await page.fill('#filter-chain', 'iteration-2:');
    const types = new Set(await rows.evaluateAll((r) => r.map((x) => x.dataset.type)));
    expect(types).toEqual(new Set(['EVALUATION_COMPLETED', 'MODEL_PROMOTED']));
    await page.selectOption('#filter-daemon', '');
    await page.fill('#filter-chain', '');
    await page.locator('#log-view').screenshot({ path: `${ARTIFACTS}/event-log.png` });
    // Paused: new events are kept but not shown until resumed.
    await page.click('#pause');
    expect(await page.locator('#mode').textContent()).toBe('paused');
    const shown = await rows.count();
    runtime.router.publish(
      'EVALUATION_PROGRESS',
      { config_key: 'hex8_2p', games_completed: 1, games_planned: 2 },
      { source: 'test' },
    );
    await page.waitForTimeout(600);
    expect(await rows.count()).toBe(shown);
    await page.click('#pause');
    await expect.poll(() => rows.count()).toBe(shown + 1);
  });

  it('travels in time: picking an event shows the tree and statechart just after it', async () => {
    const { page } = opened;
    const started = published.find((e) => e.type === 'TRAINING_STARTED') as Envelope;
    await page.locator('#tree [data-daemon="CONTINUOUS_TRAINING_LOOP"]').click();
    const loop = page.locator('#tree [data-daemon="CONTINUOUS_TRAINING_LOOP"]');
    expect(await loop.getAttribute('data-state')).toBe('idle');
    await page.fill('#filter-type', 'TRAINING_STARTED');
    await page.locator(`tr[data-event-id="${started.id}"]`).click();
    await expect
      .poll(() => page.locator('#mode').textContent())
      .toMatch(/^at #\d+ TRAINING_STARTED$/);
    // Just after TRAINING_STARTED the training loop was working, with its worker in the tree.
    expect(await loop.getAttribute('data-state')).toBe('working');
    await expect.poll(() => page.locator('#chart').getAttribute('data-active')).toBe('working');
    expect(await page.locator('[data-worker="training"]').count()).toBe(1);
    expect(await page.locator('#detail').textContent()).toContain(`TRAINING_STARTED`);
    await page.screenshot({ path: `${ARTIFACTS}/time-travel.png`, fullPage: true });
    await page.click('#live');
    await expect.poll(() => loop.getAttribute('data-state')).toBe('idle');
    expect(await page.locator('#mode').textContent()).toBe('live');
    await page.fill('#filter-type', '');
  });

  it('sends an event checked against the catalog (started with inspectAllowSend)', async () => {
    const { page } = opened;
    const result = page.locator('#send-result');
    await page.fill('#send-type', 'NOT_AN_EVENT');
    await page.fill('#send-payload', '{}');
    await page.click('#send button[type="submit"]');
    await expect.poll(() => result.textContent()).toMatch(/NOT_AN_EVENT/);
    expect(await result.getAttribute('class')).toBe('error');
    await page.fill('#send-type', 'EVALUATION_PROGRESS');
    await page.fill('#send-payload', '{"config_key": "hex8_2p", "games_completed": "many"}');
    await page.click('#send button[type="submit"]');
    await expect.poll(() => result.textContent()).toMatch(/games_completed/);
    const before = published.length;
    await page.fill(
      '#send-payload',
      '{"config_key": "hex8_2p", "games_completed": 3, "games_planned": 4}',
    );
    await page.click('#send button[type="submit"]');
    await expect.poll(() => result.textContent()).toMatch(/^sent /);
    const sent = published.slice(before).find((e) => e.source === 'inspector');
    expect(sent?.payload).toMatchObject({ games_completed: 3, games_planned: 4 });
    await expect.poll(() => page.locator(`tr[data-event-id="${sent?.id}"]`).count()).toBe(1);
  });

  it('refuses a wrong token, and a page of another origin cannot send (cross-site request)', async () => {
    const url = new URL(runtime.inspectorUrl as string);
    const wrong = await browser.newPage();
    const response = await wrong.goto(`${url.origin}/?token=wrong`);
    expect(response?.status()).toBe(403);
    expect(await wrong.textContent('body')).toMatch(/forbidden/);
    // A site the operator happens to have open, which learnt the token somehow: its request
    // carries its own Origin, and nothing is sent.
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><title>elsewhere</title>');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilPort = (evil.address() as { port: number }).port;
    try {
      await wrong.goto(`http://localhost:${evilPort}/`);
      const before = published.length;
      const outcome = await wrong.evaluate(async (target) => {
        try {
          await fetch(target, {
            method: 'POST',
            mode: 'no-cors',
            body: '{"type":"EVALUATION_PROGRESS","payload":{"config_key":"hex8_2p","games_completed":1,"games_planned":1}}',
          });
          return 'answered (opaque)';
        } catch (error) {
          return `refused: ${(error as Error).message}`;
        }
      }, `${url.origin}/api/send${url.search}`);
      console.log(`cross-site send from http://localhost:${evilPort}: ${outcome}`);
      await wrong.waitForTimeout(300);
      expect(published.slice(before).filter((e) => e.source === 'inspector')).toEqual([]);
    } finally {
      evil.close();
      await wrong.close();
    }
  });

  it('asked for nothing outside 127.0.0.1, and raised no error', async () => {
    await opened.page.screenshot({ path: `${ARTIFACTS}/page.png`, fullPage: true });
    expect(opened.requests.length).toBeGreaterThan(3);
    expect(opened.outside).toEqual([]);
    // The send test's refusals (400) are the only errors the browser may log.
    expect(opened.errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
  });
});
