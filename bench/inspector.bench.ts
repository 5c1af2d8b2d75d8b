/**
 * The local inspector's memory and cost over a 100,000-event run: the pipeline with simulated
 * jobs (1 ms of selfplay per iteration, the rest instant) runs until that many events went through its router, once with
 * `inspect: 'local'` and a page's feed connected (a real Server-Sent Events reader), once without
 * (the baseline, same run). Heap after forced GC at 10k, 50k and all events: the inspector's
 * rings (README "See it") must fill and then stay flat.
 * `npm run bench:inspector`; BENCH_EVENTS scales it.
 */
import { pino } from 'pino';
import { createRuntime, createSimulatedWorker, DEFAULT_INSPECTOR_LIMITS } from '../src/index.js';
import { createPipelineDaemons } from '../src/pipeline/pipeline-daemons.js';
import { fmt, gc, printTable } from './support/measure.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const POINTS = [10_000, 50_000, 100_000, EVENTS].filter(
  (n, i, all) => n <= EVENTS && all.indexOf(n) === i,
);
const silent = pino({ level: 'silent' });
// Selfplay takes 1 ms, the rest nothing: zero-duration work never yields to timers or I/O, so the
// page's feed would get nothing until the run is over; one timer per iteration lets it breathe.
const quick = { selfplay: 1, sync: 0, export: 0, training: 0, evaluation: 0, distribution: 0 };
const MiB = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MiB`;

interface Result {
  readonly msPerKEvents: number;
  readonly heap: Map<number, number>;
  readonly pageBytes: number;
  readonly pageMessages: number;
  readonly seconds: number;
}

async function run(inspect: boolean): Promise<Result> {
  const daemons = createPipelineDaemons({
    worker: createSimulatedWorker({ seed: 1, durationsMs: quick }),
    trainingThreshold: 10,
    promotion: { minWinRate: 0, minEloGain: -1e9 },
    // About 22 events per iteration: the run ends by itself a little after EVENTS (stopping a
    // busy pipeline instead would wait out its daemons' shutdown timeouts).
    masterLoop: { configs: ['hex8_2p'], iterations: Math.ceil(EVENTS / 20), gamesPerBatch: 10 },
  });
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: false,
    logger: silent,
    retention: false,
    isolatedRouter: true,
    ...(inspect ? { inspect: 'local' as const, inspectPort: 0 } : {}),
  });
  const heap = new Map<number, number>();
  let events = 0;
  let started = 0;
  let finished = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const ended = new Promise<void>((resolve) =>
    runtime.router.subscribe('DAEMON_STATUS_CHANGED', (e) => {
      if (e.payload.daemon_name === 'MASTER_LOOP' && e.payload.new_status === 'stopped') resolve();
    }),
  );
  runtime.router.subscribe('*', () => {
    events++;
    if (events === 1) started = performance.now();
    if (POINTS.includes(events)) {
      gc();
      heap.set(events, process.memoryUsage().heapUsed);
    }
    if (events === EVENTS) {
      finished = performance.now();
      resolveDone();
    }
  });
  await runtime.start();
  // A page: reads the feed as fast as it comes, as a browser would.
  let pageBytes = 0;
  let pageMessages = 0;
  const feed = inspect ? await fetch(`${runtime.inspectorUrl?.replace('/?', '/api/feed?')}`) : null;
  const reading = (async () => {
    if (!feed?.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of feed.body as AsyncIterable<Uint8Array>) {
      pageBytes += chunk.length;
      pageMessages += decoder.decode(chunk, { stream: true }).split('\n\n').length - 1;
    }
  })().catch(() => {});
  await done;
  await ended;
  await runtime.stop();
  await reading;
  return {
    msPerKEvents: ((finished - started) / EVENTS) * 1000,
    heap,
    pageBytes,
    pageMessages,
    seconds: (finished - started) / 1000,
  };
}

const baseline = await run(false);
gc();
const inspected = await run(true);

const rows: string[][] = [
  [
    'ms per 1,000 events',
    fmt(inspected.msPerKEvents, 1),
    fmt(baseline.msPerKEvents, 1),
    (inspected.msPerKEvents / baseline.msPerKEvents).toFixed(2),
  ],
];
for (const [i, n] of POINTS.entries()) {
  const before = i > 0 ? POINTS[i - 1] : undefined;
  const growth = (r: Result) =>
    before === undefined
      ? ''
      : ` (+${MiB((r.heap.get(n) ?? 0) - (r.heap.get(before) ?? 0))} from ${fmt(before)})`;
  rows.push([
    `heap after ${fmt(n)} events`,
    MiB(inspected.heap.get(n) ?? 0) + growth(inspected),
    MiB(baseline.heap.get(n) ?? 0) + growth(baseline),
    ((inspected.heap.get(n) ?? 0) / (baseline.heap.get(n) ?? 1)).toFixed(2),
  ]);
}
rows.push([
  'feed sent to the page',
  `${MiB(inspected.pageBytes)} in ${inspected.pageMessages} updates over ${fmt(inspected.seconds, 1)} s`,
  '',
  '',
]);
printTable(
  `Local inspector over ${fmt(EVENTS)} events, 1 ms selfplay per iteration; rings: ${DEFAULT_INSPECTOR_LIMITS.events} events, ${DEFAULT_INSPECTOR_LIMITS.patches} tree changes, ${DEFAULT_INSPECTOR_LIMITS.deliveries} deliveries (Node ${process.version})`,
  ['measure', "inspect: 'local' + a page", 'baseline: no inspector', 'ratio'],
  rows,
);
