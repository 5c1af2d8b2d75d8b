import { describe, expect, it } from 'vitest';
import { WorkerError } from '../../src/errors.js';
import { createSimulatedWorker } from '../../src/workers/simulated.js';
import type { Job, Progress } from '../../src/workers/worker.js';

const ctx = (progress: Progress[] = [], signal = new AbortController().signal) => ({
  signal,
  progress: (p: Progress) => void progress.push(p),
});
const durations = { selfplay: 4, sync: 4, export: 4, training: 4, evaluation: 4, distribution: 4 };
const training = (key: string): Job<'training'> => ({
  kind: 'training',
  idempotencyKey: key,
  input: { config_key: 'hex8_2p', samples: 10, epochs: 3 },
});
const evaluation = (key: string, model_path: string): Job<'evaluation'> => ({
  kind: 'evaluation',
  idempotencyKey: key,
  input: { config_key: 'hex8_2p', model_path, games: 100 },
});

describe('simulated worker', () => {
  it('is deterministic for a seed, and reports progress', async () => {
    const run = async (seed: number) => {
      const worker = createSimulatedWorker({ seed, durationsMs: durations });
      const progress: Progress[] = [];
      const t = await worker.run(training('t1'), ctx(progress));
      const e = await worker.run(evaluation('e1', t.model_path), ctx());
      return { t, e, progress };
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(a.t).toEqual(b.t);
    expect(a.e).toEqual(b.e);
    expect(a.e.elo).not.toBe(c.e.elo);
    expect(a.progress.map((p) => p.fraction)).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('produces plausible results: Elo rises and loss falls with each training run', async () => {
    const worker = createSimulatedWorker({ seed: 3, durationsMs: durations });
    const elos: number[] = [];
    const losses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const t = await worker.run(training(`t${i}`), ctx());
      losses.push(t.final_loss);
      elos.push((await worker.run(evaluation(`e${i}`, t.model_path), ctx())).elo);
    }
    expect(elos.at(-1)).toBeGreaterThan((elos[0] ?? 0) + 60);
    expect(losses.at(-1)).toBeLessThan(losses[0] ?? 0);
    const games = await worker.run(
      { kind: 'selfplay', idempotencyKey: 's', input: { config_key: 'hex8_2p', games: 250 } },
      ctx(),
    );
    expect(games).toMatchObject({ games_played: 250, db_path: 'data/selfplay/hex8_2p.db' });
  });

  it('fails at its configured rate, and answers a repeated key with the same result (idempotent)', async () => {
    const worker = createSimulatedWorker({
      seed: 1,
      durationsMs: durations,
      failureRates: { training: 0.5 },
    });
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await worker.run(training(`k${i}`), ctx());
      } catch (error) {
        expect(error).toBeInstanceOf(WorkerError);
        expect((error as WorkerError).failure).toBe('simulated');
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    const steady = createSimulatedWorker({ seed: 1, durationsMs: durations });
    const first = await steady.run(training('same'), ctx());
    expect(await steady.run(training('same'), ctx())).toBe(first);
  });

  it('stops when the signal aborts', async () => {
    const worker = createSimulatedWorker({ durationsMs: { training: 10_000 } });
    const controller = new AbortController();
    const run = worker.run(training('slow'), ctx([], controller.signal));
    controller.abort(new Error('shutting down'));
    await expect(run).rejects.toMatchObject({ failure: 'aborted' });
    await worker.close();
  });
});
