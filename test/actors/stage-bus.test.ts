import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { WaitTimeoutError } from '../../src/errors.js';
import {
  EventValidationError,
  InvalidOptionError,
  type Router,
  type StageCompletionResult,
  StageEventBus,
} from '../../src/index.js';
import { testRouter, tick } from '../support/router.js';

let router: Router;
afterEach(() => router.close());

const trainingResult = (over: Partial<StageCompletionResult> = {}): StageCompletionResult => ({
  event: 'TRAINING_COMPLETE',
  success: true,
  iteration: 3,
  board_type: 'hex8',
  num_players: 2,
  model_path: 'models/hex8_2p.pth',
  metadata: { duration: 812 },
  ...over,
});

describe('StageEventBus', () => {
  it('gives a stage subscriber and a data subscriber one delivery each per emit', async () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    const stageGot: StageCompletionResult[] = [];
    const dataGot: string[] = [];
    stages.subscribe('TRAINING_COMPLETE', (r) => void stageGot.push(r));
    router.subscribe('TRAINING_COMPLETED', (e) => void dataGot.push(e.payload.config_key));
    const envelope = stages.emit(trainingResult());
    await router.whenIdle();
    expect(envelope.type).toBe('TRAINING_COMPLETED');
    expect(dataGot).toEqual(['hex8_2p']);
    expect(stageGot).toHaveLength(1);
    expect(stageGot[0]).toMatchObject({
      event: 'TRAINING_COMPLETE',
      success: true,
      iteration: 3,
      duration: 812,
    });
    expect(router.getStats().published).toBe(1);
  });

  it('delivers a data event published directly to the stage subscribers of that event', async () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    let n = 0;
    stages.subscribe('training_complete', () => void n++);
    router.publish('TRAINING_COMPLETED', { config_key: 'x', success: true, duration: 1 });
    await router.whenIdle();
    expect(n).toBe(1);
  });

  it('keeps stages of one data event apart (GPU vs canonical selfplay)', async () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    const got: string[] = [];
    stages.subscribe('GPU_SELFPLAY_COMPLETE', (r) => void got.push(`gpu:${r.event}`));
    stages.subscribe('CANONICAL_SELFPLAY_COMPLETE', (r) => void got.push(`canonical:${r.event}`));
    router.subscribe('SELFPLAY_COMPLETE', (e) => void got.push(`data:${String(e.payload.stage)}`));
    const base = { success: true, config_key: 'sq8_2p', games_played: 100 };
    stages.emit({ ...base, event: 'GPU_SELFPLAY_COMPLETE' });
    stages.emit({ ...base, event: 'canonical_selfplay_complete' });
    await router.whenIdle();
    expect(got.sort()).toEqual([
      'canonical:CANONICAL_SELFPLAY_COMPLETE',
      'data:canonical_selfplay_complete',
      'data:gpu_selfplay_complete',
      'gpu:GPU_SELFPLAY_COMPLETE',
    ]);
  });

  it('is idempotent per (stage, callback) and unsubscribes', async () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    let n = 0;
    const cb = () => void n++;
    stages.subscribe('TRAINING_COMPLETE', cb);
    stages.subscribe('TRAINING_COMPLETE', cb);
    expect(stages.getStats().subscribers).toEqual({ TRAINING_COMPLETE: 1 });
    stages.emit(trainingResult());
    await router.whenIdle();
    expect(stages.unsubscribe('TRAINING_COMPLETE', cb)).toBe(true);
    expect(stages.unsubscribe('TRAINING_COMPLETE', cb)).toBe(false);
    stages.emit(trainingResult());
    await router.whenIdle();
    expect(n).toBe(1);
  });

  it('emitAndWait resolves after the stage handlers finished', async () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    const order: string[] = [];
    stages.subscribe('TRAINING_COMPLETE', async () => {
      await new Promise((r) => setTimeout(r, 10));
      order.push('handler');
    });
    const report = await stages.emitAndWait(trainingResult(), 1_000);
    order.push('resolved');
    expect(order).toEqual(['handler', 'resolved']);
    expect(report.delivered).toHaveLength(1);
  });

  it('emitAndWait gives up after its timeout on the router clock, with a typed error', async () => {
    const clock = new SimulatedClock();
    ({ router } = testRouter({ clock, handlerTimeoutMs: 60_000 }));
    const stages = new StageEventBus(router);
    let release: () => void = () => {};
    stages.subscribe('TRAINING_COMPLETE', () => new Promise<void>((r) => (release = r)));
    const waiting = stages.emitAndWait(trainingResult(), 5_000);
    let settled = false;
    waiting.catch(() => {}).finally(() => (settled = true));
    try {
      await tick();
      clock.increment(4_999);
      await tick();
      expect(settled).toBe(false);
      clock.increment(1);
      await expect(waiting).rejects.toThrow(WaitTimeoutError);
      await expect(waiting).rejects.toThrow(
        "the handlers of stage 'TRAINING_COMPLETE' did not finish within 5000 ms",
      );
    } finally {
      release();
    }
  });

  it('keeps history and stats of emitted results', () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    stages.emit(trainingResult({ iteration: 1 }));
    stages.emit(trainingResult({ iteration: 2 }));
    stages.emit({ event: 'SELFPLAY_COMPLETE', success: true, config_key: 'x', games_played: 1 });
    expect(stages.getHistory('TRAINING_COMPLETE').map((r) => r.iteration)).toEqual([1, 2]);
    expect(stages.getHistory(undefined, 1).map((r) => r.event)).toEqual(['SELFPLAY_COMPLETE']);
    expect(stages.getStats().emitted).toEqual({ TRAINING_COMPLETE: 2, SELFPLAY_COMPLETE: 1 });
  });

  it('rejects an unknown stage and a result the data event cannot accept', () => {
    ({ router } = testRouter());
    const stages = new StageEventBus(router);
    expect(() => stages.subscribe('TRAINING_DONE', () => {})).toThrow(InvalidOptionError);
    expect(() => stages.emit(trainingResult({ metadata: {} }))).toThrow(EventValidationError);
    expect(() => stages.emit(trainingResult({ metadata: {} }))).toThrow(
      "'duration': required (missing)",
    );
  });
});
