/**
 * Runtime overhead per pipeline iteration: the MasterLoop runs iterations over one config with
 * zero-duration simulated work, so the time is the runtime's own (router, daemon hosts, machines,
 * supervisor). Baseline in the same run: publishing the same number of events through a router
 * with one subscriber and nothing else. Heap after 10, 100 and all iterations (forced GC); the
 * router's recent-events ring (1,000 envelopes) fills during the first ~45 iterations.
 * `npm run bench:pipeline`; BENCH_ITERATIONS scales it.
 */
import { pino } from 'pino';
import { createRouter, createRuntime, createSimulatedWorker } from '../src/index.js';
import { createPipelineDaemons } from '../src/pipeline/pipeline-daemons.js';
import { fmt, gc, printTable } from './support/measure.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000);
const silent = pino({ level: 'silent' });
const zero = { selfplay: 0, sync: 0, export: 0, training: 0, evaluation: 0, distribution: 0 };
const MiB = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MiB`;

async function pipeline() {
  const daemons = createPipelineDaemons({
    worker: createSimulatedWorker({ seed: 1, durationsMs: zero }),
    trainingThreshold: 10,
    promotion: { minWinRate: 0, minEloGain: -1e9 },
    masterLoop: { configs: ['hex8_2p'], iterations: ITERATIONS, gamesPerBatch: 10 },
  });
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: false,
    logger: silent,
    retention: false,
  });
  const heap: Record<number, number> = {};
  let events = 0;
  let started = 0;
  runtime.router.subscribe('*', () => void events++);
  const done = new Promise<void>((resolve) => {
    runtime.router.subscribe('ITERATION_COMPLETE', (e) => {
      if (e.payload.iteration === 10 || e.payload.iteration === 100) {
        gc();
        heap[e.payload.iteration] = process.memoryUsage().heapUsed;
      }
    });
    runtime.router.subscribe('DAEMON_STATUS_CHANGED', (e) => {
      if (e.payload.daemon_name === 'MASTER_LOOP' && e.payload.new_status === 'stopped') resolve();
    });
    runtime.router.subscribe('ALL_CRITICAL_DAEMONS_READY', () => {
      started = performance.now();
      events = 0;
    });
  });
  await runtime.start();
  await done;
  const ms = performance.now() - started;
  await runtime.router.whenIdle();
  gc();
  heap[ITERATIONS] = process.memoryUsage().heapUsed;
  await runtime.stop();
  return { msPerIteration: ms / ITERATIONS, eventsPerIteration: events / ITERATIONS, heap };
}

async function routerOnly(events: number): Promise<number> {
  const router = createRouter({ logger: silent, trace: false });
  router.subscribe('*', () => {});
  const started = performance.now();
  for (let i = 0; i < events; i += 500) {
    for (let j = 0; j < 500 && i + j < events; j++) router.publish('TRAINING_PROGRESS', { n: j });
    await router.whenIdle();
  }
  const ms = performance.now() - started;
  await router.close();
  return ms;
}

const result = await pipeline();
const baseline =
  (await routerOnly(Math.round(result.eventsPerIteration * ITERATIONS))) / ITERATIONS;
printTable(
  `Pipeline overhead, ${ITERATIONS} iterations, zero-duration work (Node ${process.version})`,
  ['measure', 'pipeline', 'baseline', 'ratio'],
  [
    [
      'ms per iteration',
      fmt(result.msPerIteration, 2),
      `${fmt(baseline, 3)}: same events, bare router`,
      (result.msPerIteration / baseline).toFixed(1),
    ],
    ['events per iteration', fmt(result.eventsPerIteration, 1), '', ''],
    ...heapRows(result.heap),
  ],
);

/** Heap after 10, 100 and all iterations, each with its growth from the one before. */
function heapRows(heap: Record<number, number>): string[][] {
  const points = [10, 100, ITERATIONS].filter(
    (n, i, all) => n <= ITERATIONS && all.indexOf(n) === i,
  );
  return points.map((n, i) => {
    const before = i > 0 ? (points[i - 1] as number) : null;
    const growth =
      before === null ? '' : `+${MiB((heap[n] ?? 0) - (heap[before] ?? 0))} from ${before}`;
    return [`heap after ${n} iterations`, MiB(heap[n] ?? 0), '', growth];
  });
}
