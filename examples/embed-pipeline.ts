import {
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  type Envelope,
} from 'ringrift-coordination';

// The pipeline's daemons with simulated work (swap in createCommandWorker for real commands),
// driven by a MasterLoop: one iteration over one config.
const daemons = createPipelineDaemons({
  worker: createSimulatedWorker({ seed: 7 }),
  trainingThreshold: 50,
  masterLoop: { configs: ['hex8_2p'], iterations: 1, gamesPerBatch: 50 },
});
const runtime = createRuntime({
  profile: daemons.map((d) => d.type),
  daemons,
  dbPath: false, // a file path to carry events across processes and keep snapshots
});

// Your master loop sees every event, with the chain it belongs to.
runtime.router.subscribe('*', (e: Envelope) => {
  if (e.correlationId) console.log(`${e.correlationId}  ${e.type}`);
});
const done = new Promise<void>((resolve) =>
  runtime.router.subscribe('ITERATION_COMPLETE', () => resolve()),
);
await runtime.start();
await done;
await runtime.stop();
