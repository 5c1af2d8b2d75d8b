/** `status` shows a runtime's recent alerts, read from ALERT_MANAGER's snapshot in the file. */
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { printStatus } from '../../src/cli/inspect-commands.js';
import { createRuntime, createSimulatedWorker } from '../../src/index.js';
import { createPipelineDaemons } from '../../src/pipeline/pipeline-daemons.js';
import { until } from '../support/log.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

it("status lists a runtime's most recent alerts with their severity", async () => {
  tmp = tempDb();
  const daemons = createPipelineDaemons({ worker: createSimulatedWorker() }).filter((d) =>
    ['EVENT_ROUTER', 'ALERT_MANAGER'].includes(d.type),
  );
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: tmp.path,
    logger: pino({ level: 'silent' }),
    isolatedRouter: true,
  });
  await runtime.start();
  await runtime.whenReady();
  runtime.router.publish(
    'QUALITY_DEGRADED',
    { config_key: 'hex8_2p', quality_score: 0.41, threshold: 0.6 },
    { source: 'test' },
  );
  await until(() => runtime.alerts().length === 1);
  await runtime.stop();
  const lines: string[] = [];
  printStatus(tmp.path, (l) => lines.push(l));
  const at = lines.findIndex((l) => l.startsWith('    alerts ('));
  expect(lines[at]).toBe('    alerts (1 most recent of 1):');
  expect(lines[at + 1]).toMatch(
    /^ {6}\d\d:\d\d:\d\d warning {2}selfplay data quality of hex8_2p fell to 0\.41 \(threshold 0\.6\)$/,
  );
});
