/**
 * The cross-process event log, next to raw better-sqlite3 baselines measured in the same run
 * (bench/baselines/raw-sqlite.ts). `npm run bench:queue`; BENCH_EVENTS and BENCH_RUNS scale it.
 *
 * 1. Sustained events/s, one publisher process -> one subscriber process, end to end, vs raw
 *    batched inserts (500 rows per transaction) and a raw cursor poll loop.
 * 2. Insert-to-handler latency at 1,000 events/s, vs a raw insert read by a bare 1 ms poll.
 * 3. Four publisher processes -> one subscriber: total events/s, lost and duplicated events, and
 *    the publishers' event-loop delay p99 (monitorEventLoopDelay).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, startFixture } from '../test/support/processes.js';
import { tempDb } from '../test/support/temp-db.js';
import { rawBatchedInsert, rawCursorPoll, rawLatency } from './baselines/raw-sqlite.js';
import { fmt, median, percentile, printTable } from './support/measure.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LATENCY_EVENTS = 3_000;

interface PublisherResult {
  elapsedMs: number;
  loopDelayP50: number;
  loopDelayP99: number;
  loopDelayMax: number;
}
interface SubscriberResult {
  received: number;
  duplicates: number;
  outOfOrder: number;
  lost: Record<string, number>;
  firstAt: number;
  lastAt: number;
  p50: number;
  p99: number;
}

const result = <T>(line: string) => JSON.parse(line.slice('RESULT '.length)) as T;

async function pipeline(publishers: number, perPublisher: number, rate: number) {
  const tmp = tempDb();
  const procs: Fixture[] = [];
  try {
    const sub = startFixture('bench/fixtures/queue-subscriber', [
      tmp.path,
      String(publishers * perPublisher),
      '10000',
    ]);
    procs.push(sub);
    await sub.waitFor(/^READY$/);
    const pubs = Array.from({ length: publishers }, (_, i) =>
      startFixture('bench/fixtures/queue-publisher', [
        tmp.path,
        `p${i}`,
        String(perPublisher),
        String(rate),
      ]),
    );
    procs.push(...pubs);
    await Promise.all(pubs.map((p) => p.waitFor(/^READY$/)));
    const started = performance.timeOrigin + performance.now();
    for (const p of pubs) p.send('GO');
    const pubResults = (await Promise.all(pubs.map((p) => p.waitFor(/^RESULT /, 300_000)))).map(
      (l) => result<PublisherResult>(l),
    );
    const subResult = result<SubscriberResult>(await sub.waitFor(/^RESULT /, 300_000));
    const seconds = (subResult.lastAt - started) / 1000;
    return { pubResults, subResult, eventsPerSecond: subResult.received / seconds };
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    tmp.cleanup();
  }
}

async function main(): Promise<void> {
  console.log(
    `queue benchmark: Node ${process.version}, ${RUNS} runs, ${fmt(EVENTS)} events per throughput run (medians)`,
  );
  const dir = tempDb();
  const rawInsert: number[] = [];
  const rawPoll: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const path = join(dir.dir, `raw-${i}.db`);
    rawInsert.push(rawBatchedInsert(path, EVENTS));
    rawPoll.push(rawCursorPoll(path));
    rmSync(path, { force: true });
  }
  const oneToOne: number[] = [];
  for (let i = 0; i < RUNS; i++) oneToOne.push((await pipeline(1, EVENTS, 0)).eventsPerSecond);

  const latency: { p50: number; p99: number }[] = [];
  const rawLat: { p50: number; p99: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await pipeline(1, LATENCY_EVENTS, 1000);
    latency.push({ p50: r.subResult.p50, p99: r.subResult.p99 });
    const raw = (await rawLatency(join(dir.dir, `lat-${i}.db`), LATENCY_EVENTS, 1000)).sort(
      (a, b) => a - b,
    );
    rawLat.push({ p50: percentile(raw, 50), p99: percentile(raw, 99) });
  }

  const four: Awaited<ReturnType<typeof pipeline>>[] = [];
  for (let i = 0; i < RUNS; i++) four.push(await pipeline(4, Math.round(EVENTS / 4), 0));
  dir.cleanup();

  const ins = median(rawInsert);
  const e2e = median(oneToOne);
  const fourRate = median(four.map((r) => r.eventsPerSecond));
  const lost = four.reduce(
    (n, r) =>
      n +
      Object.values(r.subResult.lost).reduce((a, b) => a + b, 0) +
      (EVENTS - r.subResult.received - Object.values(r.subResult.lost).reduce((a, b) => a + b, 0)),
    0,
  );
  const dups = four.reduce((n, r) => n + r.subResult.duplicates, 0);
  const loopP99 = median(four.map((r) => Math.max(...r.pubResults.map((p) => p.loopDelayP99))));
  printTable(
    'Event log vs raw better-sqlite3 (ratio = ours / raw)',
    ['scenario', 'event log', 'raw baseline', 'ratio'],
    [
      [
        '1 publisher -> 1 subscriber process, end to end',
        `${fmt(e2e)} ev/s`,
        `${fmt(ins)} rows/s (batched insert)`,
        (e2e / ins).toFixed(2),
      ],
      ['raw cursor poll loop (read side alone)', '', `${fmt(median(rawPoll))} rows/s`, ''],
      [
        'latency p50 at 1,000 ev/s',
        `${fmt(median(latency.map((l) => l.p50)), 2)} ms`,
        `${fmt(median(rawLat.map((l) => l.p50)), 2)} ms (1 ms poll)`,
        (median(latency.map((l) => l.p50)) / median(rawLat.map((l) => l.p50))).toFixed(2),
      ],
      [
        'latency p99 at 1,000 ev/s',
        `${fmt(median(latency.map((l) => l.p99)), 2)} ms`,
        `${fmt(median(rawLat.map((l) => l.p99)), 2)} ms (1 ms poll)`,
        (median(latency.map((l) => l.p99)) / median(rawLat.map((l) => l.p99))).toFixed(2),
      ],
      [
        '4 publishers -> 1 subscriber, total',
        `${fmt(fourRate)} ev/s`,
        `${fmt(ins)} rows/s (batched insert)`,
        (fourRate / ins).toFixed(2),
      ],
      [
        '4 publishers: lost / duplicated / out of order (all runs)',
        `${lost} / ${dups} / ${four.reduce((n, r) => n + r.subResult.outOfOrder, 0)}`,
        '',
        '',
      ],
      [
        '4 publishers: publisher event-loop delay p99 (worst publisher)',
        `${fmt(loopP99, 1)} ms`,
        '',
        '',
      ],
    ],
  );
}

await main();
