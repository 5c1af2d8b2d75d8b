/**
 * The cross-process event log, next to raw better-sqlite3 baselines measured in the same run
 * (bench/baselines/raw-sqlite.ts). `npm run bench:queue`; BENCH_EVENTS and BENCH_RUNS scale it.
 *
 * 1. Sustained events/s, one publisher process -> one subscriber process, end to end, vs raw
 *    batched inserts (500 rows per transaction) into a bare table and into the log's own table.
 * 2. Insert-to-handler latency at 1,000 events/s (after a warm-up), vs a raw single-row insert
 *    read by a bare 1 ms poll in another process.
 * 3. Four publisher processes -> one subscriber: total events/s, lost, duplicated and reordered
 *    events, and the publishers' event-loop delay p99 (monitorEventLoopDelay), next to the same
 *    four processes publishing on routers without an event log (what the machine alone costs).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, startFixture } from '../test/support/processes.js';
import { tempDb } from '../test/support/temp-db.js';
import { rawBatchedInsert, rawCursorPoll, rawLatency } from './baselines/raw-sqlite.js';
import { fmt, hostClockMs, median, percentile, printTable } from './support/measure.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LATENCY_EVENTS = 3_000;
const LATENCY_WARMUP = 300;

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
  lastAt: number;
  p50: number;
  p99: number;
}
interface PipelineResult {
  pubs: PublisherResult[];
  sub: SubscriberResult | null;
  eventsPerSecond: number;
}

const parse = <T>(line: string) => JSON.parse(line.slice('RESULT '.length)) as T;

/** Runs publishers (and, unless `noLog`, a subscriber) on a fresh database file. */
async function pipeline(
  publishers: number,
  perPublisher: number,
  rate: number,
  noLog = false,
): Promise<PipelineResult> {
  const tmp = tempDb();
  const procs: Fixture[] = [];
  try {
    let sub: Fixture | null = null;
    if (!noLog) {
      const warmup = rate > 0 ? LATENCY_WARMUP : 0;
      sub = startFixture('bench/fixtures/queue-subscriber', [
        tmp.path,
        String(publishers * perPublisher),
        '10000',
        String(warmup),
      ]);
      procs.push(sub);
      await sub.waitFor(/^READY$/);
    }
    const pubs = Array.from({ length: publishers }, (_, i) =>
      startFixture('bench/fixtures/queue-publisher', [
        tmp.path,
        `p${i}`,
        String(perPublisher),
        String(rate),
        noLog ? 'no-log' : 'log',
      ]),
    );
    procs.push(...pubs);
    await Promise.all(pubs.map((p) => p.waitFor(/^READY$/)));
    const started = hostClockMs();
    for (const p of pubs) p.send('GO');
    const pubResults = (await Promise.all(pubs.map((p) => p.waitFor(/^RESULT /, 300_000)))).map(
      (l) => parse<PublisherResult>(l),
    );
    const subResult = sub ? parse<SubscriberResult>(await sub.waitFor(/^RESULT /, 300_000)) : null;
    const seconds = subResult ? (subResult.lastAt - started) / 1000 : Number.NaN;
    return {
      pubs: pubResults,
      sub: subResult,
      eventsPerSecond: subResult ? subResult.received / seconds : Number.NaN,
    };
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    tmp.cleanup();
  }
}

const ratio = (a: number, b: number) => (a / b).toFixed(2);
const worstLoopP99 = (r: PipelineResult) => Math.max(...r.pubs.map((p) => p.loopDelayP99));

async function main(): Promise<void> {
  console.log(
    `queue benchmark: Node ${process.version}, ${RUNS} runs, ${fmt(EVENTS)} events per throughput run (medians)`,
  );
  const dir = tempDb();
  const bare: number[] = [];
  const same: number[] = [];
  const poll: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = join(dir.dir, `bare-${i}.db`);
    bare.push(rawBatchedInsert(a, EVENTS, 'bare'));
    poll.push(rawCursorPoll(a));
    const b = join(dir.dir, `same-${i}.db`);
    same.push(rawBatchedInsert(b, EVENTS, 'event-log'));
    for (const p of [a, b])
      for (const suffix of ['', '-wal', '-shm']) rmSync(p + suffix, { force: true });
  }

  const oneToOne: number[] = [];
  for (let i = 0; i < RUNS; i++) oneToOne.push((await pipeline(1, EVENTS, 0)).eventsPerSecond);

  const ours: { p50: number; p99: number }[] = [];
  const raw: { p50: number; p99: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await pipeline(1, LATENCY_EVENTS, 1000);
    ours.push({ p50: r.sub?.p50 ?? Number.NaN, p99: r.sub?.p99 ?? Number.NaN });
    const lat = (await rawLatency(join(dir.dir, `lat-${i}.db`), LATENCY_EVENTS, 1000))
      .slice(LATENCY_WARMUP)
      .sort((a, b) => a - b);
    raw.push({ p50: percentile(lat, 50), p99: percentile(lat, 99) });
  }

  const four: PipelineResult[] = [];
  const fourBaseline: PipelineResult[] = [];
  const perPublisher = Math.round(EVENTS / 4);
  for (let i = 0; i < RUNS; i++) {
    four.push(await pipeline(4, perPublisher, 0));
    fourBaseline.push(await pipeline(4, perPublisher, 0, true));
  }
  dir.cleanup();

  const e2e = median(oneToOne);
  const bareRate = median(bare);
  const sameRate = median(same);
  const fourRate = median(four.map((r) => r.eventsPerSecond));
  const lost = four.reduce(
    (n, r) => n + (4 * perPublisher - (r.sub?.received ?? 0) + (r.sub?.duplicates ?? 0)),
    0,
  );
  const dups = four.reduce((n, r) => n + (r.sub?.duplicates ?? 0), 0);
  const reordered = four.reduce((n, r) => n + (r.sub?.outOfOrder ?? 0), 0);
  const loop = median(four.map(worstLoopP99));
  const loopBase = median(fourBaseline.map(worstLoopP99));
  const p50 = median(ours.map((l) => l.p50));
  const p99 = median(ours.map((l) => l.p99));
  const rawP50 = median(raw.map((l) => l.p50));
  const rawP99 = median(raw.map((l) => l.p99));
  printTable(
    'Event log vs raw better-sqlite3 (ratio = event log / baseline)',
    ['scenario', 'event log', 'baseline', 'ratio'],
    [
      [
        '1 -> 1 process, end to end',
        `${fmt(e2e)} ev/s`,
        `${fmt(bareRate)} rows/s: batched insert, bare table`,
        ratio(e2e, bareRate),
      ],
      [
        '1 -> 1 process, end to end',
        `${fmt(e2e)} ev/s`,
        `${fmt(sameRate)} rows/s: batched insert, the log's table`,
        ratio(e2e, sameRate),
      ],
      ['(read side alone)', '', `${fmt(median(poll))} rows/s: cursor poll + JSON.parse`, ''],
      [
        'latency p50 at 1,000 ev/s',
        `${fmt(p50, 2)} ms`,
        `${fmt(rawP50, 2)} ms: insert + bare 1 ms poll`,
        ratio(p50, rawP50),
      ],
      [
        'latency p99 at 1,000 ev/s',
        `${fmt(p99, 2)} ms`,
        `${fmt(rawP99, 2)} ms: insert + bare 1 ms poll`,
        ratio(p99, rawP99),
      ],
      [
        '4 -> 1 processes, total',
        `${fmt(fourRate)} ev/s`,
        `${fmt(sameRate)} rows/s: batched insert, the log's table`,
        ratio(fourRate, sameRate),
      ],
      [
        '4 -> 1: lost / duplicated / reordered',
        `${lost} / ${dups} / ${reordered} (all runs)`,
        '',
        '',
      ],
      [
        '4 -> 1: publisher loop delay p99',
        `${fmt(loop, 1)} ms`,
        `${fmt(loopBase, 1)} ms: same 4 publishers, no event log`,
        ratio(loop, loopBase),
      ],
    ],
  );
}

await main();
