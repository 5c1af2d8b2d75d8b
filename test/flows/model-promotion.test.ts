/**
 * The guide's training completion and model promotion flows, end to end in one process with the
 * simulated worker: the events appear in the order and with the causality of the guide's
 * diagrams (each event's parent is the one that caused it; one trace for the whole flow).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope, Runtime } from '../../src/index.js';
import { createPipelineDaemons } from '../../src/pipeline/pipeline-daemons.js';
import { createSimulatedWorker } from '../../src/workers/simulated.js';
import { until } from '../support/log.js';
import { pipelineRuntime } from '../support/pipeline-runtime.js';

let runtime: Runtime | null = null;
afterEach(async () => {
  await runtime?.stop();
  runtime = null;
});

const durations = { selfplay: 4, sync: 4, export: 4, training: 4, evaluation: 8, distribution: 4 };

function start(options: { failureRates?: Record<string, number>; minWinRate?: number } = {}) {
  const daemons = createPipelineDaemons({
    worker: createSimulatedWorker({
      seed: 11,
      durationsMs: durations,
      failureRates: options.failureRates,
    }),
    targetHosts: ['gpu-1', 'gpu-2'],
    promotion: { minWinRate: options.minWinRate ?? 0.4 },
  });
  const started = pipelineRuntime(daemons, { pipelineOnly: true });
  runtime = started.runtime;
  return started;
}

const trainingCompleted = (model_path: string | undefined) => ({
  config_key: 'hex8_2p',
  success: true,
  duration: 812,
  ...(model_path ? { model_path } : {}),
});

describe('model promotion flow (one process, simulated worker)', () => {
  it('TRAINING_COMPLETED -> evaluation -> MODEL_PROMOTED -> distribution and new training parameters', async () => {
    const { runtime: r, events } = start();
    await r.start();
    await r.whenReady();
    await until(() => r.status().daemons.every((d) => d.ready));
    const origin = r.router.publish(
      'TRAINING_COMPLETED',
      trainingCompleted('models/hex8_2p/gen1.pth'),
      { source: 'training' },
    );
    await until(
      () =>
        events.some((e) => e.type === 'MODEL_DISTRIBUTION_COMPLETE') &&
        events.some((e) => e.type === 'HYPERPARAMETER_UPDATED'),
      5_000,
    );
    await r.router.whenIdle();
    // The registry's records and the curriculum's branch run beside the flow (checked below).
    const beside = new Set(['EVALUATION_PROGRESS', 'MODEL_UPDATED', 'ELO_SIGNIFICANT_CHANGE']);
    const types = events.map((e) => e.type).filter((t) => !beside.has(t));
    expect(types).toEqual([
      'TRAINING_COMPLETED',
      'EVALUATION_REQUESTED',
      'EVALUATION_STARTED',
      'EVALUATION_COMPLETED',
      'MODEL_PROMOTED',
      ...(types.indexOf('HYPERPARAMETER_UPDATED') < types.indexOf('MODEL_DISTRIBUTION_STARTED')
        ? ['HYPERPARAMETER_UPDATED', 'MODEL_DISTRIBUTION_STARTED']
        : ['MODEL_DISTRIBUTION_STARTED', 'HYPERPARAMETER_UPDATED']),
      'MODEL_DISTRIBUTION_COMPLETE',
    ]);
    const byType = (t: string) => events.find((e) => e.type === t) as Envelope;
    // Causality as in the guide's diagrams.
    expect(byType('EVALUATION_REQUESTED').parentId).toBe(origin.id);
    expect(byType('EVALUATION_STARTED').parentId).toBe(byType('EVALUATION_REQUESTED').id);
    expect(byType('EVALUATION_COMPLETED').parentId).toBe(byType('EVALUATION_REQUESTED').id);
    // The gauntlet's Elo (1500 + 25 per generation, with noise) moved by at least 25.
    expect(byType('ELO_SIGNIFICANT_CHANGE').parentId).toBe(byType('EVALUATION_COMPLETED').id);
    expect(byType('MODEL_PROMOTED').parentId).toBe(byType('EVALUATION_COMPLETED').id);
    expect(byType('MODEL_DISTRIBUTION_COMPLETE').parentId).toBe(byType('MODEL_PROMOTED').id);
    expect(byType('HYPERPARAMETER_UPDATED').parentId).toBe(byType('MODEL_PROMOTED').id);
    expect(new Set(events.map((e) => e.traceId))).toEqual(new Set([origin.id]));
    // The ModelRegistry: the trained model is a candidate, then production, with its version.
    const records = events.filter((e) => e.type === 'MODEL_UPDATED');
    expect(records.map((e) => [e.payload.stage, e.payload.reason, e.parentId])).toEqual([
      ['candidate', 'trained', origin.id],
      ['production', 'promoted', byType('MODEL_PROMOTED').id],
    ]);
    expect(records[1]?.payload).toMatchObject({
      config_key: 'hex8_2p',
      model_id: 'hex8_2p-gen1',
      model_path: 'models/hex8_2p/gen1.pth',
      version: 'v1',
      parent_model_id: null,
    });
    expect(byType('EVALUATION_COMPLETED').payload).toMatchObject({
      config_key: 'hex8_2p',
      model_path: 'models/hex8_2p/gen1.pth',
      model_id: 'hex8_2p-gen1',
    });
    expect(byType('MODEL_DISTRIBUTION_COMPLETE').payload).toMatchObject({
      models_distributed: 2,
      target_hosts: 2,
    });
    expect(
      events.filter((e) => e.type === 'EVALUATION_PROGRESS').map((e) => e.payload.games_completed),
    ).toEqual([50, 100, 150, 200]);
  });

  it('rejects a model below the gate with PROMOTION_REJECTED, and nothing is distributed', async () => {
    const { runtime: r, events } = start({ minWinRate: 0.99 });
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    r.router.publish('TRAINING_COMPLETED', trainingCompleted('models/hex8_2p/gen1.pth'));
    await until(() => events.some((e) => e.type === 'PROMOTION_REJECTED'), 5_000);
    await r.router.whenIdle();
    expect(events.find((e) => e.type === 'PROMOTION_REJECTED')?.payload.reason).toMatch(
      /^win rate 0\.\d+ below 0\.99$/,
    );
    expect(
      events.some((e) => e.type === 'MODEL_PROMOTED' || e.type.startsWith('MODEL_DISTRIBUTION')),
    ).toBe(false);
  });

  it('logs and counts a training result without a model path instead of dropping it silently', async () => {
    const { runtime: r, events, log } = start();
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    r.router.publish('TRAINING_COMPLETED', trainingCompleted(undefined));
    await r.router.whenIdle();
    await until(() =>
      log.records.some(
        (l) => l.reason === 'TRAINING_COMPLETED has no model_path and config_key to evaluate',
      ),
    );
    expect(events.some((e) => e.type === 'EVALUATION_REQUESTED')).toBe(false);
    expect(r.status().daemons.find((d) => d.daemon === 'FEEDBACK_LOOP')?.rejections).toBe(1);
  });

  it('retries a failing evaluation with backoff, then gives up with EVALUATION_FAILED', async () => {
    const { runtime: r, events } = start({ failureRates: { evaluation: 1 } });
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    r.router.publish('TRAINING_COMPLETED', trainingCompleted('models/hex8_2p/gen1.pth'));
    await until(() => events.some((e) => e.type === 'EVALUATION_FAILED'), 15_000);
    expect(events.filter((e) => e.type === 'EVALUATION_STARTED')).toHaveLength(3);
    expect(events.find((e) => e.type === 'EVALUATION_FAILED')?.payload.error).toMatch(
      /simulated failure \(attempt 1\)/,
    );
  });
});
