/**
 * The decision machines against their rules, on random event sequences (fast-check):
 * AUTO_PROMOTION promotes exactly when the win rate and the Elo gain over the config's best clear
 * the gate; TRAINING_TRIGGER fires exactly when a config's new games reach the threshold and
 * answers every other batch with TRAINING_THRESHOLD_PENDING;
 * FEEDBACK_LOOP asks for one evaluation per successful training with a model file.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { autoPromotionMachine } from '../../src/machines/model/auto-promotion.js';
import { feedbackLoopMachine } from '../../src/machines/training/feedback-loop.js';
import { trainingTriggerMachine } from '../../src/machines/training/training-trigger.js';
import { catalogEvent } from '../support/catalog-event.js';

const emittedBy = (actor: {
  on: (
    type: string,
    fn: (e: { type: string; payload?: Record<string, unknown> }) => void,
  ) => unknown;
}) => {
  const out: { type: string; payload?: Record<string, unknown> }[] = [];
  actor.on('*', (e) => void out.push(e));
  return out;
};

describe('AUTO_PROMOTION (property)', () => {
  it('promotes iff win rate >= min and Elo gain over the best >= min gain; the best only moves on promotion', () => {
    const evaluation = fc.record({
      config_key: fc.constantFrom('a_2p', 'b_2p'),
      elo: fc.double({ min: 1000, max: 2000, noNaN: true }),
      win_rate: fc.double({ min: 0, max: 1, noNaN: true }),
      hasModel: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(evaluation, { maxLength: 30 }), (evaluations) => {
        const actor = createActor(autoPromotionMachine, {
          input: { minWinRate: 0.55, minEloGain: 10 },
        }).start();
        const emitted = emittedBy(actor as never);
        const best = new Map<string, number>();
        for (const [i, e] of evaluations.entries()) {
          const before = emitted.length;
          const payload = {
            config_key: e.config_key,
            elo: e.elo,
            win_rate: e.win_rate,
            games_played: 10,
            model_id: `m${i}`,
            ...(e.hasModel ? { model_path: `p${i}` } : {}),
          };
          actor.send(catalogEvent('EVALUATION_COMPLETED', payload));
          const out = emitted.slice(before).map((x) => x.type);
          if (!e.hasModel) {
            expect(out).toEqual(['daemon.rejected', 'PROMOTION_FAILED']);
            continue;
          }
          const previous = best.get(e.config_key);
          const clears = e.win_rate >= 0.55 && (previous === undefined || e.elo - previous >= 10);
          expect(out).toEqual([clears ? 'MODEL_PROMOTED' : 'PROMOTION_REJECTED']);
          if (clears) best.set(e.config_key, e.elo);
        }
      }),
    );
  });
});

describe('TRAINING_TRIGGER (property)', () => {
  it('fires once per config each time its accumulated new games reach the threshold', () => {
    const batch = fc.record({
      config_key: fc.constantFrom('a_2p', 'b_2p'),
      new_games: fc.integer({ min: 0, max: 300 }),
    });
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 40 }), (batches) => {
        const actor = createActor(trainingTriggerMachine, { input: { threshold: 500 } }).start();
        const emitted = emittedBy(actor as never);
        const pending = new Map<string, number>();
        let expected = 0;
        for (const b of batches) {
          const total = (pending.get(b.config_key) ?? 0) + b.new_games;
          if (total >= 500) {
            expected++;
            pending.set(b.config_key, 0);
          } else pending.set(b.config_key, total);
          actor.send(catalogEvent('NEW_GAMES_AVAILABLE', { host: 'h', total_games: 0, ...b }));
        }
        expect(emitted.filter((e) => e.type === 'TRAINING_THRESHOLD_REACHED')).toHaveLength(
          expected,
        );
        const reached = emitted.filter((e) => e.type === 'TRAINING_THRESHOLD_REACHED');
        const pendingAnswers = emitted.filter((e) => e.type === 'TRAINING_THRESHOLD_PENDING');
        expect(reached.every((e) => Number(e.payload?.games) >= 500)).toBe(true);
        // Every batch is answered: reached, or pending with the config's games so far.
        expect(reached.length + pendingAnswers.length).toBe(batches.length);
        expect(pendingAnswers.every((e) => Number(e.payload?.games) < 500)).toBe(true);
      }),
    );
  });
});

describe('FEEDBACK_LOOP (property)', () => {
  it('requests one evaluation per successful training with a model file, and lowers the learning rate per promotion', () => {
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('trained' as const),
        success: fc.boolean(),
        hasModel: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('promoted' as const) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        const actor = createActor(feedbackLoopMachine, {
          input: { initialLearningRate: 0.01, decay: 0.5 },
        }).start();
        const emitted = emittedBy(actor as never);
        let requests = 0;
        let promotions = 0;
        for (const [i, e] of events.entries()) {
          if (e.kind === 'trained') {
            if (e.success && e.hasModel) requests++;
            actor.send(
              catalogEvent('TRAINING_COMPLETED', {
                config_key: 'a_2p',
                success: e.success,
                duration: 1,
                ...(e.hasModel ? { model_path: `models/a_2p/gen${i}.pth` } : {}),
              }),
            );
          } else {
            promotions++;
            actor.send(
              catalogEvent('MODEL_PROMOTED', {
                config_key: 'a_2p',
                model_id: 'm',
                elo: 1,
                elo_gain: 1,
              }),
            );
          }
        }
        expect(emitted.filter((e) => e.type === 'EVALUATION_REQUESTED')).toHaveLength(requests);
        const updates = emitted.filter((e) => e.type === 'HYPERPARAMETER_UPDATED');
        expect(updates).toHaveLength(promotions);
        if (promotions > 0)
          expect(updates.at(-1)?.payload?.new_value).toBeCloseTo(0.01 * 0.5 ** promotions, 12);
      }),
    );
  });
});
