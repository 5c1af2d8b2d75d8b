/**
 * The guide's TRAINING_FAILED and DATA_SYNC_FAILED rows end at the RecoveryOrchestrator
 * (PIPELINE_RECOVERY): in one runtime with a world whose first training and first sync fail for
 * good (every attempt of their daemons), recovery asks for each again after its backoff, the
 * retry succeeds, and each recovery is said to be complete, in causal order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerError } from '../../src/errors.js';
import type { Envelope, Runtime } from '../../src/index.js';
import { createPipelineDaemons } from '../../src/pipeline/pipeline-daemons.js';
import { createSimulatedWorker } from '../../src/workers/simulated.js';
import type { Worker, WorkKind } from '../../src/workers/worker.js';
import { until } from '../support/log.js';
import { pipelineRuntime } from '../support/pipeline-runtime.js';

let runtime: Runtime | null = null;
afterEach(async () => {
  await runtime?.stop();
  runtime = null;
});

const durations = { selfplay: 4, sync: 4, export: 4, training: 4, evaluation: 4, distribution: 4 };

/** The simulated world, where the first `n` jobs of some kinds fail. */
function failingFirst(failures: Partial<Record<WorkKind, number>>): Worker {
  const simulated = createSimulatedWorker({ seed: 5, durationsMs: durations });
  const left = { ...failures };
  return {
    async run(job, context) {
      const n = left[job.kind] ?? 0;
      if (n > 0) {
        left[job.kind] = n - 1;
        throw new WorkerError(
          job.kind,
          job.idempotencyKey,
          'simulated',
          `${job.kind} host unreachable`,
        );
      }
      return simulated.run(job, context);
    },
    close: () => simulated.close(),
  };
}

describe('recovery flow (one process, simulated worker)', () => {
  it('TRAINING_FAILED and DATA_SYNC_FAILED -> RECOVERY_INITIATED -> the work asked for again -> RECOVERY_COMPLETED', async () => {
    // Each job daemon tries 3 times before it fails for good.
    const daemons = createPipelineDaemons({
      worker: failingFirst({ training: 3, sync: 3 }),
      trainingThreshold: 100,
      recovery: { baseDelayMs: 50 },
    });
    const { runtime: r, events, log } = pipelineRuntime(daemons);
    runtime = r;
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    r.router.publish(
      'TRAINING_THRESHOLD_REACHED',
      { config_key: 'hex8_2p', games: 600 },
      { source: 'test' },
    );
    r.router.publish(
      'SELFPLAY_COMPLETE',
      { config_key: 'square8_2p', games_played: 200 },
      { source: 'test' },
    );
    await until(
      () => events.filter((e) => e.type === 'RECOVERY_COMPLETED').length === 2,
      15_000,
      'both recoveries completed',
    );
    await r.router.whenIdle();
    const of = (type: string, component: string) =>
      events.filter((e) => e.type === type && e.payload.component === component);

    const trainingFailed = events.find((e) => e.type === 'TRAINING_FAILED') as Envelope;
    const [initiated] = of('RECOVERY_INITIATED', 'training');
    expect(initiated?.parentId).toBe(trainingFailed.id);
    expect(initiated?.payload).toMatchObject({ config_key: 'hex8_2p', attempt_number: 1 });
    const retry = events.find(
      (e) => e.type === 'TRAINING_THRESHOLD_REACHED' && e.source === 'PIPELINE_RECOVERY',
    ) as Envelope;
    expect(retry.payload).toMatchObject({ config_key: 'hex8_2p', games: 600 });
    expect(retry.parentId).toBe(trainingFailed.id);
    const trained = events.find((e) => e.type === 'TRAINING_COMPLETED') as Envelope;
    expect(trained.parentId).toBe(retry.id);
    const [completed] = of('RECOVERY_COMPLETED', 'training');
    expect(completed?.parentId).toBe(trained.id);

    const syncFailed = events.find((e) => e.type === 'DATA_SYNC_FAILED') as Envelope;
    expect(syncFailed.payload).toMatchObject({ config_key: 'square8_2p', games: 200 });
    const request = events.find((e) => e.type === 'SYNC_REQUEST') as Envelope;
    expect(request.payload).toMatchObject({
      config_key: 'square8_2p',
      games: 200,
      priority: 'high',
    });
    const synced = events.find((e) => e.type === 'DATA_SYNC_COMPLETED') as Envelope;
    expect(synced.parentId).toBe(request.id);
    const [syncRecovered] = of('RECOVERY_COMPLETED', 'sync');
    expect(syncRecovered?.parentId).toBe(synced.id);
    // Nothing gave up, and each failed attempt was logged.
    expect(events.some((e) => e.type === 'RECOVERY_FAILED')).toBe(false);
    expect(log.atLeast(40).filter((l) => /job attempt \d failed/.test(l.msg))).toHaveLength(6);
  });
});
