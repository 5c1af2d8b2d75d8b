/**
 * Model-based tests of the Curriculum & Quality section's daemons: QUALITY_MONITOR. An abstract
 * model keeps, per config, the score last reported and whether the config is degraded; every
 * path of it, extended by every event, runs on the real machine with catalog-checked payloads.
 */
import { expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { qualityMonitorMachine } from '../../src/machines/curriculum/quality-monitor.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));

// ---- QUALITY_MONITOR: config c scores 0.85, 0.8, 0.65 or 0.4; config d scores 0.4. ----
const SCORES = { HIGH: 0.85, HIGH_AGAIN: 0.8, MEDIUM: 0.65, POOR: 0.4 } as const;
type QualityCtx = {
  reported: { c?: number; d?: number };
  degraded: { c: boolean; d: boolean };
  out: string[];
};
const batch =
  (config: 'c' | 'd', score: number) =>
  ({ context }: { context: QualityCtx }) => {
    const out: string[] = [];
    const before = context.reported[config];
    const reported = { ...context.reported };
    if (before === undefined || Math.abs(score - before) >= 0.1 - 1e-9) {
      out.push(`QUALITY_SCORE_UPDATED:${config}:${score}`);
      reported[config] = score;
    }
    const degraded = { ...context.degraded };
    if (!degraded[config] && score < 0.6) {
      out.push(`QUALITY_DEGRADED:${config}`);
      degraded[config] = true;
    } else if (degraded[config] && score >= 0.7) degraded[config] = false;
    return { reported, degraded, out };
  };
const qualityModel = setup({
  types: { context: {} as QualityCtx, events: {} as Step },
}).createMachine({
  context: { reported: {}, degraded: { c: false, d: false }, out: [] },
  on: {
    ...Object.fromEntries(
      Object.entries(SCORES).map(([name, score]) => [
        `C_${name}`,
        { actions: assign(batch('c', score)) },
      ]),
    ),
    D_POOR: { actions: assign(batch('d', SCORES.POOR)) },
    C_UNSCORED: { actions: assign({ out: [] }) },
  },
});
const selfplay = (config: string, quality_score?: number) => () =>
  catalogEvent('SELFPLAY_COMPLETE', {
    config_key: config,
    games_played: 100,
    ...(quality_score === undefined ? {} : { quality_score }),
  });
const QUALITY_EVENTS: Record<string, () => unknown> = {
  ...Object.fromEntries(
    Object.entries(SCORES).map(([name, score]) => [`C_${name}`, selfplay('c', score)]),
  ),
  D_POOR: selfplay('d', SCORES.POOR),
  C_UNSCORED: selfplay('c'),
};
const said = (e: Emitted) => {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  return e.type === 'QUALITY_SCORE_UPDATED'
    ? `${e.type}:${p.config_key}:${p.quality_score}`
    : `${e.type}:${p.config_key}`;
};
describeModelBased(
  'QUALITY_MONITOR',
  {
    model: qualityModel,
    events: steps(Object.keys(QUALITY_EVENTS)),
    machine: qualityMonitorMachine,
    apply: (e, { actor }) => actor.send(QUALITY_EVENTS[e.type]?.() as never),
    observe: ({ takeEmitted }) => takeEmitted().map(said),
    predict: (m) => m.context.out,
  },
  60,
  () => {
    it('reports the category and training weight with the score, and the drop with the alarm', () => {
      const out: Emitted[] = [];
      const actor = createActor(qualityMonitorMachine);
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      for (const k of ['C_HIGH', 'C_POOR', 'C_UNSCORED'])
        actor.send(QUALITY_EVENTS[k]?.() as never);
      expect(out.map((e) => e.payload)).toEqual([
        { config_key: 'c', quality_score: 0.85, quality_category: 'high', training_weight: 1 },
        { config_key: 'c', quality_score: 0.4, quality_category: 'low', training_weight: 0.5 },
        {
          config_key: 'c',
          quality_score: 0.4,
          threshold: 0.6,
          previous_score: 0.85,
          degradation_delta: expect.closeTo(0.45, 9),
        },
      ]);
      expect(actor.getSnapshot().context.unscored).toBe(1);
    });
  },
);
