/**
 * `ringrift-coord run`: the pipeline daemons under the supervisor, driven by the MasterLoop, with
 * the simulated worker (or configured commands), until the iterations are done or Ctrl-C; then a
 * summary. Progress goes to the log: pretty on a TTY, JSON lines otherwise.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createPipelineDaemons } from '../actors/pipeline-daemons.js';
import {
  createCommandWorker,
  createLogger,
  createRuntime,
  createSimulatedWorker,
  type Envelope,
  InvalidOptionError,
  loadCommandConfig,
  WORK_KINDS,
  type Worker,
} from '../index.js';

export interface RunOptions {
  readonly configs: readonly string[];
  /** 0 = forever. */
  readonly iterations: number;
  readonly dbPath: string | false;
  readonly configFile?: string;
  readonly inspect?: 'stately';
  readonly seed?: number;
  readonly gamesPerBatch?: number;
}

export interface RunSummary {
  readonly iterations: number;
  readonly durationMs: number;
  readonly promotions: number;
  readonly rejections: number;
  readonly failures: number;
  readonly eventsByType: Readonly<Record<string, number>>;
  readonly interrupted: boolean;
}

const FAILURES = new Set([
  'TRAINING_FAILED',
  'EVALUATION_FAILED',
  'PROMOTION_FAILED',
  'DATA_SYNC_FAILED',
  'MODEL_DISTRIBUTION_FAILED',
  'TASK_FAILED',
  'EXPORT_VALIDATION_FAILED',
]);
const MILESTONES = new Set([
  'ITERATION_COMPLETE',
  'MODEL_PROMOTED',
  'PROMOTION_REJECTED',
  'ALL_CRITICAL_DAEMONS_READY',
  ...FAILURES,
]);

export async function runPipeline(
  options: RunOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<RunSummary> {
  if (options.configs.length === 0)
    throw new InvalidOptionError('--configs', 'at least one config key', '');
  const logger = createLogger({ name: 'run' });
  const worker = workerFor(options, logger);
  const games = options.gamesPerBatch ?? 100;
  const daemons = createPipelineDaemons({
    worker,
    trainingThreshold: games,
    masterLoop: { configs: options.configs, iterations: options.iterations, gamesPerBatch: games },
  });
  if (options.dbPath) mkdirSync(dirname(options.dbPath), { recursive: true });
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: options.dbPath,
    logger,
    inspect: options.inspect,
  });
  const counts: Record<string, number> = {};
  runtime.router.subscribe('*', (e: Envelope) => {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    if (MILESTONES.has(e.type))
      logger.info(
        { type: e.type, config_key: e.payload.config_key, correlation: e.correlationId },
        e.type,
      );
  });
  const started = performance.now();
  let interrupted = false;
  const finished = new Promise<void>((resolve) => {
    const onSignal = () => {
      interrupted = true;
      logger.info('interrupted; stopping the daemons');
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    runtime.router.subscribe('DAEMON_STATUS_CHANGED', (e) => {
      if (e.payload.daemon_name === 'MASTER_LOOP' && e.payload.new_status === 'stopped') resolve();
    });
  });
  await runtime.start();
  if (runtime.inspectorUrl) logger.info({ url: runtime.inspectorUrl }, 'Stately inspector');
  await finished;
  await runtime.stop();
  await worker.close();
  const summary: RunSummary = {
    iterations: counts.ITERATION_COMPLETE ?? 0,
    durationMs: performance.now() - started,
    promotions: counts.MODEL_PROMOTED ?? 0,
    rejections: counts.PROMOTION_REJECTED ?? 0,
    failures: [...FAILURES].reduce((n, t) => n + (counts[t] ?? 0), 0),
    eventsByType: counts,
    interrupted,
  };
  printSummary(summary, options, out);
  return summary;
}

function workerFor(options: RunOptions, logger: ReturnType<typeof createLogger>): Worker {
  const simulated = createSimulatedWorker({
    seed: options.seed ?? 1,
    durationsMs: {
      selfplay: 30,
      sync: 15,
      export: 15,
      training: 40,
      evaluation: 30,
      distribution: 15,
    },
  });
  if (!options.configFile) return simulated;
  const config = loadCommandConfig(options.configFile);
  const simulatedKinds = WORK_KINDS.filter((k) => !config[k]);
  if (simulatedKinds.length > 0) {
    logger.warn(
      { kinds: simulatedKinds },
      `no command configured for ${simulatedKinds.join(', ')}: those jobs are simulated`,
    );
  }
  return createCommandWorker(config, simulated);
}

function printSummary(summary: RunSummary, options: RunOptions, out: NodeJS.WritableStream): void {
  const line = (text: string) => out.write(`${text}\n`);
  line('');
  line(
    `Pipeline run ${summary.interrupted ? 'interrupted' : 'finished'} in ${(summary.durationMs / 1000).toFixed(2)} s`,
  );
  line(`  iterations: ${summary.iterations} (configs: ${options.configs.join(', ')})`);
  line(
    `  promotions: ${summary.promotions}  rejections: ${summary.rejections}  failures: ${summary.failures}`,
  );
  line('  events by type:');
  for (const [type, n] of Object.entries(summary.eventsByType).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  )) {
    line(`    ${type.padEnd(30)} ${n}`);
  }
}
