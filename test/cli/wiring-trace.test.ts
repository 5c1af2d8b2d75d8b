/**
 * `wiring check --trace`: the guide's rows proven from a run. A short run (6 iterations) proves
 * the rows of the flows every iteration takes; each row the run did not exercise is NOT PROVEN,
 * naming the cells that emitted or received none.
 */
import { expect, it } from 'vitest';
import { traceGuide } from '../../src/cli/wiring-trace.js';
import { GUIDE_ROWS } from '../../src/events/guide-tables.js';

it('proves each row the run exercised, from who emitted and who received each event', async () => {
  const lines: string[] = [];
  const unproven = await traceGuide((l) => lines.push(l), { iterations: 6 });
  const rows = lines.filter((l) => / (proven|NOT PROVEN): /.test(l));
  expect(rows).toHaveLength(GUIDE_ROWS.length);
  const row = (event: string) => rows.find((l) => l.trim().startsWith(`${event} `)) ?? '';
  // Every iteration: selfplay -> sync -> export -> training -> gauntlet -> promotion.
  expect(row('TRAINING_COMPLETED')).toMatch(
    /proven: by CONTINUOUS_TRAINING_LOOP \d+, to FEEDBACK_LOOP \d+, to DATA_PIPELINE \d+$/,
  );
  expect(row('ALL_CRITICAL_DAEMONS_READY')).toBe(
    '  ALL_CRITICAL_DAEMONS_READY proven: by supervisor 1, to MASTER_LOOP 1',
  );
  // The host's own presence, without NATS.
  expect(row('HOST_ONLINE')).toMatch(/proven: by cluster member \d+, to AUTO_SYNC \d+$/);
  const notProven = rows.filter((l) => l.includes('NOT PROVEN'));
  expect(unproven).toBe(notProven.length);
  for (const l of notProven) expect(l).toMatch(/ - .+ (emitted|received) none/);
  expect(lines.at(-1)).toBe(
    `trace: ${GUIDE_ROWS.length - unproven} of ${GUIDE_ROWS.length} rows proven by the run (cells deliberately not followed or not built are left out)`,
  );
}, 60_000);
