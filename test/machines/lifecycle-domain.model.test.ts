/**
 * Model-based tests of the Daemon Lifecycle section's new daemons: DAEMON_MANAGER (the guide's
 * DaemonManager as a subscriber) and ALERT_MANAGER. Same method as the other machines: an
 * abstract model predicts what each event makes the daemon say; every path of it, extended by
 * every event, runs on the real machine, which must take every state and transition.
 */
import { expect, it } from 'vitest';
import { assign, createActor, SimulatedClock, setup } from 'xstate';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { alertManagerMachine } from '../../src/machines/lifecycle/alert-manager.js';
import { daemonManagerMachine } from '../../src/machines/lifecycle/daemon-manager.js';
import { improvementOptimizerMachine } from '../../src/machines/lifecycle/improvement-optimizer.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));
const at =
  <T extends EventName>(type: T, payload: PayloadInput<T>, timestamp?: number) =>
  () => {
    const e = catalogEvent(type, payload);
    return timestamp === undefined ? e : { ...e, envelope: { ...e.envelope, timestamp } };
  };

// ---- DAEMON_MANAGER: config c; its model m2 regresses, is rolled back to m1, and m1 is
// distributed again, in any order; training resumes once m1 is back on the hosts. ----
type Paused = 'no' | 'm2' | 'any' | 'restoring';
type ManagerCtx = { paused: Paused; rolledBack: boolean; redistributed: boolean; out: string[] };
const managerModel = setup({
  types: { context: {} as ManagerCtx, events: {} as Step },
}).createMachine({
  context: { paused: 'no', rolledBack: false, redistributed: false, out: [] },
  on: {
    CRITICAL_M2: {
      actions: assign(({ context }) => {
        if (!context.rolledBack) return { paused: 'm2' as const, out: ['TRAINING_PAUSED:c'] };
        return context.redistributed
          ? { paused: 'no' as const, out: ['TRAINING_PAUSED:c', 'TRAINING_RESUMED:c'] }
          : { paused: 'restoring' as const, out: ['TRAINING_PAUSED:c'] };
      }),
    },
    CRITICAL_NO_MODEL: { actions: assign({ paused: 'any' as const, out: ['TRAINING_PAUSED:c'] }) },
    ROLLED_BACK_M2: {
      actions: assign(({ context }) => ({
        rolledBack: true,
        redistributed: false,
        paused: context.paused === 'no' ? ('no' as const) : ('restoring' as const),
        out: [],
      })),
    },
    DISTRIBUTED_M1: {
      actions: assign(({ context }) =>
        context.paused === 'restoring'
          ? { paused: 'no' as const, out: ['TRAINING_RESUMED:c'] }
          : { redistributed: context.rolledBack, out: [] },
      ),
    },
    DISTRIBUTION_OF_M1_FAILED: {
      actions: assign(({ context }) =>
        context.paused === 'restoring'
          ? { paused: 'no' as const, out: ['TRAINING_RESUMED:c'] }
          : { out: [] },
      ),
    },
    // The bound: whatever did not arrive, a pause ends.
    PAUSE_BOUND: {
      actions: assign(({ context }) =>
        context.paused === 'no'
          ? { out: [] }
          : { paused: 'no' as const, out: ['TRAINING_RESUMED:c'] },
      ),
    },
    // The replayed actor keeps its bound across daemon.restored (re-armed from now, and
    // PAUSE_BOUND waits a whole bound); a real restore, which loses it, is tested below.
    RESTORED: { actions: assign({ out: [] }) },
    // Another model's copy (the regressed one's own, still on its way) ends nothing.
    DISTRIBUTED_M2: { actions: assign({ out: [] }) },
    TRAINING_FAILED_C: { actions: assign({ out: [] }) },
  },
});
const distribution = (model: string) => ({
  models_collected: 1,
  models_distributed: 1,
  target_hosts: 1,
  duration: 0.01,
  config_key: 'c',
  model_id: model,
});
const MANAGER_EVENTS: Record<string, () => unknown> = {
  CRITICAL_M2: at('REGRESSION_CRITICAL', { config_key: 'c', model_id: 'c-m2', reason: 'x' }),
  CRITICAL_NO_MODEL: at('REGRESSION_CRITICAL', { config_key: 'c' }),
  ROLLED_BACK_M2: at('PROMOTION_ROLLED_BACK', {
    config_key: 'c',
    model_id: 'c-m2',
    restored_model_id: 'c-m1',
    restored_model_path: 'models/c/m1.pth',
    reason: 'critical regression',
  }),
  DISTRIBUTED_M1: at('MODEL_DISTRIBUTION_COMPLETE', distribution('c-m1')),
  DISTRIBUTION_OF_M1_FAILED: at('MODEL_DISTRIBUTION_FAILED', {
    error: 'hosts unreachable',
    config_key: 'c',
    model_id: 'c-m1',
  }),
  DISTRIBUTED_M2: at('MODEL_DISTRIBUTION_COMPLETE', distribution('c-m2')),
  TRAINING_FAILED_C: at('TRAINING_FAILED', { config_key: 'c', error: 'CUDA out of memory' }),
};
const MAX_PAUSE = 60_000;
const said = (e: Emitted) => {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  return e.type === 'daemon.alert'
    ? `alert:${(e as unknown as { severity: string }).severity}:${(e as unknown as { config_key?: string }).config_key ?? '-'}`
    : `${e.type}:${p.config_key}`;
};
describeModelBased(
  'DAEMON_MANAGER',
  {
    model: managerModel,
    events: steps([...Object.keys(MANAGER_EVENTS), 'PAUSE_BOUND', 'RESTORED']),
    machine: daemonManagerMachine,
    input: { maxPauseMs: MAX_PAUSE },
    apply: (e, { actor, clock }) => {
      if (e.type === 'PAUSE_BOUND') clock.increment(MAX_PAUSE);
      else if (e.type === 'RESTORED') actor.send({ type: 'daemon.restored' } as never);
      else actor.send(MANAGER_EVENTS[e.type]?.() as never);
    },
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  20,
  () => {
    it('keeps each config’s training failures with the last error', () => {
      const actor = createActor(daemonManagerMachine, { input: {} }).start();
      actor.send(MANAGER_EVENTS.TRAINING_FAILED_C?.() as never);
      actor.send(MANAGER_EVENTS.TRAINING_FAILED_C?.() as never);
      expect(actor.getSnapshot().context.trainingFailures).toEqual({
        c: { count: 2, last_error: 'CUDA out of memory' },
      });
    });
    it('ends a pause whose redistribution never reports after the bound, saying what it waited for, also after a restore', () => {
      const clock = new SimulatedClock();
      const input = { maxPauseMs: 10_000 };
      const first = createActor(daemonManagerMachine, { clock, input }).start();
      first.send(MANAGER_EVENTS.CRITICAL_M2?.() as never);
      first.send(MANAGER_EVENTS.ROLLED_BACK_M2?.() as never);
      clock.increment(6_000);
      const snapshot = first.getPersistedSnapshot();
      first.stop();
      const later = new SimulatedClock();
      const out: Emitted[] = [];
      const restored = createActor(daemonManagerMachine, { clock: later, snapshot, input });
      restored.on('*', (e) => void out.push(e as Emitted));
      restored.start();
      restored.send({ type: 'daemon.restored' });
      later.increment(9_999);
      expect(out).toEqual([]);
      later.increment(1);
      expect(out).toEqual([
        {
          type: 'TRAINING_RESUMED',
          payload: {
            config_key: 'c',
            reason: 'paused for 10 s without c-m1 on the hosts: resuming, since a pause must end',
          },
        },
      ]);
      // The late copy ends nothing more.
      restored.send(MANAGER_EVENTS.DISTRIBUTED_M1?.() as never);
      expect(out).toHaveLength(1);
    });
  },
);

// ---- ALERT_MANAGER: alerts at t = 0, 100 and 400 s; one per event type and config per 300 s
// (an alert sent twice at t = 0 is held the second time). ----
const THROTTLE = 300;
type Key = 'critC' | 'critD' | 'qualC' | 'healthX' | 'gaveUpC';
type AlertCtx = { last: Partial<Record<Key, number>>; out: string[] };
const alertAt =
  (key: Key, t: number, said: string) =>
  ({ context }: { context: AlertCtx }) => {
    const last = context.last[key];
    return last !== undefined && t - last < THROTTLE
      ? { out: [] }
      : { last: { ...context.last, [key]: t }, out: [said] };
  };
const alertModel = setup({ types: { context: {} as AlertCtx, events: {} as Step } }).createMachine({
  context: { last: {}, out: [] },
  on: {
    CRIT_C_0: { actions: assign(alertAt('critC', 0, 'alert:critical:c')) },
    CRIT_C_100: { actions: assign(alertAt('critC', 100, 'alert:critical:c')) },
    CRIT_C_400: { actions: assign(alertAt('critC', 400, 'alert:critical:c')) },
    CRIT_D_100: { actions: assign(alertAt('critD', 100, 'alert:critical:d')) },
    QUAL_C_0: { actions: assign(alertAt('qualC', 0, 'alert:warning:c')) },
    HEALTH_X_0: { actions: assign(alertAt('healthX', 0, 'alert:warning:-')) },
    GAVE_UP_C_0: { actions: assign(alertAt('gaveUpC', 0, 'alert:critical:c')) },
  },
});
const T0 = 1_800_000_000;
const critical = (config: string, t: number) =>
  at('REGRESSION_CRITICAL', { config_key: config, model_id: `${config}-m2` }, T0 + t);
const degraded = (t: number) =>
  at('QUALITY_DEGRADED', { config_key: 'c', quality_score: 0.41, threshold: 0.6 }, T0 + t);
const health = (t: number) =>
  at(
    'HEALTH_ALERT',
    { component: 'X', host: 'h', severity: 'warning', message: 'X on h crashed 3 times' },
    T0 + t,
  );
const gaveUp = (t: number) =>
  at(
    'RECOVERY_FAILED',
    { component: 'training', config_key: 'c', error: 'OOM', message: 'gave up on training of c' },
    T0 + t,
  );
const ALERT_EVENTS: Record<string, () => unknown> = {
  CRIT_C_0: critical('c', 0),
  CRIT_C_100: critical('c', 100),
  CRIT_C_400: critical('c', 400),
  CRIT_D_100: critical('d', 100),
  QUAL_C_0: degraded(0),
  HEALTH_X_0: health(0),
  GAVE_UP_C_0: gaveUp(0),
};
describeModelBased(
  'ALERT_MANAGER',
  {
    model: alertModel,
    events: steps(Object.keys(ALERT_EVENTS)),
    machine: alertManagerMachine,
    input: { throttleSeconds: THROTTLE },
    apply: (e, { actor }) => actor.send(ALERT_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  50,
  (coverage) => {
    it('says what happened in the alert, names its cause, and keeps the recent ones', () => {
      const alerts: Emitted[] = [];
      const actor = createActor(alertManagerMachine, { input: {} });
      actor.on('*', (e) => void alerts.push(e as Emitted));
      actor.start();
      const event = degraded(0)();
      actor.send(event as never);
      actor.send(degraded(10)() as never);
      expect(alerts).toEqual([
        {
          type: 'daemon.alert',
          severity: 'warning',
          alert: 'QUALITY_DEGRADED',
          config_key: 'c',
          message: 'selfplay data quality of c fell to 0.41 (threshold 0.6)',
          cause: event.envelope.id,
        },
      ]);
      const { recent, raised, held } = actor.getSnapshot().context;
      expect([recent.length, raised, held]).toEqual([1, 1, 1]);
    });
    // Outside the model (one more kind of alert multiplies its paths tenfold): an open circuit
    // breaker is a warning, throttled by breaker.
    it('raises an open circuit breaker as a warning, once per throttle', () => {
      const alerts: Emitted[] = [];
      const actor = createActor(alertManagerMachine, { input: {}, inspect: coverage.inspect });
      actor.on('*', (e) => void alerts.push(e as Emitted));
      actor.start();
      const opened = (t: number) =>
        at(
          'CIRCUIT_BREAKER_OPENED',
          { breaker: 'repair_sync:c', config_key: 'c', failures: 3, reason: 'repairs failed' },
          T0 + t,
        )();
      for (const t of [0, 10]) actor.send(opened(t) as never);
      expect(alerts.map((a) => [a.severity, a.config_key, a.message])).toEqual([
        ['warning', 'c', 'circuit breaker repair_sync:c opened: repairs failed'],
      ]);
    });
  },
);

// ---- IMPROVEMENT_OPTIMIZER: config c's gauntlets at 1500 or 1530, its promotions and
// rejections. The replay makes at most two changes of each multiplier (then sends no more of
// that kind), which keeps the model finite. ----
type OptCtx = {
  elo: number | null;
  lr: number;
  lrChanges: number;
  streak: number;
  games: number;
  gamesChanges: number;
  out: string[];
};
const clampTo = (lo: number, hi: number, v: number) =>
  Math.round(Math.min(hi, Math.max(lo, v)) * 1000) / 1000;
const gauntletAt =
  (elo: number) =>
  ({ context: c }: { context: OptCtx }): Partial<OptCtx> => {
    if (c.lrChanges >= 2) return { out: [] };
    if (c.elo === null) return { elo, out: [] };
    const change = elo - c.elo;
    const lr = clampTo(0.1, 2, c.lr * (change > 10 ? 1.1 : change < -10 ? 0.8 : 0.95));
    return lr === c.lr
      ? { elo, out: [] }
      : { elo, lr, lrChanges: c.lrChanges + 1, out: [`HYPERPARAMETER_UPDATED:${c.lr}->${lr}`] };
  };
const decided =
  (promoted: boolean) =>
  ({ context: c }: { context: OptCtx }): Partial<OptCtx> => {
    if (c.gamesChanges >= 2) return { out: [] };
    const streak = promoted ? Math.min(3, c.streak + 1) : 0;
    if (promoted && streak < 3) return { streak, out: [] };
    const games = clampTo(0.5, 2, c.games * (promoted ? 0.9 : 1.1));
    return games === c.games
      ? { streak, out: [] }
      : {
          streak,
          games,
          gamesChanges: c.gamesChanges + 1,
          out: [`ADAPTIVE_PARAMS_CHANGED:${games}`],
        };
  };
const optimizerModel = setup({
  types: { context: {} as OptCtx, events: {} as Step },
}).createMachine({
  context: { elo: null, lr: 1, lrChanges: 0, streak: 0, games: 1, gamesChanges: 0, out: [] },
  on: {
    E1500: { actions: assign(gauntletAt(1500)) },
    E1530: { actions: assign(gauntletAt(1530)) },
    PROMOTED: { actions: assign(decided(true)) },
    REJECTED: { actions: assign(decided(false)) },
  },
});
const gauntletOf = (elo: number) =>
  at('EVALUATION_COMPLETED', { config_key: 'c', elo, win_rate: 0.5, games_played: 100 });
const OPTIMIZER_EVENTS: Record<string, () => unknown> = {
  E1500: gauntletOf(1500),
  E1530: gauntletOf(1530),
  PROMOTED: at('MODEL_PROMOTED', { config_key: 'c', model_id: 'm', elo: 1530, elo_gain: 30 }),
  REJECTED: at('PROMOTION_REJECTED', { config_key: 'c', model_id: 'm', reason: 'below the gate' }),
};
const changes = { lr: 0, games: 0 };
describeModelBased(
  'IMPROVEMENT_OPTIMIZER',
  {
    model: optimizerModel,
    events: steps(Object.keys(OPTIMIZER_EVENTS)),
    machine: improvementOptimizerMachine,
    reset: () => {
      changes.lr = 0;
      changes.games = 0;
    },
    apply: (e, { actor }) => {
      if (e.type.startsWith('E') && changes.lr >= 2) return;
      if (!e.type.startsWith('E') && changes.games >= 2) return;
      actor.send(OPTIMIZER_EVENTS[e.type]?.() as never);
    },
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => {
        const p = e.payload as {
          old_value?: number;
          new_value?: number;
          params?: Record<string, number>;
        };
        if (e.type === 'HYPERPARAMETER_UPDATED') {
          changes.lr++;
          return `${e.type}:${p.old_value}->${p.new_value}`;
        }
        changes.games++;
        return `${e.type}:${p.params?.evaluation_games_multiplier}`;
      }),
    predict: (m) => m.context.out,
  },
  60,
  () => {
    it('says the parameter, its old and new value and why', () => {
      const out: Emitted[] = [];
      const actor = createActor(improvementOptimizerMachine);
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      for (const k of ['E1500', 'E1530', 'REJECTED']) actor.send(OPTIMIZER_EVENTS[k]?.() as never);
      expect(out.map((e) => [e.type, e.payload])).toEqual([
        [
          'HYPERPARAMETER_UPDATED',
          {
            config_key: 'c',
            param_name: 'learning_rate_multiplier',
            old_value: 1,
            new_value: 1.1,
            optimizer: 'improvement_optimizer',
          },
        ],
        [
          'ADAPTIVE_PARAMS_CHANGED',
          {
            config_key: 'c',
            params: { evaluation_games_multiplier: 1.1 },
            reason: 'promotion rejected: a longer gauntlet',
          },
        ],
      ]);
    });
  },
);
