import { type Envelope, getRouter, publish, subscribe } from 'ringrift-coordination';

// Subscribe: the handler gets the envelope; the payload is typed by the event.
const router = getRouter();
router.subscribe('TRAINING_COMPLETED', onTrainingCompleted);

async function onTrainingCompleted(event: Envelope<'TRAINING_COMPLETED'>): Promise<void> {
  const { config_key, model_path } = event.payload;
  console.log(`training finished for ${config_key}: ${model_path} (event ${event.id})`);
}

// Module-level helpers use the same process-wide router.
subscribe('EVALUATION_COMPLETED', (event) => console.log('elo', event.payload.elo));

// Publish: validated against the event's schema before anyone sees it (a missing config_key is
// an EventValidationError naming the field). Untyped publishers may still send the original's
// `config`; it is normalised to `config_key`.
publish(
  'TRAINING_COMPLETED',
  { config_key: 'hex8_2p', model_path: 'models/hex8_2p.pth', success: true, duration: 812.4 },
  { source: 'training_daemon' },
);

// Wait for every handler, then look at what happened.
await router.whenIdle();
console.log('Subscribers:', router.getSubscriptionCounts());
console.log(
  'Recent events:',
  router.getRecentEvents({ limit: 5 }).map((e) => e.type),
);
await router.close();
