/**
 * Across hosts, on a real nats-server (127.0.0.1, its own store): cross-host publish-to-handler
 * through the whole path (sender's outbox in its SQLite file, JetStream, the receiver's inbound
 * consumer, its file, its router) against raw JetStream between the same two kinds of process
 * (pipelined publish, `consume()`), measured in the same run: throughput of N events, latency at
 * 1,000 ev/s, and the CPU time per event at that rate (both peers and nats-server, all their
 * threads: what the path costs, steadier on a shared machine than its tail latency). Then HOST_OFFLINE detection after kill -9 and leader takeover after kill -9 of
 * the leader. Medians of BENCH_RUNS (3) runs. `npm run bench:cluster`.
 */
import { readFileSync, rmSync } from 'node:fs';
import { natsUnavailable, startNats, tempDir } from '../test/support/nats.js';
import { startFixture } from '../test/support/processes.js';
import { fmt, hostClockMs, median, printTable } from './support/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE_EVENTS = 5_000;

const why = natsUnavailable();
if (why) {
  console.log(`cluster benchmark not run: ${why}`);
  process.exit(0);
}
const nats = await startNats();
const dir = tempDir('ringrift-bench-cluster-');
const now = hostClockMs;

type Peer = ReturnType<typeof startFixture>;
/** Every peer started, so that a failed measurement leaves no process behind. */
const peers: Peer[] = [];
const peer = async (mode: string, host: string): Promise<Peer> => {
  const p = startFixture('bench/fixtures/cluster-peer', [mode, nats.url, dir, host], {
    RINGRIFT_LOG_LEVEL: 'silent',
  });
  peers.push(p);
  await p.waitFor(/^READY$/, 30_000);
  return p;
};
const result = async (p: Peer) =>
  JSON.parse((await p.waitFor(/^RESULT /, 120_000)).slice(7)) as {
    received: number;
    first: number;
    last: number;
    p50: number;
    p99: number;
  };
/** A peer's CPU time so far, in µs (all its threads). */
const cpuOf = async (p: Peer): Promise<number> => {
  p.lines.length = 0;
  p.send('cpu');
  return Number((await p.waitFor(/^CPU /)).slice(4));
};
/** nats-server's CPU time so far, in µs, from /proc (utime + stime, in clock ticks of 10 ms). */
const serverCpu = (): number => {
  const fields = readFileSync(`/proc/${nats.pid()}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
const stop = async (...peers: Peer[]) => {
  for (const p of peers) p.child.kill('SIGKILL');
  await Promise.all(peers.map((p) => p.exited));
};

/** Throughput (events/s) and latency at 1,000 ev/s between a sender and a receiver of a kind. */
async function measure(kind: 'full' | 'raw', run: number) {
  const recv = await peer(`${kind}-recv`, `r${kind}${run}`);
  const send = await peer(`${kind}-send`, `s${kind}${run}`);
  // Both joined (presence, consumer in place) before anything is sent.
  await new Promise((r) => setTimeout(r, 1_500));
  recv.lines.length = 0;
  recv.send(`expect ${N}`);
  await recv.waitFor(/^EXPECTING$/);
  const started = now();
  send.send(`go ${N} 0`);
  const burst = await result(recv);
  const cpuBefore = (await cpuOf(send)) + (await cpuOf(recv)) + serverCpu();
  recv.lines.length = 0;
  recv.send(`expect ${RATE_EVENTS}`);
  await recv.waitFor(/^EXPECTING$/);
  send.send(`go ${RATE_EVENTS} 1000`);
  const paced = await result(recv);
  const cpu = ((await cpuOf(send)) + (await cpuOf(recv)) + serverCpu() - cpuBefore) / RATE_EVENTS;
  await stop(send, recv);
  return {
    throughput: N / ((burst.last - started) / 1000),
    p50: paced.p50,
    p99: paced.p99,
    cpu,
  };
}

/** Seconds from kill -9 of a host until another host's router hears HOST_OFFLINE for it. */
async function offlineDetection(run: number) {
  const watcher = await peer('member', `w${run}`);
  const victim = await peer('member', `v${run}`);
  await watcher.waitFor(new RegExp(`"host":"v${run}"`), 20_000); // its HOST_ONLINE
  await new Promise((r) => setTimeout(r, 1_000));
  victim.child.kill('SIGKILL');
  const killed = now();
  const line = await watcher.waitFor(new RegExp(`"type":"HOST_OFFLINE".*"host":"v${run}"`), 60_000);
  const at = (JSON.parse(line.slice(6)) as { at: number }).at;
  await stop(watcher, victim);
  return (at - killed) / 1000;
}

/** Seconds from kill -9 of the leader until the standby hears LEADER_ELECTED for itself. */
async function takeover(run: number) {
  const first = await peer('leader', `l1x${run}`);
  await first.waitFor(/"type":"LEADER_ELECTED".*"leader_id":"l1x/, 30_000);
  const second = await peer('leader', `l2x${run}`);
  await second.waitFor(/"type":"LEADER_ELECTED"/, 30_000); // it sees l1 lead
  first.child.kill('SIGKILL');
  const killed = now();
  const line = await second.waitFor(
    new RegExp(`"type":"LEADER_ELECTED".*"leader_id":"l2x${run}"`),
    60_000,
  );
  const at = (JSON.parse(line.slice(6)) as { at: number }).at;
  await stop(first, second);
  return (at - killed) / 1000;
}

try {
  const full: Awaited<ReturnType<typeof measure>>[] = [];
  const raw: Awaited<ReturnType<typeof measure>>[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternated, so that a noisy moment of the machine hits both.
    raw.push(await measure('raw', run));
    full.push(await measure('full', run));
  }
  const m = (xs: { [k: string]: number }[], k: string) => median(xs.map((x) => x[k] as number));
  printTable(
    `Cross-host publish-to-handler, ${N} events as fast as possible; latency at 1,000 ev/s over ${RATE_EVENTS} events (medians of ${RUNS})`,
    [
      'path',
      'events/s',
      'ratio',
      'p50 ms',
      'p99 ms',
      'p50 over raw',
      'p99 over raw',
      'CPU µs/event',
    ],
    [
      [
        'raw JetStream (baseline)',
        fmt(m(raw, 'throughput')),
        '1.00',
        fmt(m(raw, 'p50'), 2),
        fmt(m(raw, 'p99'), 2),
        '-',
        '-',
        fmt(m(raw, 'cpu')),
      ],
      [
        'runtime: outbox, JetStream, inbound, file, router',
        fmt(m(full, 'throughput')),
        fmt(m(full, 'throughput') / m(raw, 'throughput'), 2),
        fmt(m(full, 'p50'), 2),
        fmt(m(full, 'p99'), 2),
        `+${fmt(m(full, 'p50') - m(raw, 'p50'), 2)}`,
        `+${fmt(m(full, 'p99') - m(raw, 'p99'), 2)}`,
        fmt(m(full, 'cpu')),
      ],
    ],
  );
  const offline: number[] = [];
  const leader: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    offline.push(await offlineDetection(run));
    leader.push(await takeover(run));
  }
  printTable(
    `Failure detection after kill -9 (presence TTL 10 s, sweep 1 s; lease TTL 9 s, renewed every 3 s); ${RUNS} runs`,
    ['what', 'median s', 'runs s', 'goal s'],
    [
      [
        'HOST_OFFLINE seen by another host',
        fmt(median(offline), 1),
        offline.map((s) => fmt(s, 1)).join(', '),
        '15',
      ],
      [
        'LEADER_ELECTED of the standby',
        fmt(median(leader), 1),
        leader.map((s) => fmt(s, 1)).join(', '),
        '20',
      ],
    ],
  );
} finally {
  await stop(...peers.filter((p) => p.child.exitCode === null && p.child.signalCode === null));
  await nats.dispose();
  rmSync(dir, { recursive: true, force: true });
}
