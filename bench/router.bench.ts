/**
 * Router throughput, latency and memory, next to the bare bus (bench/baselines/bare-bus.ts)
 * measured in the same run. `npm run bench:router`; `BENCH_RUNS` and `BENCH_EVENTS` scale it.
 *
 * Throughput: events published in batches of 1,000, each batch awaited until every handler ran
 * (the router's `whenIdle()`, the bare bus's `Promise.all` of its publishes). Latency: one event
 * at a time, from the publish call to the last handler's first line. Memory: heap after GC.
 */
import { pino } from 'pino';
import { createRouter } from '../src/index.js';
import { BareBus } from './baselines/bare-bus.js';
import { fmt, gc, median, percentile, printTable, repeat } from './support/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const LATENCY_SAMPLES = 20_000;
const MEMORY_EVENTS = 1_000_000;
const BATCH = 1_000;
const TYPE = 'TRAINING_PROGRESS';
const payload = (n: number) => ({ config_key: 'hex8_2p', epoch: n, loss: 0.42, step: n * 10 });

const silent = pino({ level: 'silent' });
const newRouter = () => createRouter({ logger: silent, trace: false, historySize: 1000 });

let sink = 0;
const asyncHandler = async (_: unknown) => {
  sink++;
};

async function routerThroughput(
  subscribers: number,
  events: number,
  router = newRouter(),
): Promise<number> {
  for (let s = 0; s < subscribers; s++) router.subscribe(TYPE, async (e) => asyncHandler(e));
  const started = performance.now();
  for (let i = 0; i < events; i += BATCH) {
    for (let j = i; j < i + BATCH; j++) router.publish(TYPE, payload(j));
    await router.whenIdle();
  }
  const seconds = (performance.now() - started) / 1000;
  await router.close();
  return events / seconds;
}

async function bareThroughput(subscribers: number, events: number): Promise<number> {
  const bus = new BareBus();
  for (let s = 0; s < subscribers; s++) bus.subscribe(TYPE, asyncHandler);
  const started = performance.now();
  const pending: Promise<void>[] = new Array(BATCH);
  for (let i = 0; i < events; i += BATCH) {
    for (let j = 0; j < BATCH; j++) pending[j] = bus.publish(TYPE, payload(i + j));
    await Promise.all(pending);
  }
  return events / ((performance.now() - started) / 1000);
}

/** Microseconds from publish to the last of `subscribers` handlers starting, per event. */
async function routerLatency(subscribers: number): Promise<number[]> {
  const router = newRouter();
  const samples: number[] = [];
  let t0 = 0;
  let seen = 0;
  let done: () => void = () => {};
  for (let s = 0; s < subscribers; s++) {
    router.subscribe(TYPE, async () => {
      if (++seen === subscribers) {
        samples.push((performance.now() - t0) * 1000);
        done();
      }
    });
  }
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    seen = 0;
    const handled = new Promise<void>((r) => {
      done = r;
    });
    t0 = performance.now();
    router.publish(TYPE, payload(i));
    await handled;
  }
  await router.close();
  return samples;
}

async function bareLatency(subscribers: number): Promise<number[]> {
  const bus = new BareBus();
  const samples: number[] = [];
  let t0 = 0;
  let seen = 0;
  for (let s = 0; s < subscribers; s++) {
    bus.subscribe(TYPE, async () => {
      if (++seen === subscribers) samples.push((performance.now() - t0) * 1000);
    });
  }
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    seen = 0;
    t0 = performance.now();
    await bus.publish(TYPE, payload(i));
  }
  return samples;
}

async function heapAfter(
  run: (events: number) => Promise<unknown>,
  events: number,
): Promise<number> {
  gc();
  await run(events);
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  console.log(
    `router benchmark: Node ${process.version}, ${RUNS} runs of ${fmt(EVENTS)} events (medians)`,
  );
  const rows: (string | number)[][] = [];
  for (const subs of [1, 10]) {
    const ours = median(await repeat(RUNS, () => routerThroughput(subs, EVENTS)));
    const bare = median(await repeat(RUNS, () => bareThroughput(subs, EVENTS)));
    rows.push([
      `throughput, ${subs} async subscriber(s)`,
      `${fmt(ours)} ev/s`,
      `${fmt(bare)} ev/s`,
      (ours / bare).toFixed(2),
    ]);
  }
  for (const subs of [1, 10]) {
    const ours = (await repeat(3, () => routerLatency(subs))).map((s) => s.sort((a, b) => a - b));
    const bare = (await repeat(3, () => bareLatency(subs))).map((s) => s.sort((a, b) => a - b));
    for (const p of [50, 99]) {
      const o = median(ours.map((s) => percentile(s, p)));
      const b = median(bare.map((s) => percentile(s, p)));
      rows.push([
        `latency p${p}, ${subs} subscriber(s)`,
        `${fmt(o, 1)} us`,
        `${fmt(b, 1)} us`,
        (o / b).toFixed(2),
      ]);
    }
  }
  printTable(
    'Router vs bare Map+Promise.all bus (ratio = router / bare)',
    ['scenario', 'router', 'bare bus', 'ratio'],
    rows,
  );

  // Memory: one router publishing 1e6 events; heap after 1e5 and after 1e6 (history is bounded).
  const router = newRouter();
  router.subscribe(TYPE, async (e) => asyncHandler(e));
  const drive = async (events: number) => {
    for (let i = 0; i < events; i += BATCH) {
      for (let j = i; j < i + BATCH; j++) router.publish(TYPE, payload(j));
      await router.whenIdle();
    }
  };
  const after1e5 = await heapAfter(drive, MEMORY_EVENTS / 10);
  const after1e6 = await heapAfter(drive, MEMORY_EVENTS - MEMORY_EVENTS / 10);
  await router.close();
  printTable(
    'Router heap over 1e6 events (1 async subscriber)',
    ['after', 'heap used', 'growth'],
    [
      ['1e5 events', `${fmt(after1e5 / 2 ** 20, 1)} MiB`, ''],
      [
        '1e6 events',
        `${fmt(after1e6 / 2 ** 20, 1)} MiB`,
        `${fmt((after1e6 - after1e5) / 2 ** 20, 2)} MiB`,
      ],
    ],
  );
  if (sink === 0) console.log('(no handler ran?)');
}

await main();
