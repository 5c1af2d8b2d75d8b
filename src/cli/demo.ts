/**
 * `ringrift-coord demo`: a short, real run of the router (what `npm start` shows until the
 * daemons exist). Subscribers for a small slice of the training flow react to each other's
 * events; at the end it prints the subscription counts, the stats and the recent events.
 */
import {
  createLogger,
  createRouter,
  type Envelope,
  emitTrainingCompleted,
  StageEventBus,
} from '../index.js';

export async function runDemo(out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const logger = createLogger({ name: 'demo' });
  const router = createRouter({ name: 'demo', logger });
  const stages = new StageEventBus(router);
  const print = (line: string) => out.write(`${line}\n`);

  // FeedbackLoop: TRAINING_COMPLETED -> evaluation (simulated here by publishing its result).
  router.subscribe(
    'TRAINING_COMPLETED',
    async (e) => {
      await new Promise((r) => setTimeout(r, 5));
      router.publish(
        'EVALUATION_COMPLETED',
        { config_key: e.payload.config_key, elo: 1512, games_played: 200, win_rate: 0.61 },
        { source: 'feedback_loop', causedBy: e },
      );
    },
    { name: 'FeedbackLoop' },
  );
  // AutoPromotion: EVALUATION_COMPLETED -> MODEL_PROMOTED when the win rate clears the gate.
  router.subscribe(
    'EVALUATION_COMPLETED',
    (e) => {
      if (e.payload.win_rate < 0.55) return;
      router.publish(
        'MODEL_PROMOTED',
        {
          model_id: `${e.payload.config_key}-v2`,
          config_key: e.payload.config_key,
          elo: e.payload.elo,
          elo_gain: 12,
        },
        { source: 'auto_promotion', causedBy: e },
      );
    },
    { name: 'AutoPromotion' },
  );
  const promoted = router.once('MODEL_PROMOTED', undefined, { timeoutMs: 5_000 });
  // A stage subscriber sees the same TRAINING_COMPLETED once, through the stage bus's view.
  let stageDeliveries = 0;
  stages.subscribe('TRAINING_COMPLETE', () => {
    stageDeliveries++;
  });

  // The original's `config` key is accepted and normalised to `config_key`.
  emitTrainingCompleted(
    {
      config: 'hex8_2p',
      success: true,
      duration: 812.4,
      model_path: 'models/hex8_2p.pth',
    } as never,
    { router, source: 'training_daemon' },
  );
  const promotion = await promoted;
  await router.whenIdle();

  print(`Promoted ${promotion.payload.model_id} (trace ${promotion.traceId})`);
  print(`Stage subscriber deliveries: ${stageDeliveries}`);
  print(`Subscribers: ${JSON.stringify(router.getSubscriptionCounts())}`);
  const stats = router.getStats();
  print(
    `Stats: published=${stats.published} deliveries=${stats.deliveries} errors=${stats.handlerErrors} timeouts=${stats.handlerTimeouts}`,
  );
  print('Recent events:');
  for (const e of router.getRecentEvents({ limit: 10 }) as Envelope[]) {
    print(
      `  ${e.id}  ${e.type.padEnd(22)} from ${e.source.padEnd(16)} parent=${e.parentId ?? '-'}`,
    );
  }
  await router.close();
  return 0;
}
