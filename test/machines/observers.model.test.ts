/**
 * Model-based tests of the daemons that watch the others: MONITORING and METRICS_ANALYSIS (the
 * Evaluation table) and DAEMON_WATCHDOG (Daemon Lifecycle). As for every machine: an abstract
 * model predicts, after each event, what the daemon keeps or says; every path of it, extended by
 * every event, runs on the real machine, which must take all of its states and transitions.
 */
import { expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { metricsAnalysisMachine } from '../../src/machines/evaluation/metrics-analysis.js';
import { monitoringMachine } from '../../src/machines/evaluation/monitoring.js';
import { daemonWatchdogMachine } from '../../src/machines/lifecycle/daemon-watchdog.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));
const T0 = 1_800_000_000;
const stamped = <T extends EventName>(type: T, payload: PayloadInput<T>, at: number) => {
  const e = catalogEvent(type, payload);
  return { ...e, envelope: { ...e.envelope, timestamp: at } };
};

// ---- MONITORING: model m1's evaluations, host h's syncs (at most 2 running), daemon X. ----
type MonCtx = { evals: number; syncs: number; x: string };
const monitoringModel = setup({
  types: { context: {} as MonCtx, events: {} as Step },
}).createMachine({
  context: { evals: 0, syncs: 0, x: 'unknown' },
  on: {
    EVAL_START: { actions: assign({ evals: ({ context }) => Math.min(2, context.evals + 1) }) },
    EVAL_DONE: { actions: assign({ evals: ({ context }) => Math.max(0, context.evals - 1) }) },
    EVAL_FAIL: { actions: assign({ evals: ({ context }) => Math.max(0, context.evals - 1) }) },
    SYNC_START: { actions: assign({ syncs: ({ context }) => Math.min(2, context.syncs + 1) }) },
    SYNC_DONE: { actions: assign({ syncs: ({ context }) => Math.max(0, context.syncs - 1) }) },
    SYNC_FAIL: { actions: assign({ syncs: ({ context }) => Math.max(0, context.syncs - 1) }) },
    X_RUNNING: { actions: assign({ x: 'running' }) },
    X_BACKING_OFF: { actions: assign({ x: 'backing_off' }) },
  },
});
const status = (from: string, to: string) => () =>
  catalogEvent('DAEMON_STATUS_CHANGED', {
    daemon_name: 'X',
    hostname: 'h',
    old_status: from,
    new_status: to,
  });
const MONITORING_EVENTS: Record<string, () => unknown> = {
  EVAL_START: () =>
    catalogEvent('EVALUATION_STARTED', { config_key: 'c', model_id: 'c-m1', games_planned: 10 }),
  EVAL_DONE: () =>
    catalogEvent('EVALUATION_COMPLETED', {
      config_key: 'c',
      elo: 1500,
      games_played: 10,
      win_rate: 0.6,
      model_path: 'models/c/m1.pth',
    }),
  EVAL_FAIL: () =>
    catalogEvent('EVALUATION_FAILED', { config_key: 'c', model_id: 'c-m1', error: 'x' }),
  SYNC_START: () => catalogEvent('DATA_SYNC_STARTED', { host: 'h' }),
  SYNC_DONE: () => catalogEvent('DATA_SYNC_COMPLETED', { host: 'h', games_synced: 5, duration: 1 }),
  SYNC_FAIL: () => catalogEvent('DATA_SYNC_FAILED', { host: 'h', error: 'x' }),
  X_RUNNING: status('starting', 'running'),
  X_BACKING_OFF: status('running', 'backing_off'),
};
const monitored = (c: {
  evaluations: { running: Record<string, readonly number[]> };
  syncs: { running: Record<string, readonly number[]> };
  daemons: Record<string, { status: string }>;
}) => ({
  evals: c.evaluations.running['c-m1']?.length ?? 0,
  syncs: c.syncs.running.h?.length ?? 0,
  x: c.daemons['X@h']?.status ?? 'unknown',
});
describeModelBased(
  'MONITORING',
  {
    model: monitoringModel,
    events: steps(Object.keys(MONITORING_EVENTS)),
    machine: monitoringMachine,
    apply: (e, { actor }) => {
      const now = monitored(actor.getSnapshot().context);
      // The real record takes any number; the model stops at 2 to stay finite.
      if (
        (e.type === 'EVAL_START' && now.evals === 2) ||
        (e.type === 'SYNC_START' && now.syncs === 2)
      )
        return;
      actor.send(MONITORING_EVENTS[e.type]?.() as never);
    },
    observe: ({ actor }) => monitored(actor.getSnapshot().context),
    predict: (m) => ({ evals: m.context.evals, syncs: m.context.syncs, x: m.context.x }),
  },
  60,
  () => {
    it('counts finished lifecycles instead of keeping them', () => {
      const actor = createActor(monitoringMachine).start();
      for (const k of ['EVAL_START', 'EVAL_DONE', 'EVAL_START', 'EVAL_FAIL', 'SYNC_START'])
        actor.send(MONITORING_EVENTS[k]?.() as never);
      const { evaluations, syncs } = actor.getSnapshot().context;
      expect(evaluations).toEqual({ running: {}, started: 2, completed: 1, failed: 1 });
      expect(syncs.started).toBe(1);
      expect(Object.keys(syncs.running)).toEqual(['h']);
    });
  },
);

// ---- METRICS_ANALYSIS: gauntlets that set a new best Elo, or fall short of it. ----
type MetricsCtx = { points: number; sinceBest: number; plateaued: boolean; out: string[] };
const point =
  (best: boolean) =>
  ({ context }: { context: MetricsCtx }) => {
    const points = Math.min(11, context.points + 1);
    const sinceBest = best ? 0 : Math.min(11, context.sinceBest + 1);
    // The last 10 points hold no new best, and there is a point before them.
    const flat = points > 10 && sinceBest >= 10;
    return {
      points,
      sinceBest,
      plateaued: flat,
      out: flat && !context.plateaued ? ['PLATEAU_DETECTED:c'] : [],
    };
  };
const metricsModel = setup({
  types: { context: {} as MetricsCtx, events: {} as Step },
}).createMachine({
  context: { points: 0, sinceBest: 0, plateaued: false, out: [] },
  on: {
    NEW_BEST: { actions: assign(point(true)) },
    SHORT_OF_BEST: { actions: assign(point(false)) },
    PROGRESS: { actions: assign({ out: [] }) },
  },
});
let bests = 0;
let clock = T0;
/** Moves the metrics clock on by `seconds` and returns the new time. */
const tick = (seconds: number): number => {
  clock += seconds;
  return clock;
};
const METRICS_EVENTS: Record<string, () => unknown> = {
  NEW_BEST: () =>
    stamped(
      'EVALUATION_COMPLETED',
      { config_key: 'c', elo: 2000 + 10 * ++bests, games_played: 10, win_rate: 0.6, model_id: 'm' },
      tick(60),
    ),
  SHORT_OF_BEST: () =>
    stamped(
      'EVALUATION_COMPLETED',
      { config_key: 'c', elo: 1000, games_played: 10, win_rate: 0.5, model_id: 'm' },
      tick(60),
    ),
  PROGRESS: () =>
    stamped(
      'EVALUATION_PROGRESS',
      { config_key: 'c', model_id: 'm', games_completed: 5, games_planned: 10 },
      tick(10),
    ),
};
describeModelBased(
  'METRICS_ANALYSIS',
  {
    model: metricsModel,
    events: steps(Object.keys(METRICS_EVENTS)),
    machine: metricsAnalysisMachine,
    reset: () => {
      bests = 0;
      clock = T0;
    },
    apply: (e, { actor }) => actor.send(METRICS_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => `${e.type}:${(e.payload as { config_key: string }).config_key}`),
    predict: (m) => m.context.out,
  },
  60,
  () => {
    it('tracks a running gauntlet’s progress and pace, and closes it when it completes', () => {
      const actor = createActor(metricsAnalysisMachine).start();
      const progress = (games: number, at: number) =>
        actor.send(
          stamped(
            'EVALUATION_PROGRESS',
            { config_key: 'c', model_id: 'c-m1', games_completed: games, games_planned: 100 },
            at,
          ) as never,
        );
      progress(0, T0);
      progress(50, T0 + 10);
      expect(actor.getSnapshot().context.running['c-m1']).toMatchObject({
        games_completed: 50,
        games_planned: 100,
        pace: 5,
      });
      actor.send(
        catalogEvent('EVALUATION_COMPLETED', {
          config_key: 'c',
          elo: 1500,
          games_played: 100,
          win_rate: 0.6,
          model_path: 'models/c/m1.pth',
        }) as never,
      );
      expect(actor.getSnapshot().context.running).toEqual({});
    });
  },
);

// ---- DAEMON_WATCHDOG: daemon X crashes 10 min or 70 min after the previous event. ----
const HOUR = 3_600;
type WatchCtx = { ages: readonly number[]; alerted: boolean; out: string[] };
const crashAfter =
  (gap: number) =>
  ({ context }: { context: WatchCtx }) => {
    const ages = [0, ...context.ages.map((a) => a + gap)].filter((a) => a < HOUR);
    if (ages.length < 3) return { ages, alerted: false, out: [] };
    return { ages, alerted: true, out: context.alerted ? [] : ['HEALTH_ALERT:X'] };
  };
const watchdogModel = setup({
  types: { context: {} as WatchCtx, events: {} as Step },
}).createMachine({
  context: { ages: [], alerted: false, out: [] },
  on: {
    CRASH_SOON: { actions: assign(crashAfter(600)) },
    CRASH_LATE: { actions: assign(crashAfter(4_200)) },
    RUNNING: { actions: assign({ out: [] }) },
  },
});
let now = T0;
const crash = (gap: number) => () => {
  now += gap;
  return stamped(
    'DAEMON_STATUS_CHANGED',
    {
      daemon_name: 'X',
      hostname: 'h',
      old_status: 'running',
      new_status: 'backing_off',
      error: 'boom',
    },
    now,
  );
};
const WATCHDOG_EVENTS: Record<string, () => unknown> = {
  CRASH_SOON: crash(600),
  CRASH_LATE: crash(4_200),
  RUNNING: () =>
    stamped(
      'DAEMON_STATUS_CHANGED',
      { daemon_name: 'X', hostname: 'h', old_status: 'starting', new_status: 'running' },
      now,
    ),
};
describeModelBased(
  'DAEMON_WATCHDOG',
  {
    model: watchdogModel,
    events: steps(Object.keys(WATCHDOG_EVENTS)),
    machine: daemonWatchdogMachine,
    reset: () => {
      now = T0;
    },
    apply: (e, { actor }) => actor.send(WATCHDOG_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => `${e.type}:${(e.payload as { component: string }).component}`),
    predict: (m) => m.context.out,
  },
  20,
  () => {
    it('names the daemon, its host, how often and its last error', () => {
      now = T0;
      const out: Emitted[] = [];
      const actor = createActor(daemonWatchdogMachine);
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      for (let i = 0; i < 3; i++) actor.send(crash(600)() as never);
      expect(out.map((e) => e.payload)).toEqual([
        {
          component: 'X',
          host: 'h',
          severity: 'warning',
          restarts: 3,
          window_seconds: 3600,
          message: 'X on h crashed 3 times in the last hour (last: boom)',
        },
      ]);
    });
  },
);
