/**
 * The regression -> rollback -> redistribution flow the guide's Model table implies, end to end
 * in one runtime with the simulated worker: a second model is promoted on its Elo, yet wins fewer
 * of its gauntlet games than the first. Every daemon of the Model table reacts, in causal order:
 * the ModelPerformanceWatchdog detects it, the ModelLifecycleCoordinator rolls back, the
 * ModelRegistry restores the first model, distribution copies it again; the RegressionDetector's
 * alarm pauses training (DaemonManager) and raises an alert (AlertManager, and its command).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope, Runtime } from '../../src/index.js';
import { createPipelineDaemons } from '../../src/pipeline/pipeline-daemons.js';
import { createSimulatedWorker } from '../../src/workers/simulated.js';
import type { Job, JobContext, Worker } from '../../src/workers/worker.js';
import { until } from '../support/log.js';
import { pipelineRuntime } from '../support/pipeline-runtime.js';
import { tempDb } from '../support/temp-db.js';

let runtime: Runtime | null = null;
afterEach(async () => {
  await runtime?.stop();
  runtime = null;
});

const durations = { selfplay: 4, sync: 4, export: 4, training: 4, evaluation: 4, distribution: 4 };

/** The simulated world, with gauntlets scripted per model: gen2 gains Elo but wins less. */
function scriptedWorld(): Worker {
  const simulated = createSimulatedWorker({ seed: 3, durationsMs: durations });
  const gauntlet: Record<string, { elo: number; win_rate: number }> = {
    'models/hex8_2p/gen1.pth': { elo: 1525, win_rate: 0.7 },
    'models/hex8_2p/gen2.pth': { elo: 1560, win_rate: 0.52 },
  };
  return {
    async run(job, context: JobContext) {
      const result = await simulated.run(job, context);
      if (job.kind !== 'evaluation') return result;
      const path = (job as Job<'evaluation'>).input.model_path;
      return { ...result, ...gauntlet[path] } as typeof result;
    },
    close: () => simulated.close(),
  };
}

describe('model regression flow (one process, simulated worker)', () => {
  it('REGRESSION_DETECTED -> rollback -> the previous best redistributed; REGRESSION_CRITICAL pauses training and alerts', async () => {
    const db = tempDb();
    const alertFile = join(db.dir, 'alert.json');
    const daemons = createPipelineDaemons({
      worker: scriptedWorld(),
      targetHosts: ['gpu-1', 'gpu-2'],
      promotion: { minWinRate: 0.4 },
    });
    const started = pipelineRuntime(daemons, {
      logLevel: 'info',
      pipelineOnly: true,
      runtime: {
        alertCommand: {
          // No shell: argv; the alert arrives on stdin.
          command: [
            process.execPath,
            '-e',
            "require('fs').writeFileSync(process.argv[1], require('fs').readFileSync(0))",
            alertFile,
          ],
        },
      },
    });
    const { runtime: r, events, log } = started;
    runtime = r;
    await r.start();
    await r.whenReady();
    await until(() => r.status().daemons.every((d) => d.ready));
    const completed = (gen: number) =>
      r.router.publish(
        'TRAINING_COMPLETED',
        {
          config_key: 'hex8_2p',
          success: true,
          duration: 9,
          model_path: `models/hex8_2p/gen${gen}.pth`,
        },
        { source: 'training' },
      );
    completed(1);
    await until(() => events.some((e) => e.type === 'MODEL_DISTRIBUTION_COMPLETE'), 5_000);
    await r.router.whenIdle();
    completed(2);
    await until(
      () =>
        events.filter((e) => e.type === 'MODEL_DISTRIBUTION_COMPLETE').length === 3 &&
        events.some((e) => e.type === 'TRAINING_RESUMED') &&
        r.alerts().length === 1,
      8_000,
      'the rollback redistributed, training resumed and one alert',
    );
    await r.router.whenIdle();

    const one = (type: string, where: (e: Envelope) => boolean = () => true) => {
      const found = events.filter((e) => e.type === type && where(e));
      expect(found, type).toHaveLength(1);
      return found[0] as Envelope;
    };
    const promotedGen2 = one('MODEL_PROMOTED', (e) => e.payload.model_id === 'hex8_2p-gen2');
    const detected = one('REGRESSION_DETECTED');
    expect(detected.parentId).toBe(promotedGen2.id);
    expect(detected.payload).toMatchObject({
      config_key: 'hex8_2p',
      model_id: 'hex8_2p-gen2',
      previous_model_id: 'hex8_2p-gen1',
      severity: 'critical',
      win_rate: 0.52,
      previous_win_rate: 0.7,
    });
    // ModelLifecycleCoordinator: back to the previous best.
    const rolledBack = one('PROMOTION_ROLLED_BACK');
    expect(rolledBack.parentId).toBe(detected.id);
    expect(rolledBack.payload).toMatchObject({
      model_id: 'hex8_2p-gen2',
      restored_model_id: 'hex8_2p-gen1',
      restored_model_path: 'models/hex8_2p/gen1.pth',
    });
    // ModelRegistry: gen2 withdrawn, gen1 production again; distribution copies gen1 again.
    const restored = one('MODEL_UPDATED', (e) => e.payload.reason === 'restored');
    expect(restored.parentId).toBe(rolledBack.id);
    expect(restored.payload).toMatchObject({ model_id: 'hex8_2p-gen1', stage: 'production' });
    expect(one('MODEL_UPDATED', (e) => e.payload.reason === 'rollback').payload).toMatchObject({
      model_id: 'hex8_2p-gen2',
      stage: 'rolled_back',
    });
    const redistributed = events.filter(
      (e) => e.type === 'MODEL_DISTRIBUTION_COMPLETE' && e.parentId === restored.id,
    );
    expect(redistributed).toHaveLength(1);
    expect(redistributed[0]?.payload).toMatchObject({ hosts: ['gpu-1', 'gpu-2'] });
    // RegressionDetector -> DaemonManager pauses training (then resumes once the restored model
    // is back on the hosts) and AlertManager raises an alert.
    const critical = one('REGRESSION_CRITICAL');
    expect(critical.parentId).toBe(detected.id);
    const paused = one('TRAINING_PAUSED');
    expect(paused.parentId).toBe(critical.id);
    expect(paused.payload).toMatchObject({ config_key: 'hex8_2p', model_id: 'hex8_2p-gen2' });
    const resumed = one('TRAINING_RESUMED');
    expect(events.indexOf(resumed)).toBeGreaterThan(events.indexOf(paused));
    // Not at the rollback: at the restored model's copy (which it is caused by).
    expect(events.indexOf(resumed)).toBeGreaterThan(events.indexOf(redistributed[0] as never));
    expect(resumed.parentId).toBe(redistributed[0]?.id);
    expect(resumed.payload).toMatchObject({
      config_key: 'hex8_2p',
      reason: 'hex8_2p-gen1 restored on the hosts',
    });
    expect(redistributed[0]?.payload).toMatchObject({
      config_key: 'hex8_2p',
      model_id: 'hex8_2p-gen1',
    });
    const trigger = r.supervisor.getDaemonSnapshot('TRAINING_TRIGGER');
    expect(trigger?.context.paused).toEqual({});
    const [alert] = r.alerts();
    expect(alert).toMatchObject({
      daemon: 'ALERT_MANAGER',
      severity: 'critical',
      alert: 'REGRESSION_CRITICAL',
      config_key: 'hex8_2p',
      cause: critical.id,
    });
    const logged = log.atLeast(50).filter((l) => l.msg.startsWith('ALERT (critical)'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ alert: 'REGRESSION_CRITICAL', cause: critical.id });
    await until(
      () => existsSync(alertFile) && readFileSync(alertFile, 'utf8').length > 0,
      5_000,
      'the alert command wrote its stdin',
    );
    expect(JSON.parse(readFileSync(alertFile, 'utf8'))).toMatchObject({ cause: critical.id });
    // DATA_PIPELINE tracks the regressed config.
    const pipeline = r.supervisor.getDaemonSnapshot('DATA_PIPELINE');
    expect(pipeline?.context.notes.stages.hex8_2p).toBe('regressed');
    // Everything of the second promotion belongs to its trace.
    for (const e of [detected, rolledBack, restored, critical, paused, resumed])
      expect(e.traceId).toBe(promotedGen2.traceId);
    db.cleanup();
  });
});
