/**
 * Model-based tests of the Daemon Lifecycle section's new daemons: DAEMON_MANAGER (the guide's
 * DaemonManager as a subscriber) and ALERT_MANAGER. Same method as the other machines: an
 * abstract model predicts what each event makes the daemon say; every path of it, extended by
 * every event, runs on the real machine, which must take every state and transition.
 */
import { expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { alertManagerMachine } from '../../src/machines/lifecycle/alert-manager.js';
import { daemonManagerMachine } from '../../src/machines/lifecycle/daemon-manager.js';
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

// ---- DAEMON_MANAGER: config c; its model m2 regresses and is rolled back, in either order. ----
type ManagerCtx = { paused: 'no' | 'm2' | 'any'; rolledBack: boolean; out: string[] };
const managerModel = setup({
  types: { context: {} as ManagerCtx, events: {} as Step },
}).createMachine({
  context: { paused: 'no', rolledBack: false, out: [] },
  on: {
    CRITICAL_M2: {
      actions: assign(({ context }) =>
        context.rolledBack
          ? { paused: 'no' as const, out: ['TRAINING_PAUSED:c', 'TRAINING_RESUMED:c'] }
          : { paused: 'm2' as const, out: ['TRAINING_PAUSED:c'] },
      ),
    },
    CRITICAL_NO_MODEL: { actions: assign({ paused: 'any' as const, out: ['TRAINING_PAUSED:c'] }) },
    ROLLED_BACK_M2: {
      actions: assign(({ context }) => ({
        rolledBack: true,
        paused: 'no' as const,
        out: context.paused === 'no' ? [] : ['TRAINING_RESUMED:c'],
      })),
    },
    TRAINING_FAILED_C: { actions: assign({ out: [] }) },
  },
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
  TRAINING_FAILED_C: at('TRAINING_FAILED', { config_key: 'c', error: 'CUDA out of memory' }),
};
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
    events: steps(Object.keys(MANAGER_EVENTS)),
    machine: daemonManagerMachine,
    apply: (e, { actor }) => actor.send(MANAGER_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  20,
  () => {
    it('keeps each config’s training failures with the last error', () => {
      const actor = createActor(daemonManagerMachine).start();
      actor.send(MANAGER_EVENTS.TRAINING_FAILED_C?.() as never);
      actor.send(MANAGER_EVENTS.TRAINING_FAILED_C?.() as never);
      expect(actor.getSnapshot().context.trainingFailures).toEqual({
        c: { count: 2, last_error: 'CUDA out of memory' },
      });
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
  () => {
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
  },
);
