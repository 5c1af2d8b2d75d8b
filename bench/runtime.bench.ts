/**
 * The runtime's own costs, with baselines measured in the same run. `npm run bench:runtime`.
 *
 * 1. Events/s through the router into a daemon actor, vs bare `actor.send` on the same machine.
 * 2. Time to start a 25-daemon profile whose daemons do no start work of their own (ready at
 *    once), i.e. the supervisor's own cost.
 * 3. Time from a daemon crash to its replacement being ready, minus the backoff (1 ms here).
 */
import { pino } from 'pino';
import { assign, createActor, setup } from 'xstate';
import { createRuntime, type DaemonSpec } from '../src/index.js';
import { testDaemon } from '../test/support/daemons.js';
import { until } from '../test/support/log.js';
import { fmt, median, printTable, repeat } from './support/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const silent = pino({ level: 'silent' });

const counter = setup({
  types: { context: {} as { handled: number }, events: {} as { type: string; payload?: unknown } },
}).createMachine({
  context: { handled: 0 },
  initial: 'ready',
  states: {
    ready: {
      tags: ['ready'],
      on: { HOST_ONLINE: { actions: assign({ handled: ({ context }) => context.handled + 1 }) } },
    },
  },
});

async function throughRouter(): Promise<number> {
  const spec: DaemonSpec = {
    type: 'COUNTER',
    machine: counter,
    machineVersion: '1',
    subscribes: ['HOST_ONLINE'],
    emits: [],
  };
  const runtime = createRuntime({
    profile: ['COUNTER'],
    daemons: [spec],
    dbPath: false,
    logger: silent,
  });
  await runtime.start();
  await until(() => runtime.status().daemons[0]?.ready === true);
  const started = performance.now();
  for (let i = 0; i < EVENTS; i += 1000) {
    for (let j = 0; j < 1000; j++) runtime.router.publish('HOST_ONLINE', { host: 'h' });
    await runtime.router.whenIdle();
  }
  const rate = EVENTS / ((performance.now() - started) / 1000);
  const context = runtime.supervisor.getDaemonSnapshot('COUNTER')?.context as
    | { handled: number }
    | undefined;
  const handled = context?.handled;
  if (handled !== EVENTS) throw new Error(`daemon handled ${handled} of ${EVENTS}`);
  await runtime.stop();
  return rate;
}

async function bareSend(): Promise<number> {
  const actor = createActor(counter).start();
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++)
    actor.send({ type: 'HOST_ONLINE', payload: { host: 'h', timestamp: 1 } });
  const rate = EVENTS / ((performance.now() - started) / 1000);
  actor.stop();
  return rate;
}

/** 25 daemons in a layered DAG (each depends on up to two of the previous five), ready at once. */
function profile25(): DaemonSpec[] {
  return Array.from({ length: 25 }, (_, i) =>
    testDaemon(`D${i}`, {
      dependsOn:
        i === 0
          ? []
          : [...new Set([`D${Math.max(0, i - 1 - (i % 5))}`, `D${Math.floor(i / 2)}`])].filter(
              (d) => d !== `D${i}`,
            ),
    }),
  );
}

async function startProfile(): Promise<number> {
  const daemons = profile25();
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: false,
    logger: silent,
  });
  const started = performance.now();
  await runtime.start();
  await until(() => runtime.status().daemons.every((d) => d.ready), 10_000);
  const ms = performance.now() - started;
  await runtime.stop();
  return ms;
}

async function crashToReady(): Promise<number> {
  const runtime = createRuntime({
    profile: ['CRASHY'],
    daemons: [
      testDaemon('CRASHY', {
        backoff: { initialMs: 1, maxMs: 1, jitter: 0 },
        intensity: { maxRestarts: 1_000 },
      }),
    ],
    dbPath: false,
    logger: silent,
  });
  await runtime.start();
  await until(() => runtime.status().daemons[0]?.ready === true);
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const restarted = runtime.router.once('DAEMON_STARTED', undefined, { timeoutMs: 5_000 });
    const started = performance.now();
    runtime.router.publish('TASK_FAILED', {
      task_id: 't',
      task_type: 'x',
      node_id: 'n',
      error: 'throw',
      target: 'CRASHY',
    });
    await restarted;
    samples.push(performance.now() - started - 1);
  }
  await runtime.stop();
  return median(samples);
}

async function main(): Promise<void> {
  console.log(`runtime benchmark: Node ${process.version}, ${RUNS} runs (medians)`);
  const ours = median(await repeat(RUNS, throughRouter));
  const bare = median(await repeat(RUNS, bareSend));
  const start = median(await repeat(RUNS, startProfile));
  const restart = median(await repeat(RUNS, crashToReady));
  printTable(
    'Runtime costs',
    ['scenario', 'runtime', 'baseline', 'ratio'],
    [
      [
        'events into a daemon actor',
        `${fmt(ours)} ev/s`,
        `${fmt(bare)} ev/s: bare actor.send`,
        (ours / bare).toFixed(2),
      ],
      [
        'start a 25-daemon profile (no start work)',
        `${fmt(start, 1)} ms`,
        'goal: under 100 ms',
        '',
      ],
      [
        'crash -> replacement ready, minus backoff',
        `${fmt(restart, 2)} ms`,
        'goal: under 20 ms',
        '',
      ],
    ],
  );
}

await main();
