/**
 * Model-based tests of the Curriculum & Quality table's decision daemons: ELO_SYNC
 * (EloSyncManager), QUEUE_POPULATOR (QueuePopulator), CURRICULUM_INTEGRATION,
 * CURRICULUM_CONTROLLER, UNIFIED_FEEDBACK and SELFPLAY_ORCHESTRATOR. For each, an abstract model
 * over a few configs and values predicts what the daemon says after each event; every path of it,
 * extended by every event, runs on the real machine with catalog-checked payloads, and every
 * state and transition of the real machine must be taken.
 */
import { expect, it } from 'vitest';
import { type AnyActorRef, assign, createActor, setup } from 'xstate';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { curriculumControllerMachine } from '../../src/machines/curriculum/curriculum-controller.js';
import { curriculumIntegrationMachine } from '../../src/machines/curriculum/curriculum-integration.js';
import { eloSyncMachine } from '../../src/machines/curriculum/elo-sync.js';
import { queuePopulatorMachine } from '../../src/machines/curriculum/queue-populator.js';
import { selfplayOrchestratorMachine } from '../../src/machines/curriculum/selfplay-orchestrator.js';
import { unifiedFeedbackMachine } from '../../src/machines/curriculum/unified-feedback.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));
const event = <T extends EventName>(type: T, payload: PayloadInput<T>) =>
  catalogEvent(type, payload);
const evaluation = (config: string, elo: number, win_rate = 0.5, games_played = 60) =>
  event('EVALUATION_COMPLETED', { config_key: config, elo, win_rate, games_played, model_id: 'm' });
const payloads = (out: Emitted[]) => out.map((e) => e.payload as Record<string, unknown>);
/** A model whose every event maps the context (its `out`: what the step says). */
function modelOf<C extends { out: readonly string[] }>(
  initial: C,
  steps: Record<string, (c: C) => Partial<C>>,
) {
  return setup({ types: { context: {} as C, events: {} as Step } }).createMachine({
    context: initial,
    on: Object.fromEntries(
      Object.entries(steps).map(([name, f]) => [
        name,
        { actions: assign(({ context }: { context: C }) => ({ out: [], ...f(context) })) },
      ]),
    ),
  });
}
const sent =
  (events: Record<string, () => unknown>) =>
  (e: Step, { actor }: { actor: AnyActorRef }) =>
    actor.send(events[e.type]?.() as never);
const run = (machine: Parameters<typeof createActor>[0], input?: unknown) => {
  const out: Emitted[] = [];
  const actor = createActor(machine as never, { input } as never) as unknown as AnyActorRef;
  actor.on('*', (e) => void out.push(e as Emitted));
  actor.start();
  return { actor, out };
};

// ---- ELO_SYNC: config c is measured at one of four Elos; a gauntlet may not name its model. ----
const ELOS = { E1510: 1510, E1530: 1530, E1560: 1560, E1480: 1480 } as const;
type EloCtx = { reported: number; out: readonly string[] };
const eloModel = modelOf<EloCtx>(
  { reported: 1500, out: [] },
  {
    ...Object.fromEntries(
      Object.entries(ELOS).map(([name, elo]) => [
        name,
        (c: EloCtx) =>
          Math.abs(elo - c.reported) >= 25
            ? { reported: elo, out: [`ELO_SIGNIFICANT_CHANGE:${c.reported}->${elo}`] }
            : {},
      ]),
    ),
    UNNAMED: () => ({ out: ['daemon.rejected'] }),
  },
);
describeModelBased(
  'ELO_SYNC',
  {
    model: eloModel,
    events: steps([...Object.keys(ELOS), 'UNNAMED']),
    machine: eloSyncMachine,
    input: {},
    apply: sent({
      ...Object.fromEntries(
        Object.entries(ELOS).map(([n, elo]) => [n, () => evaluation('c', elo)]),
      ),
      UNNAMED: () =>
        event('EVALUATION_COMPLETED', { config_key: 'c', elo: 1600, win_rate: 1, games_played: 1 }),
    }),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) =>
        e.type === 'ELO_SIGNIFICANT_CHANGE'
          ? `${e.type}:${(e.payload as { old_elo: number }).old_elo}->${(e.payload as { new_elo: number }).new_elo}`
          : e.type,
      ),
    predict: (m) => m.context.out,
  },
  20,
  () => {
    it('reports the old and new Elo, the change, the threshold and the model', () => {
      const { actor, out } = run(eloSyncMachine, {});
      actor.send(evaluation('c', 1530) as never);
      expect(payloads(out)).toEqual([
        {
          config_key: 'c',
          model_id: 'm',
          old_elo: 1500,
          new_elo: 1530,
          elo_change: 30,
          games_played: 60,
          threshold: 25,
        },
      ]);
    });
  },
);

// ---- QUEUE_POPULATOR: config c's gauntlets measure 1500 or 1560; velocity over the last 5. ----
const slopeOf = (ys: readonly number[]) => {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = ys.reduce((a, y, x) => a + (x - mx) * (y - my), 0);
  const den = ys.reduce((a, _, x) => a + (x - mx) ** 2, 0);
  return Math.round((num / den) * 100) / 100;
};
type VelCtx = { history: readonly number[]; reported: number | null; out: readonly string[] };
const measured = (elo: number) => (c: VelCtx) => {
  const history = [...c.history, elo].slice(-5);
  if (history.length < 2) return { history };
  const v = slopeOf(history);
  if (c.reported !== null && Math.abs(v - c.reported) <= 10) return { history };
  const trend = v > 5 ? 'improving' : v < -5 ? 'declining' : 'plateau';
  return { history, reported: v, out: [`ELO_VELOCITY_CHANGED:${v}:${trend}`] };
};
describeModelBased(
  'QUEUE_POPULATOR',
  {
    model: modelOf<VelCtx>(
      { history: [], reported: null, out: [] },
      { LOW: measured(1500), HIGH: measured(1560) },
    ),
    events: steps(['LOW', 'HIGH']),
    machine: queuePopulatorMachine,
    apply: sent({ LOW: () => evaluation('c', 1500), HIGH: () => evaluation('c', 1560) }),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => {
        const p = e.payload as { velocity: number; trend: string };
        return `${e.type}:${p.velocity}:${p.trend}`;
      }),
    predict: (m) => m.context.out,
  },
  60,
  () => {
    it('says the previous velocity and the change with the new one', () => {
      const { actor, out } = run(queuePopulatorMachine);
      for (const elo of [1500, 1530, 1500, 1440]) actor.send(evaluation('c', elo) as never);
      expect(payloads(out)).toEqual([
        {
          config_key: 'c',
          velocity: 30,
          previous_velocity: 0,
          trend: 'improving',
          velocity_change: 30,
        },
        {
          config_key: 'c',
          velocity: 0,
          previous_velocity: 30,
          trend: 'plateau',
          velocity_change: -30,
        },
        {
          config_key: 'c',
          velocity: -21,
          previous_velocity: 0,
          trend: 'declining',
          velocity_change: -21,
        },
      ]);
      expect(actor.getSnapshot().context.history).toEqual({ c: [1500, 1530, 1500, 1440] });
    });
  },
);

// ---- CURRICULUM_INTEGRATION: a and b evaluated at two Elos each; significant changes rebalance. ----
type CurCtx = {
  elo: Readonly<Record<string, number>>;
  momentum: Readonly<Record<string, number>>;
  weights: Readonly<Record<string, number>>;
  out: readonly string[];
};
const weightsOf = (momentum: Readonly<Record<string, number>>) => {
  const cs = Object.keys(momentum).sort();
  const mean = cs.reduce((a, c) => a + (momentum[c] ?? 0), 0) / cs.length;
  const scale = Math.max(Math.abs(mean), 25);
  return Object.fromEntries(
    cs.map((c) => {
      const w = 1 + (0.3 * (mean - (momentum[c] ?? 0))) / scale;
      return [c, Math.round(Math.min(2, Math.max(0.5, w)) * 100) / 100];
    }),
  );
};
const evaluated = (config: string, elo: number) => (c: CurCtx) => ({
  elo: { ...c.elo, [config]: elo },
  momentum:
    c.elo[config] === undefined
      ? c.momentum
      : { ...c.momentum, [config]: elo - (c.elo[config] ?? 0) },
});
const significant = (c: CurCtx) => {
  if (Object.keys(c.momentum).length === 0) return {};
  const weights = weightsOf(c.momentum);
  const moved = Object.entries(weights).some(([k, w]) => Math.abs(w - (c.weights[k] ?? 1)) >= 0.05);
  return moved ? { weights, out: [`CURRICULUM_REBALANCED:${JSON.stringify(weights)}`] } : {};
};
const CUR_EVENTS: Record<string, () => unknown> = {
  A_1500: () => evaluation('a', 1500),
  A_1560: () => evaluation('a', 1560),
  B_1500: () => evaluation('b', 1500),
  B_1510: () => evaluation('b', 1510),
  SIGNIFICANT: () =>
    event('ELO_SIGNIFICANT_CHANGE', {
      config_key: 'a',
      model_id: 'm',
      old_elo: 1500,
      new_elo: 1560,
      games_played: 60,
    }),
};
describeModelBased(
  'CURRICULUM_INTEGRATION',
  {
    model: modelOf<CurCtx>(
      { elo: {}, momentum: {}, weights: {}, out: [] },
      {
        A_1500: evaluated('a', 1500),
        A_1560: evaluated('a', 1560),
        B_1500: evaluated('b', 1500),
        B_1510: evaluated('b', 1510),
        SIGNIFICANT: significant,
      },
    ),
    events: steps(Object.keys(CUR_EVENTS)),
    machine: curriculumIntegrationMachine,
    apply: sent(CUR_EVENTS),
    observe: ({ takeEmitted }) =>
      takeEmitted().map(
        (e) => `${e.type}:${JSON.stringify((e.payload as { new_weights: unknown }).new_weights)}`,
      ),
    predict: (m) => m.context.out,
  },
  100,
  () => {
    it('gives the config that gains less more selfplay, with the old weights and the trigger', () => {
      const { actor, out } = run(curriculumIntegrationMachine);
      for (const [c, elo] of [
        ['a', 1500],
        ['b', 1500],
        ['a', 1560],
        ['b', 1510],
      ] as const)
        actor.send(evaluation(c, elo) as never);
      expect(out).toEqual([]);
      actor.send(CUR_EVENTS.SIGNIFICANT?.() as never);
      // mean 35: a (60) is ahead, b (10) behind.
      expect(payloads(out)).toEqual([
        {
          config_key: 'a',
          old_weights: { a: 1, b: 1 },
          new_weights: { a: 0.79, b: 1.21 },
          trigger: 'elo_significant_change of a',
        },
      ]);
    });
  },
);

// ---- CURRICULUM_CONTROLLER: config c's gauntlets of 60 games win 0.7 or 0.4. ----
const TIERS = ['beginner', 'easy', 'medium', 'hard', 'expert'];
const NEED = [50, 100, 150, 200];
const RATE = [0.6, 0.55, 0.52, 0.5];
type TierCtx = { tier: number; games: number; out: readonly string[] };
const gauntlet = (winRate: number) => (c: TierCtx) => {
  // Past every tier's game count, more games change nothing (keeps the model finite).
  const games = Math.min(c.games + 60, 240);
  if (c.tier >= 4 || games < (NEED[c.tier] ?? 0) || winRate < (RATE[c.tier] ?? 1)) return { games };
  return {
    tier: c.tier + 1,
    games: 0,
    out: [`CURRICULUM_ADVANCED:${TIERS[c.tier]}->${TIERS[c.tier + 1]}`],
  };
};
describeModelBased(
  'CURRICULUM_CONTROLLER',
  {
    model: modelOf<TierCtx>(
      { tier: 0, games: 0, out: [] },
      { WIN: gauntlet(0.7), LOSE: gauntlet(0.4) },
    ),
    events: steps(['WIN', 'LOSE']),
    machine: curriculumControllerMachine,
    apply: sent({ WIN: () => evaluation('c', 1600, 0.7), LOSE: () => evaluation('c', 1450, 0.4) }),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => {
        const p = e.payload as { old_tier: string; new_tier: string };
        return `${e.type}:${p.old_tier}->${p.new_tier}`;
      }),
    predict: (m) => m.context.out,
  },
  40,
  () => {
    it('says why a config advanced, with its Elo, win rate and games at the tier', () => {
      const { actor, out } = run(curriculumControllerMachine);
      actor.send(evaluation('c', 1600, 0.65, 200) as never);
      expect(payloads(out)).toEqual([
        {
          config_key: 'c',
          old_tier: 'beginner',
          new_tier: 'easy',
          trigger_reason: 'won 0.65 (at least 0.6) after 200 games at beginner',
          elo: 1600,
          win_rate: 0.65,
          games_at_tier: 200,
        },
      ]);
    });
  },
);

// ---- UNIFIED_FEEDBACK: config c's Elo velocity is improving, on a plateau or declining. ----
type BoostCtx = { boost: number; out: readonly string[] };
const boosted = (trend: string) => (c: BoostCtx) => {
  const boost = trend === 'improving' ? 1 : Math.round(Math.min(2, c.boost * 1.15) * 1000) / 1000;
  return boost === c.boost ? {} : { boost, out: [`EXPLORATION_BOOST:${boost}`] };
};
const velocity = (trend: string) => () =>
  event('ELO_VELOCITY_CHANGED', { config_key: 'c', velocity: 0, previous_velocity: 20, trend });
describeModelBased(
  'UNIFIED_FEEDBACK',
  {
    model: modelOf<BoostCtx>(
      { boost: 1, out: [] },
      {
        IMPROVING: boosted('improving'),
        PLATEAU: boosted('plateau'),
        DECLINING: boosted('declining'),
      },
    ),
    events: steps(['IMPROVING', 'PLATEAU', 'DECLINING']),
    machine: unifiedFeedbackMachine,
    apply: sent({
      IMPROVING: velocity('improving'),
      PLATEAU: velocity('plateau'),
      DECLINING: velocity('declining'),
    }),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => `${e.type}:${(e.payload as { boost_factor: number }).boost_factor}`),
    predict: (m) => m.context.out,
  },
  15,
);

// ---- SELFPLAY_ORCHESTRATOR: rebalances, and abandoned work of selfplay, training or no config. ----
type AllocCtx = { abandoned: number; out: readonly string[] };
const rebalanced = (weights: Record<string, number>) => () =>
  event('CURRICULUM_REBALANCED', {
    config_key: 'a',
    old_weights: { a: 1, b: 1 },
    new_weights: weights,
    trigger: 't',
  });
const abandoned = (extra: Record<string, unknown>) => () =>
  event('TASK_ABANDONED', { work_id: 'w', reason: 'paused', ...extra } as never);
describeModelBased(
  'SELFPLAY_ORCHESTRATOR',
  {
    model: modelOf<AllocCtx>(
      { abandoned: 0, out: [] },
      {
        UNEVEN: () => ({ out: ['SELFPLAY_ALLOCATION_UPDATED:{"a":0.667,"b":0.333}'] }),
        EVEN: () => ({ out: ['SELFPLAY_ALLOCATION_UPDATED:{"a":0.5,"b":0.5}'] }),
        // The replay sends no third one (see apply): the count stays bounded.
        ABANDON_A: (c) => (c.abandoned >= 2 ? {} : { abandoned: c.abandoned + 1 }),
        ABANDON_TRAINING: () => ({}),
        ABANDON_NAMELESS: () => ({ out: ['daemon.rejected'] }),
      },
    ),
    events: steps(['UNEVEN', 'EVEN', 'ABANDON_A', 'ABANDON_TRAINING', 'ABANDON_NAMELESS']),
    machine: selfplayOrchestratorMachine,
    apply: (e, { actor }) => {
      const events: Record<string, () => unknown> = {
        UNEVEN: rebalanced({ a: 2, b: 1 }),
        EVEN: rebalanced({ a: 1, b: 1 }),
        ABANDON_A: abandoned({ task_type: 'selfplay', config_key: 'a', games: 10 }),
        ABANDON_TRAINING: abandoned({ task_type: 'training', config_key: 'a' }),
        ABANDON_NAMELESS: abandoned({ task_type: 'selfplay' }),
      };
      const count = actor.getSnapshot().context.abandoned.a?.batches ?? 0;
      if (e.type === 'ABANDON_A' && count >= 2) return;
      actor.send(events[e.type]?.() as never);
    },
    observe: ({ actor, takeEmitted }) => ({
      out: takeEmitted().map((e) =>
        e.type === 'SELFPLAY_ALLOCATION_UPDATED'
          ? `${e.type}:${JSON.stringify((e.payload as { allocation_weights: unknown }).allocation_weights)}`
          : e.type,
      ),
      abandoned: actor.getSnapshot().context.abandoned.a?.batches ?? 0,
    }),
    predict: (m) => ({ out: m.context.out, abandoned: m.context.abandoned }),
  },
  30,
  () => {
    it('keeps the games abandoned per config and says the reason of a rebalance', () => {
      const { actor, out } = run(selfplayOrchestratorMachine);
      actor.send(rebalanced({ a: 2, b: 1 })() as never);
      actor.send(abandoned({ task_type: 'selfplay', config_key: 'a', games: 10 })() as never);
      actor.send(abandoned({ task_type: 'selfplay', config_key: 'a', games: 5 })() as never);
      expect(payloads(out)).toEqual([
        {
          config_key: 'a',
          allocation_weights: { a: 0.667, b: 0.333 },
          reason: 'curriculum rebalanced (t)',
        },
      ]);
      expect(actor.getSnapshot().context).toEqual({
        allocation: { a: 0.667, b: 0.333 },
        abandoned: { a: { batches: 2, games: 15 } },
      });
    });
  },
);
