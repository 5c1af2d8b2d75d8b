/**
 * The whole pipeline in one process with the simulated worker, driven by the MasterLoop: two
 * configs, two iterations. The data sync flow and the training completion flow happen in the
 * guide's order, every event of a config's chain carries that chain's correlation id, and the
 * MasterLoop ends after its iterations.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRuntime, type DaemonSpec, type Envelope } from '../../src/index.js';
import { createPipelineDaemons } from '../../src/pipeline/pipeline-daemons.js';
import { createSimulatedWorker } from '../../src/workers/simulated.js';
import { until } from '../support/log.js';

/** Runs the daemons until the MasterLoop stops; every event the router saw, in order. */
async function runToEnd(daemons: DaemonSpec[]): Promise<Envelope[]> {
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: false,
    logger: pino({ level: 'warn' }),
  });
  const events: Envelope[] = [];
  runtime.router.subscribe('*', (e) => void events.push(e));
  await runtime.start();
  try {
    await until(
      () => runtime.status().daemons.find((d) => d.daemon === 'MASTER_LOOP')?.state === 'stopped',
      15_000,
    );
    await runtime.router.whenIdle();
  } finally {
    await runtime.stop();
  }
  return events;
}

describe('pipeline with the MasterLoop (one process)', () => {
  it('runs two iterations over two configs through every flow', async () => {
    const daemons = createPipelineDaemons({
      worker: createSimulatedWorker({
        seed: 5,
        durationsMs: {
          selfplay: 4,
          sync: 4,
          export: 4,
          training: 4,
          evaluation: 4,
          distribution: 4,
        },
      }),
      trainingThreshold: 100,
      promotion: { minWinRate: 0.3, minEloGain: -1000 },
      masterLoop: { configs: ['hex8_2p', 'square8_2p'], iterations: 2, gamesPerBatch: 100 },
    });
    const events = await runToEnd(daemons);
    expect(
      events.filter((e) => e.type === 'ITERATION_COMPLETE').map((e) => e.payload.iteration),
    ).toEqual([1, 2]);
    const chain = (correlationId: string) =>
      events
        .filter((e) => e.correlationId === correlationId && !e.type.startsWith('DAEMON_'))
        .map((e) => e.type)
        .filter((t) => t !== 'EVALUATION_PROGRESS');
    for (const iteration of [1, 2]) {
      for (const config of ['hex8_2p', 'square8_2p']) {
        const types: string[] = chain(`iteration-${iteration}:${config}`);
        const order = [
          'SELFPLAY_TARGET_UPDATED',
          'SELFPLAY_COMPLETE',
          'DATA_SYNC_STARTED',
          'DATA_SYNC_COMPLETED',
          'NPZ_EXPORT_STARTED',
          'NPZ_EXPORT_COMPLETE',
          'NEW_GAMES_AVAILABLE',
          'TRAINING_THRESHOLD_REACHED',
          'TRAINING_STARTED',
          'TRAINING_COMPLETED',
          'EVALUATION_REQUESTED',
          'EVALUATION_STARTED',
          'EVALUATION_COMPLETED',
          'MODEL_PROMOTED',
          'MODEL_DISTRIBUTION_STARTED',
          'MODEL_DISTRIBUTION_COMPLETE',
        ];
        const positions = order.map((t) => types.indexOf(t));
        expect(
          positions.every((p) => p >= 0),
          `${iteration}:${config} ${types.join(' ')}`,
        ).toBe(true);
        expect(
          [...positions].sort((a, b) => a - b),
          `${iteration}:${config} out of order: ${types.join(' ')}`,
        ).toEqual(positions);
      }
    }
    // The FEEDBACK_LOOP's learning rate after iteration 1's promotion reaches iteration 2's
    // training request (through TRAINING_TRIGGER), for each config.
    const request = (iteration: number, config: string) =>
      events.find(
        (e) =>
          e.type === 'TRAINING_THRESHOLD_REACHED' &&
          e.correlationId === `iteration-${iteration}:${config}`,
      )?.payload;
    for (const config of ['hex8_2p', 'square8_2p']) {
      expect(request(1, config)).not.toHaveProperty('hyperparameters');
      expect(request(2, config)).toMatchObject({
        hyperparameters: { learning_rate: 0.001 * 0.9 },
      });
    }
  });

  it('ends an iteration whose new games stay below the training threshold, and trains once they reach it', async () => {
    const daemons = createPipelineDaemons({
      worker: createSimulatedWorker({ seed: 2 }),
      // Two batches of 100 games per training run.
      trainingThreshold: 200,
      masterLoop: {
        configs: ['hex8_2p'],
        iterations: 2,
        gamesPerBatch: 100,
        // Far beyond the test's own timeout: ending by the timer would fail the test.
        iterationTimeoutMs: 600_000,
      },
    });
    const events = await runToEnd(daemons);
    const of = (iteration: number) =>
      events.filter((e) => e.correlationId === `iteration-${iteration}:hex8_2p`).map((e) => e.type);
    expect(of(1)).toContain('TRAINING_THRESHOLD_PENDING');
    expect(of(1)).not.toContain('TRAINING_STARTED');
    const pending = events.find((e) => e.type === 'TRAINING_THRESHOLD_PENDING');
    expect(pending?.payload).toMatchObject({ config_key: 'hex8_2p', games: 100, threshold: 200 });
    expect(of(2)).toContain('TRAINING_THRESHOLD_REACHED');
    expect(of(2)).toContain('TRAINING_COMPLETED');
    expect(events.filter((e) => e.type === 'ITERATION_COMPLETE')).toHaveLength(2);
  });
});
