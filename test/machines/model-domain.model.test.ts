/**
 * Model-based tests of the Model section's daemons: MODEL_REGISTRY, MODEL_PERFORMANCE_WATCHDOG,
 * REGRESSION_DETECTOR and MODEL_LIFECYCLE. Each abstract model keeps the few facts the daemon's
 * decisions depend on and predicts what it says after each event; every shortest path, extended
 * by every event, is replayed on the real machine with payloads the catalog checked, and every
 * state and transition of the real machine must be taken (printed per machine).
 */
import { expect, it } from 'vitest';
import { type AnyStateMachine, assign, createActor, setup } from 'xstate';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { modelLifecycleMachine } from '../../src/machines/model/lifecycle-coordinator.js';
import { modelRegistryMachine } from '../../src/machines/model/model-registry.js';
import {
  performanceWatchdogMachine,
  severityOf,
} from '../../src/machines/model/performance-watchdog.js';
import { regressionDetectorMachine } from '../../src/machines/model/regression-detector.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));
const send =
  <T extends EventName>(type: T, payload: PayloadInput<T>) =>
  () =>
    catalogEvent(type, payload);
const said = (e: Emitted) => {
  if (e.type === 'daemon.rejected') return 'rejected';
  const p = (e.payload ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'MODEL_UPDATED':
      return `${p.model_id}:${p.stage}:${p.reason}`;
    case 'REGRESSION_DETECTED':
      return `REGRESSION_DETECTED:${p.model_id}:${p.severity}`;
    case 'PROMOTION_ROLLED_BACK':
      return `ROLLED_BACK:${p.model_id}->${p.restored_model_id}`;
    default:
      return `${e.type}:${p.config_key ?? p.model_id ?? '-'}`;
  }
};

// ---- MODEL_REGISTRY: models m1 and m2 of config c, and m9 that no one trained. ----
type Stage = 'none' | 'candidate' | 'production' | 'archived' | 'rolled_back';
type RegistryCtx = { m1: Stage; m2: Stage; out: string[] };
const productionOf = (c: RegistryCtx) =>
  c.m1 === 'production' ? 'm1' : c.m2 === 'production' ? 'm2' : null;
const train =
  (id: 'm1' | 'm2') =>
  ({ context }: { context: RegistryCtx }) =>
    context[id] !== 'none'
      ? { out: [] }
      : { [id]: 'candidate' as Stage, out: [`c-${id}:candidate:trained`] };
const promote =
  (id: 'm1' | 'm2') =>
  ({ context }: { context: RegistryCtx }) => {
    if (context[id] === 'production') return { out: [] };
    const before = productionOf(context);
    const out = [`c-${id}:production:promoted`];
    const next: Partial<RegistryCtx> = { [id]: 'production' };
    if (before && before !== id) {
      out.push(`c-${before}:archived:superseded`);
      next[before] = 'archived';
    }
    return { ...next, out };
  };
const registryModel = setup({
  types: { context: {} as RegistryCtx, events: {} as Step },
}).createMachine({
  context: { m1: 'none', m2: 'none', out: [] },
  on: {
    TRAIN_M1: { actions: assign(train('m1')) },
    TRAIN_M2: { actions: assign(train('m2')) },
    TRAIN_FAILED: { actions: assign({ out: [] }) },
    PROMOTE_M1: { actions: assign(promote('m1')) },
    PROMOTE_M2: { actions: assign(promote('m2')) },
    PROMOTE_UNKNOWN_NO_PATH: { actions: assign({ out: ['rejected'] }) },
    ROLLBACK_M2_TO_M1: {
      actions: assign(({ context }) => {
        if (context.m2 === 'rolled_back') return { out: [] };
        const out: string[] = [];
        if (context.m2 !== 'none') out.push('c-m2:rolled_back:rollback');
        out.push('c-m1:production:restored');
        return {
          m1: 'production' as Stage,
          m2: context.m2 === 'none' ? context.m2 : ('rolled_back' as Stage),
          out,
        };
      }),
    },
  },
});
const trained = (gen: number) =>
  send('TRAINING_COMPLETED', {
    config_key: 'c',
    success: true,
    duration: 1,
    model_path: `models/c/m${gen}.pth`,
  });
const REGISTRY_EVENTS: Record<string, () => unknown> = {
  TRAIN_M1: trained(1),
  TRAIN_M2: trained(2),
  TRAIN_FAILED: send('TRAINING_COMPLETED', { config_key: 'c', success: false, duration: 1 }),
  PROMOTE_M1: send('MODEL_PROMOTED', {
    model_id: 'c-m1',
    config_key: 'c',
    elo: 1500,
    elo_gain: 0,
    model_path: 'models/c/m1.pth',
  }),
  PROMOTE_M2: send('MODEL_PROMOTED', {
    model_id: 'c-m2',
    config_key: 'c',
    elo: 1530,
    elo_gain: 30,
    model_path: 'models/c/m2.pth',
  }),
  PROMOTE_UNKNOWN_NO_PATH: send('MODEL_PROMOTED', {
    model_id: 'c-m9',
    config_key: 'c',
    elo: 1600,
    elo_gain: 70,
  }),
  ROLLBACK_M2_TO_M1: send('PROMOTION_ROLLED_BACK', {
    config_key: 'c',
    model_id: 'c-m2',
    restored_model_id: 'c-m1',
    restored_model_path: 'models/c/m1.pth',
    reason: 'critical regression',
  }),
};
describeModelBased(
  'MODEL_REGISTRY',
  {
    model: registryModel,
    events: steps(Object.keys(REGISTRY_EVENTS)),
    machine: modelRegistryMachine,
    apply: (e, { actor }) => actor.send(REGISTRY_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  40,
  () => {
    it('numbers versions per config and records each one’s parent (the production model then)', () => {
      const { actor } = startActor(modelRegistryMachine);
      for (const k of ['TRAIN_M1', 'PROMOTE_M1', 'TRAIN_M2'])
        actor.send(REGISTRY_EVENTS[k]?.() as never);
      const { models, production } = actor.getSnapshot().context;
      expect(models['c-m1']).toMatchObject({ version: 'v1', parent_model_id: null });
      expect(models['c-m2']).toMatchObject({ version: 'v2', parent_model_id: 'c-m1' });
      expect(production).toEqual({ c: 'c-m1' });
    });

    it('numbers a model it first hears of by its rollback as the next version, like any other', () => {
      const { actor } = startActor(modelRegistryMachine);
      for (const k of ['TRAIN_M2', 'ROLLBACK_M2_TO_M1', 'TRAIN_M1'])
        actor.send(REGISTRY_EVENTS[k]?.() as never);
      const { models, versions } = actor.getSnapshot().context;
      expect([models['c-m2']?.version, models['c-m1']?.version]).toEqual(['v1', 'v2']);
      expect(versions).toEqual({ c: 2 });
    });
  },
);

// ---- MODEL_PERFORMANCE_WATCHDOG: four models of config c with fixed gauntlet win rates. ----
const WIN_RATES = { m1: 0.5, m2: 0.5625, m3: 0.46875, m4: 0.375 } as const;
type Model = keyof typeof WIN_RATES;
const MODELS = Object.keys(WIN_RATES) as Model[];
type WatchCtx = {
  judged: Readonly<Record<Model, boolean>>;
  production: Model | null;
  regressed: boolean;
  out: string[];
};
const watchdogModel = setup({
  types: { context: {} as WatchCtx, events: {} as Step },
}).createMachine({
  context: {
    judged: { m1: false, m2: false, m3: false, m4: false },
    production: null,
    regressed: false,
    out: [],
  },
  on: {
    ...Object.fromEntries(
      MODELS.map((m) => [
        `EVAL_${m}`,
        {
          actions: assign(({ context }: { context: WatchCtx }) => ({
            judged: { ...context.judged, [m]: true },
            out: [],
          })),
        },
      ]),
    ),
    ...Object.fromEntries(
      MODELS.map((m) => [
        `PROMOTE_${m}`,
        {
          actions: assign(({ context }: { context: WatchCtx }) => {
            const before = context.production;
            const base = { production: m, out: [] as string[] };
            if (!before || before === m || !context.judged[m] || !context.judged[before])
              return base;
            const drop = WIN_RATES[before] - WIN_RATES[m];
            if (drop > 0.02)
              return {
                ...base,
                regressed: true,
                out: [`REGRESSION_DETECTED:c-${m}:${severityOf(drop)}`],
              };
            return context.regressed
              ? { ...base, regressed: false, out: [`REGRESSION_CLEARED:c`] }
              : base;
          }),
        },
      ]),
    ),
    ROLLBACK_TO_M1: { actions: assign({ production: 'm1' as Model, out: [] }) },
    EVAL_UNNAMED: { actions: assign({ out: ['rejected'] }) },
  },
});
const WATCHDOG_EVENTS: Record<string, () => unknown> = {
  ...Object.fromEntries(
    MODELS.map((m) => [
      `EVAL_${m}`,
      send('EVALUATION_COMPLETED', {
        config_key: 'c',
        elo: 1500,
        games_played: 100,
        win_rate: WIN_RATES[m],
        // Named by its file, as EVALUATION names a model it was not told the id of.
        model_path: `models/c/${m}.pth`,
      }),
    ]),
  ),
  ...Object.fromEntries(
    MODELS.map((m) => [
      `PROMOTE_${m}`,
      send('MODEL_PROMOTED', { model_id: `c-${m}`, config_key: 'c', elo: 1500, elo_gain: 10 }),
    ]),
  ),
  ROLLBACK_TO_M1: send('PROMOTION_ROLLED_BACK', {
    config_key: 'c',
    model_id: 'c-m4',
    restored_model_id: 'c-m1',
    restored_model_path: 'models/c/m1.pth',
    reason: 'critical regression',
  }),
  EVAL_UNNAMED: send('EVALUATION_COMPLETED', {
    config_key: 'c',
    elo: 1500,
    games_played: 100,
    win_rate: 0.5,
  }),
};
describeModelBased(
  'MODEL_PERFORMANCE_WATCHDOG',
  {
    model: watchdogModel,
    events: steps(Object.keys(WATCHDOG_EVENTS)),
    machine: performanceWatchdogMachine,
    input: {},
    apply: (e, { actor }) => actor.send(WATCHDOG_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  100,
  () => {
    it('grades a drop: moderate below 0.05, severe below 0.10, critical from there', () => {
      expect([0.03, 0.05, 0.0999, 0.1, 0.3].map(severityOf)).toEqual([
        'moderate',
        'severe',
        'severe',
        'critical',
        'critical',
      ]);
    });
  },
);

// ---- REGRESSION_DETECTOR: configs c and d; a streak of 1 makes the next regression critical. ----
type DetectorCtx = { c: number; d: number; out: string[] };
const regress =
  (config: 'c' | 'd', critical: boolean) =>
  ({ context }: { context: DetectorCtx }) => ({
    [config]: 1,
    out: critical || context[config] >= 1 ? [`REGRESSION_CRITICAL:${config}`] : [],
  });
const detectorModel = setup({
  types: { context: {} as DetectorCtx, events: {} as Step },
}).createMachine({
  context: { c: 0, d: 0, out: [] },
  on: {
    MODERATE_C: { actions: assign(regress('c', false)) },
    CRITICAL_C: { actions: assign(regress('c', true)) },
    MODERATE_D: { actions: assign(regress('d', false)) },
    CLEARED_C: { actions: assign({ c: 0, out: [] }) },
  },
});
const regression = (config: string, severity: string) =>
  send('REGRESSION_DETECTED', {
    config_key: config,
    model_id: `${config}-m2`,
    severity,
    reason: 'win rate fell',
  });
const DETECTOR_EVENTS: Record<string, () => unknown> = {
  MODERATE_C: regression('c', 'moderate'),
  CRITICAL_C: regression('c', 'critical'),
  MODERATE_D: regression('d', 'severe'),
  CLEARED_C: send('REGRESSION_CLEARED', { config_key: 'c', model_id: 'c-m3' }),
};
describeModelBased(
  'REGRESSION_DETECTOR',
  {
    model: detectorModel,
    events: steps(Object.keys(DETECTOR_EVENTS)),
    machine: regressionDetectorMachine,
    apply: (e, { actor }) => actor.send(DETECTOR_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  12,
);

// ---- MODEL_LIFECYCLE: models m1 and m2 of config c, promoted in any order. ----
type LifecycleCtx = { lineage: readonly string[]; out: string[] };
const promoteLineage =
  (id: string) =>
  ({ context }: { context: LifecycleCtx }) => ({
    lineage: [...context.lineage.filter((m) => m !== id), id],
    out: [],
  });
const regressLineage =
  (id: string, severe: boolean) =>
  ({ context }: { context: LifecycleCtx }) => {
    if (context.lineage.at(-1) !== id || !severe) return { out: [] };
    if (context.lineage.length < 2) return { out: ['rejected'] };
    return {
      lineage: context.lineage.slice(0, -1),
      out: [`ROLLED_BACK:${id}->${context.lineage.at(-2)}`],
    };
  };
const lifecycleModel = setup({
  types: { context: {} as LifecycleCtx, events: {} as Step },
}).createMachine({
  context: { lineage: [], out: [] },
  on: {
    PROMOTE_M1: { actions: assign(promoteLineage('c-m1')) },
    PROMOTE_M2: { actions: assign(promoteLineage('c-m2')) },
    PROMOTE_NO_PATH: { actions: assign({ out: ['rejected'] }) },
    REGRESS_M2_SEVERE: { actions: assign(regressLineage('c-m2', true)) },
    REGRESS_M2_MODERATE: { actions: assign(regressLineage('c-m2', false)) },
    REGRESS_M1_CRITICAL: { actions: assign(regressLineage('c-m1', true)) },
    REGRESS_NO_ID: { actions: assign({ out: ['rejected'] }) },
    PROMOTION_FAILED: { actions: assign({ out: [] }) },
  },
});
const promoted = (id: string, path?: string) =>
  send('MODEL_PROMOTED', {
    model_id: id,
    config_key: 'c',
    elo: 1500,
    elo_gain: 10,
    ...(path ? { model_path: path } : {}),
  });
const LIFECYCLE_EVENTS: Record<string, () => unknown> = {
  PROMOTE_M1: promoted('c-m1', 'models/c/m1.pth'),
  PROMOTE_M2: promoted('c-m2', 'models/c/m2.pth'),
  PROMOTE_NO_PATH: promoted('c-m3'),
  REGRESS_M2_SEVERE: send('REGRESSION_DETECTED', {
    config_key: 'c',
    model_id: 'c-m2',
    severity: 'severe',
  }),
  REGRESS_M2_MODERATE: send('REGRESSION_DETECTED', {
    config_key: 'c',
    model_id: 'c-m2',
    severity: 'moderate',
  }),
  REGRESS_M1_CRITICAL: send('REGRESSION_DETECTED', {
    config_key: 'c',
    model_id: 'c-m1',
    severity: 'critical',
  }),
  REGRESS_NO_ID: send('REGRESSION_DETECTED', { config_key: 'c', severity: 'critical' }),
  PROMOTION_FAILED: send('PROMOTION_FAILED', {
    config_key: 'c',
    model_id: 'c-m3',
    error: 'no model file',
  }),
};
describeModelBased(
  'MODEL_LIFECYCLE',
  {
    model: lifecycleModel,
    events: steps(Object.keys(LIFECYCLE_EVENTS)),
    machine: modelLifecycleMachine,
    apply: (e, { actor }) => actor.send(LIFECYCLE_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  30,
  () => {
    it('restores the previous model with its file, and keeps promotion failures per config', () => {
      const { actor, emitted } = startActor(modelLifecycleMachine);
      for (const k of ['PROMOTE_M1', 'PROMOTE_M2', 'PROMOTION_FAILED', 'REGRESS_M2_SEVERE'])
        actor.send(LIFECYCLE_EVENTS[k]?.() as never);
      expect(emitted.at(-1)).toMatchObject({
        type: 'PROMOTION_ROLLED_BACK',
        payload: {
          restored_model_path: 'models/c/m1.pth',
          reason: 'severe regression: no reason given',
        },
      });
      expect(actor.getSnapshot().context.promotionFailures).toEqual({
        c: { count: 1, last_error: 'no model file' },
      });
    });
  },
);

function startActor(machine: AnyStateMachine) {
  const emitted: Emitted[] = [];
  const actor = createActor(machine, { input: {} });
  actor.on('*', (e) => void emitted.push(e as Emitted));
  actor.start();
  return { actor, emitted };
}
