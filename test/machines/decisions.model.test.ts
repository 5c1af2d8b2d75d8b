/**
 * Model-based tests of the decision daemons (TRAINING_TRIGGER, AUTO_PROMOTION, FEEDBACK_LOOP) and
 * of EVENT_ROUTER's machine. Each abstract model keeps the few facts a decision depends on and
 * predicts, after each event, what the real machine emits; xstate/graph walks every shortest path
 * of the model, each extended by every event, and the real machine must agree on every step and
 * take every one of its transitions (guarded branches counted one by one).
 */
import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { eventRouterMachine } from '../../src/machines/lifecycle/event-router.js';
import { autoPromotionMachine } from '../../src/machines/model/auto-promotion.js';
import { feedbackLoopMachine } from '../../src/machines/training/feedback-loop.js';
import { trainingTriggerMachine } from '../../src/machines/training/training-trigger.js';
import { describeModelBased, type Emitted, MachineCoverage } from '../support/model-based.js';

type Step = { type: string };
const events = <T extends string>(...types: T[]) => types.map((type) => ({ type }));
const describeEmitted = (e: Emitted) => {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  return e.type === 'daemon.rejected' ? 'rejected' : `${e.type}:${p.config_key ?? '-'}`;
};

// TRAINING_TRIGGER with a threshold of 2 games: per config, 0 or 1 game pending; config c may
// have a learning rate from HYPERPARAMETER_UPDATED, which its requests then carry ("+hp"), and
// may be paused (TRAINING_PAUSED): its games then only count (capped at 2 here: any count of 1
// or more reaches the threshold with the next game after the resume).
const THRESHOLD = 2;
type TriggerCtx = { c: number; d: number; cTuned: boolean; cPaused: boolean; out: string[] };
const reachedC = (context: TriggerCtx) =>
  `TRAINING_THRESHOLD_REACHED:c${context.cTuned ? '+hp' : ''}`;
const trigger = setup({
  types: { context: {} as TriggerCtx, events: {} as Step },
}).createMachine({
  context: { c: 0, d: 0, cTuned: false, cPaused: false, out: [] },
  on: {
    C_ONE_GAME: [
      {
        guard: ({ context }) => context.cPaused,
        actions: assign({
          c: ({ context }) => Math.min(2, context.c + 1),
          out: ['TRAINING_THRESHOLD_PENDING:c'],
        }),
      },
      {
        guard: ({ context }) => context.c + 1 >= THRESHOLD,
        actions: assign({ c: 0, out: ({ context }) => [reachedC(context)] }),
      },
      { actions: assign({ c: 1, out: ['TRAINING_THRESHOLD_PENDING:c'] }) },
    ],
    C_TWO_GAMES: [
      {
        guard: ({ context }) => context.cPaused,
        actions: assign({
          c: ({ context }) => Math.min(2, context.c + 2),
          out: ['TRAINING_THRESHOLD_PENDING:c'],
        }),
      },
      { actions: assign({ c: 0, out: ({ context }) => [reachedC(context)] }) },
    ],
    PAUSE_C: { actions: assign({ cPaused: true, out: [] }) },
    RESUME_C: { actions: assign({ cPaused: false, out: [] }) },
    D_ONE_GAME: [
      {
        guard: ({ context }) => context.d + 1 >= THRESHOLD,
        actions: assign({ d: 0, out: ['TRAINING_THRESHOLD_REACHED:d'] }),
      },
      { actions: assign({ d: 1, out: ['TRAINING_THRESHOLD_PENDING:d'] }) },
    ],
    NO_CONFIG: { actions: assign({ out: ['rejected'] }) },
    NO_GAME_COUNT: { actions: assign({ out: ['rejected'] }) },
    C_TUNED: { actions: assign({ cTuned: true, out: [] }) },
    BAD_PARAMETER: { actions: assign({ out: ['rejected'] }) },
  },
});
const TRIGGER_EVENTS: Record<string, { type: string; payload: Record<string, unknown> }> = {
  C_ONE_GAME: { type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'c', new_games: 1 } },
  C_TWO_GAMES: { type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'c', new_games: 2 } },
  D_ONE_GAME: { type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'd', new_games: 1 } },
  NO_CONFIG: { type: 'NEW_GAMES_AVAILABLE', payload: { new_games: 1 } },
  // The catalog's schema refuses a count that is not a whole number; a negative one gets through.
  NO_GAME_COUNT: { type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'c', new_games: -3 } },
  C_TUNED: {
    type: 'HYPERPARAMETER_UPDATED',
    payload: { config_key: 'c', param_name: 'learning_rate', old_value: 0.001, new_value: 0.0009 },
  },
  PAUSE_C: {
    type: 'TRAINING_PAUSED',
    payload: { config_key: 'c', reason: 'critical regression', model_id: 'c-gen2' },
  },
  RESUME_C: { type: 'TRAINING_RESUMED', payload: { config_key: 'c', reason: 'rolled back' } },
  BAD_PARAMETER: {
    type: 'HYPERPARAMETER_UPDATED',
    payload: { config_key: 'c', param_name: 'learning_rate', new_value: 'lower' },
  },
};
describeModelBased(
  'TRAINING_TRIGGER',
  {
    model: trigger,
    events: events(...Object.keys(TRIGGER_EVENTS)),
    machine: trainingTriggerMachine,
    input: { threshold: THRESHOLD },
    apply: (e, { actor }) => actor.send(TRIGGER_EVENTS[e.type]),
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => {
        const p = (e.payload ?? {}) as { hyperparameters?: { learning_rate?: number } };
        const tuned = p.hyperparameters?.learning_rate === 0.0009 ? '+hp' : '';
        return `${describeEmitted(e)}${tuned}`;
      }),
    predict: (m) => m.context.out,
  },
  10,
);

// AUTO_PROMOTION for one config: the models promoted so far (their Elo; the best last) are
// none, 1000, 1020 or 1000 then 1020; the Elo gain needed is 10. A preempted gauntlet (30 of its
// 100 games) fails, whatever its scores; one that played half of them is judged. A rollback of
// m1020 to m1000 makes m1000 the best again, when it was promoted before; otherwise nothing.
type Promoted = readonly number[];
const gate = (promoted: Promoted, elo: number) =>
  promoted.length === 0 || elo - (promoted.at(-1) as number) >= 10;
const promoting = (promoted: Promoted, elo: number) => ({
  promoted: [...promoted, elo],
  out: ['MODEL_PROMOTED:c'],
});
const REJECTED = { out: ['PROMOTION_REJECTED:c'] };
const promotion = setup({
  types: { context: {} as { promoted: Promoted; out: string[] }, events: {} as Step },
}).createMachine({
  context: { promoted: [], out: [] },
  on: {
    NO_MODEL_FILE: { actions: assign({ out: ['rejected', 'PROMOTION_FAILED:c'] }) },
    PREEMPTED: { actions: assign({ out: ['PROMOTION_FAILED:c'] }) },
    HALF_PLAYED_1020: [
      {
        guard: ({ context }) => gate(context.promoted, 1020),
        actions: assign(({ context }) => promoting(context.promoted, 1020)),
      },
      { actions: assign(REJECTED) },
    ],
    LOW_WIN_RATE: { actions: assign({ out: ['PROMOTION_REJECTED:c'] }) },
    ELO_1000: [
      {
        guard: ({ context }) => gate(context.promoted, 1000),
        actions: assign(({ context }) => promoting(context.promoted, 1000)),
      },
      { actions: assign(REJECTED) },
    ],
    ELO_1020: [
      {
        guard: ({ context }) => gate(context.promoted, 1020),
        actions: assign(({ context }) => promoting(context.promoted, 1020)),
      },
      { actions: assign(REJECTED) },
    ],
    ROLLED_BACK_1020: {
      actions: assign(({ context }) => {
        const { promoted } = context;
        const restores = promoted.at(-1) === 1020 && promoted.includes(1000);
        return {
          promoted: restores ? promoted.slice(0, promoted.indexOf(1000) + 1) : promoted,
          out: [],
        };
      }),
    },
  },
});
const evaluated = (elo: number, winRate: number) => ({
  config_key: 'c',
  elo,
  win_rate: winRate,
  games_played: 100,
  model_id: `m${elo}`,
  model_path: `models/c/m${elo}.pth`,
});
const PROMOTION_PAYLOADS: Record<string, Record<string, unknown>> = {
  NO_MODEL_FILE: { config_key: 'c', elo: 1100, win_rate: 0.9, games_played: 100 },
  LOW_WIN_RATE: evaluated(2000, 0.5),
  ELO_1000: evaluated(1000, 0.6),
  ELO_1020: evaluated(1020, 0.6),
  PREEMPTED: { ...evaluated(3000, 0.9), games_played: 30, games_planned: 100 },
  HALF_PLAYED_1020: { ...evaluated(1020, 0.6), games_played: 50, games_planned: 100 },
};
describeModelBased(
  'AUTO_PROMOTION',
  {
    model: promotion,
    events: events(...Object.keys(PROMOTION_PAYLOADS), 'ROLLED_BACK_1020'),
    machine: autoPromotionMachine,
    input: { minWinRate: 0.55, minEloGain: 10 },
    apply: (e, { actor }) =>
      actor.send(
        e.type === 'ROLLED_BACK_1020'
          ? {
              type: 'PROMOTION_ROLLED_BACK',
              payload: {
                config_key: 'c',
                model_id: 'm1020',
                restored_model_id: 'm1000',
                restored_model_path: 'models/c/m1000.pth',
                reason: 'critical regression',
              },
            }
          : { type: 'EVALUATION_COMPLETED', payload: PROMOTION_PAYLOADS[e.type] },
      ),
    observe: ({ takeEmitted }) => takeEmitted().map(describeEmitted),
    predict: (m) => m.context.out,
  },
  10,
  (coverage) => {
    it('after a rollback, judges the next model against the restored best, not the regressed one', () => {
      const actor = createActor(autoPromotionMachine, {
        input: { minWinRate: 0.55, minEloGain: 10 },
        inspect: coverage.inspect,
      });
      const out: Emitted[] = [];
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      const evaluate = (elo: number) =>
        actor.send({ type: 'EVALUATION_COMPLETED', payload: evaluated(elo, 0.6) } as never);
      const rollBack = (model: string, restored: string) =>
        actor.send({
          type: 'PROMOTION_ROLLED_BACK',
          payload: {
            config_key: 'c',
            model_id: model,
            restored_model_id: restored,
            restored_model_path: `models/c/${restored}.pth`,
            reason: 'critical regression',
          },
        } as never);
      evaluate(1000);
      evaluate(1020);
      // Not the best: nothing changes (1025 is 5 over 1020).
      rollBack('m1000', 'm900');
      evaluate(1025);
      rollBack('m1020', 'm1000');
      evaluate(1015);
      expect(out.map(describeEmitted)).toEqual([
        'MODEL_PROMOTED:c',
        'MODEL_PROMOTED:c',
        'PROMOTION_REJECTED:c',
        'MODEL_PROMOTED:c',
      ]);
      expect(out.at(-1)?.payload).toMatchObject({ model_id: 'm1015', elo_gain: 15 });
      // A restored model it never promoted leaves the best as it is.
      rollBack('m1015', 'm-unknown');
      evaluate(1020);
      expect(out.at(-1)?.type).toBe('PROMOTION_REJECTED');
      actor.stop();
    });
  },
);

// FEEDBACK_LOOP: the learning rate of config c after 0, 1 or 2 promotions (bounded at 2; the
// replay does not promote a third time), as the optimizer's multiplier (1 or 2) scales it, and the
// games of its gauntlets as the optimizer's games multiplier (1 or 0.5) scales them. As the
// EvaluationFeedbackHandler it ignores its own learning_rate heard back and parameters it does not
// apply.
const LR = 0.001;
const DECAY = 0.5;
type FeedbackCtx = { promotions: number; lr: number; games: number; out: string[] };
const announced = (c: FeedbackCtx, promotions: number, lr: number) =>
  `HYPERPARAMETER_UPDATED:${LR * DECAY ** c.promotions * c.lr}->${LR * DECAY ** promotions * lr}`;
const feedback = setup({
  types: { context: {} as FeedbackCtx, events: {} as Step },
}).createMachine({
  context: { promotions: 0, lr: 1, games: 1, out: [] },
  on: {
    TRAINED: {
      actions: assign({ out: ({ context }) => [`EVALUATION_REQUESTED:c:${200 * context.games}`] }),
    },
    TRAINING_FAILED: { actions: assign({ out: [] }) },
    TRAINED_WITHOUT_MODEL: { actions: assign({ out: ['rejected'] }) },
    EARLY_STOPPED: { actions: assign({ out: [] }) },
    PROMOTED_WITHOUT_CONFIG: { actions: assign({ out: ['rejected'] }) },
    PROMOTED: [
      {
        guard: ({ context }) => context.promotions < 2,
        actions: assign({
          promotions: ({ context }) => context.promotions + 1,
          out: ({ context }) => [announced(context, context.promotions + 1, context.lr)],
        }),
      },
      { actions: assign({ out: [] }) },
    ],
    LR_X2: {
      actions: assign({ lr: 2, out: ({ context }) => [announced(context, context.promotions, 2)] }),
    },
    LR_X1: {
      actions: assign({ lr: 1, out: ({ context }) => [announced(context, context.promotions, 1)] }),
    },
    OWN_LR_HEARD: { actions: assign({ out: [] }) },
    GAMES_HALF: { actions: assign({ games: 0.5, out: [] }) },
    OTHER_PARAM: { actions: assign({ out: [] }) },
  },
});
const FEEDBACK_EVENTS: Record<string, { type: string; payload: Record<string, unknown> }> = {
  TRAINED: {
    type: 'TRAINING_COMPLETED',
    payload: { config_key: 'c', success: true, model_path: 'models/c/gen1.pth' },
  },
  TRAINING_FAILED: { type: 'TRAINING_COMPLETED', payload: { config_key: 'c', success: false } },
  TRAINED_WITHOUT_MODEL: {
    type: 'TRAINING_COMPLETED',
    payload: { config_key: 'c', success: true },
  },
  EARLY_STOPPED: { type: 'TRAINING_EARLY_STOPPED', payload: { config_key: 'c', epoch: 3 } },
  PROMOTED_WITHOUT_CONFIG: { type: 'MODEL_PROMOTED', payload: { model_id: 'm' } },
  PROMOTED: { type: 'MODEL_PROMOTED', payload: { config_key: 'c', model_id: 'm' } },
  ...Object.fromEntries(
    (
      [
        ['LR_X2', 'learning_rate_multiplier', 2],
        ['LR_X1', 'learning_rate_multiplier', 1],
        ['OWN_LR_HEARD', 'learning_rate', 0.0001],
      ] as const
    ).map(([name, param, value]) => [
      name,
      {
        type: 'HYPERPARAMETER_UPDATED',
        payload: { config_key: 'c', param_name: param, old_value: 1, new_value: value },
      },
    ]),
  ),
  GAMES_HALF: {
    type: 'ADAPTIVE_PARAMS_CHANGED',
    payload: { config_key: 'c', params: { evaluation_games_multiplier: 0.5 } },
  },
  OTHER_PARAM: {
    type: 'ADAPTIVE_PARAMS_CHANGED',
    payload: { config_key: 'c', params: { temperature_multiplier: 1.2 } },
  },
};
describeModelBased(
  'FEEDBACK_LOOP',
  {
    model: feedback,
    events: events(...Object.keys(FEEDBACK_EVENTS)),
    machine: feedbackLoopMachine,
    input: { initialLearningRate: LR, decay: DECAY },
    apply: (e, { actor }) => {
      const promotions = Math.round(
        Math.log((actor.getSnapshot().context.learningRates.c ?? LR) / LR) / Math.log(DECAY),
      );
      if (e.type === 'PROMOTED' && promotions >= 2) return;
      actor.send(FEEDBACK_EVENTS[e.type]);
    },
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) => {
        const p = (e.payload ?? {}) as Record<string, unknown>;
        if (e.type === 'HYPERPARAMETER_UPDATED') return `${e.type}:${p.old_value}->${p.new_value}`;
        if (e.type === 'EVALUATION_REQUESTED') return `${e.type}:${p.config_key}:${p.games}`;
        return describeEmitted(e);
      }),
    predict: (m) => m.context.out,
  },
  10,
);

describe('EVENT_ROUTER (model-based)', () => {
  it('is ready at once in its one state and has no transitions', () => {
    const coverage = new MachineCoverage('EVENT_ROUTER', eventRouterMachine);
    const actor = createActor(eventRouterMachine, { inspect: coverage.inspect }).start();
    expect(actor.getSnapshot().hasTag('ready')).toBe(true);
    coverage.see(actor.getSnapshot());
    actor.stop();
    console.log(coverage.summary());
    expect(coverage.missingStates()).toEqual([]);
    expect(coverage.missingTransitions()).toEqual([]);
  });
});
