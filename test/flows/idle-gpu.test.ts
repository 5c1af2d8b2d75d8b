/**
 * The guide's IDLE_RESOURCE_DETECTED row: in one runtime, once the host's GPU work is done and
 * it stays idle for `idleSeconds`, IDLE_RESOURCE says so and SELFPLAY_COORDINATOR fills the GPU
 * with a batch of the config asked for, of its last target size; that batch is the idle
 * stretch's answer, and it starts no further one of its own (no runaway selfplay).
 *
 * Another host (the IdleDetectionLoop): a host presence announces with a free slot, with no batch
 * of ours for `idleSeconds`, is reported by the leader; the batch plays there, is synced from
 * there, and is withdrawn (TASK_ABANDONED) when the host goes offline while it plays.
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

const durations = { selfplay: 4, sync: 4, export: 4, training: 4, evaluation: 4, distribution: 4 };
const IDLE_SECONDS = 0.4;

describe('idle GPU flow (one process, simulated worker)', () => {
  it('work done -> idle for idleSeconds -> IDLE_RESOURCE_DETECTED -> a selfplay batch of the config asked for -> SELFPLAY_COMPLETE, once', async () => {
    const daemons = createPipelineDaemons({
      worker: createSimulatedWorker({ seed: 3, durationsMs: durations }),
      // No training: the only GPU work is the selfplay.
      trainingThreshold: 1_000_000,
      idleSeconds: IDLE_SECONDS,
    });
    const { runtime: r, events, log } = pipelineRuntime(daemons);
    runtime = r;
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    r.router.publish(
      'SELFPLAY_TARGET_UPDATED',
      { config_key: 'hex8_2p', target_games: 64, reason: 'test' },
      { source: 'test' },
    );
    const answering = () => {
      const idle = events.filter((e) => e.type === 'IDLE_RESOURCE_DETECTED').map((e) => e.id);
      return events.find((e) => e.type === 'SELFPLAY_COMPLETE' && idle.includes(e.parentId ?? ''));
    };
    await until(() => answering() !== undefined, 10_000, 'a selfplay batch answering an idle GPU');
    const filled = answering() as Envelope;
    expect(filled.payload).toMatchObject({ config_key: 'hex8_2p' });
    const detected = events.find((e) => e.id === filled.parentId) as Envelope;
    expect(detected.payload).toMatchObject({
      host: 'localhost',
      idle_duration_seconds: IDLE_SECONDS,
      reason: 'no_gpu_work',
    });
    // The idle batch came after the asked-for one had completed.
    const asked = events.findIndex((e) => e.type === 'SELFPLAY_COMPLETE');
    expect(asked).toBeLessThan(events.indexOf(detected));
    // Its batch is the idle stretch's answer, not the start of a new stretch: three more idle
    // periods pass without another detection after it.
    const before = events.filter((e) => e.type === 'IDLE_RESOURCE_DETECTED').length;
    await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_SECONDS * 1000));
    expect(events.filter((e) => e.type === 'IDLE_RESOURCE_DETECTED').length).toBe(before);
    expect(log.atLeast(50)).toEqual([]);
  });

  const present = (r: Runtime) => {
    r.router.publish('LEADER_ELECTED', { leader_id: 'localhost', term: 1 }, { source: 'presence' });
    r.router.publish(
      'HOST_ONLINE',
      { host: 'gpu-2', profile: 'training_node', gpus: 1, free_slots: 1 },
      { source: 'presence' },
    );
    r.router.publish(
      'SELFPLAY_TARGET_UPDATED',
      { config_key: 'hex8_2p', target_games: 64, reason: 'test' },
      { source: 'test' },
    );
  };
  const remoteDaemons = (selfplayMs: number) =>
    createPipelineDaemons({
      worker: createSimulatedWorker({
        seed: 3,
        durationsMs: { ...durations, selfplay: selfplayMs },
      }),
      trainingThreshold: 1_000_000,
      idleSeconds: IDLE_SECONDS,
    });

  it("another host's free slot -> the leader's IDLE_RESOURCE_DETECTED for it -> a batch played there -> synced from there", async () => {
    const { runtime: r, events, log } = pipelineRuntime(remoteDaemons(4));
    runtime = r;
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    present(r);
    const remote = () =>
      events.filter((e) => e.type === 'IDLE_RESOURCE_DETECTED' && e.payload.host === 'gpu-2');
    const played = () =>
      events.find(
        (e) => e.type === 'SELFPLAY_COMPLETE' && remote().some((d) => d.id === e.parentId),
      );
    await until(() => played() !== undefined, 10_000, 'a batch answering the idle gpu-2');
    expect(remote()[0]?.payload).toMatchObject({
      node_id: 'gpu-2',
      reason: 'free_slots_without_our_work',
    });
    expect(played()?.payload).toMatchObject({ config_key: 'hex8_2p', host: 'gpu-2' });
    const synced = () =>
      events.find((e) => e.type === 'DATA_SYNC_COMPLETED' && e.parentId === played()?.id);
    await until(() => synced() !== undefined, 10_000, 'the batch synced');
    expect(synced()?.payload).toMatchObject({ host: 'gpu-2' });
    // Once per iteration: no further target, no further report, however long gpu-2 idles.
    await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_SECONDS * 1000));
    expect(remote()).toHaveLength(1);
    expect(log.atLeast(50)).toEqual([]);
  });

  it('a host that goes offline while it plays our batch: the batch is withdrawn, TASK_ABANDONED', async () => {
    const { runtime: r, events } = pipelineRuntime(remoteDaemons(2_000));
    runtime = r;
    await r.start();
    await until(() => r.status().daemons.every((d) => d.ready));
    present(r);
    const remote = () =>
      events.find((e) => e.type === 'IDLE_RESOURCE_DETECTED' && e.payload.host === 'gpu-2');
    await until(() => remote() !== undefined, 10_000, 'gpu-2 reported idle');
    r.router.publish(
      'HOST_OFFLINE',
      { host: 'gpu-2', reason: 'test: gone' },
      { source: 'presence' },
    );
    const abandoned = () =>
      events.find((e) => e.type === 'TASK_ABANDONED' && e.payload.node_id === 'gpu-2');
    await until(() => abandoned() !== undefined, 5_000, 'the batch on gpu-2 withdrawn');
    expect(abandoned()?.payload).toMatchObject({
      task_type: 'selfplay',
      config_key: 'hex8_2p',
      reason: 'gpu-2 went offline',
    });
    // Its worker was stopped: the batch never completes.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(
      events.filter((e) => e.type === 'SELFPLAY_COMPLETE' && e.payload.host === 'gpu-2'),
    ).toEqual([]);
  });
});
