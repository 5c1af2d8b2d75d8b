/**
 * Wire compatibility with the original service's events.db, against a real Python process that
 * uses the original's statements (test/fixtures/original_queue.py).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type Envelope, openEventLog, type Router } from '../../src/index.js';
import { until } from '../support/log.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

const run = promisify(execFile);
const python = (...args: string[]) =>
  run('python3', [new URL('../fixtures/original_queue.py', import.meta.url).pathname, ...args]);

let tmp: TempDb;
let router: Router;
afterEach(async () => {
  await router?.close();
  tmp?.cleanup();
});

describe("the original's events.db", () => {
  it('delivers rows a Python process inserted with its own column list, normalised', async () => {
    tmp = tempDb();
    router = createRouter({
      logger: pino({ level: 'silent' }),
      eventLog: openEventLog({ path: tmp.path }),
    });
    const got: Envelope[] = [];
    router.subscribe('TRAINING_COMPLETED', (e) => void got.push(e));
    router.subscribe('MODEL_PROMOTED', (e) => void got.push(e));
    await python(
      tmp.path,
      'publish',
      'training_completed',
      JSON.stringify({
        config: 'hex8_2p',
        success: true,
        duration: 812.5,
        model_path: 'models/hex8_2p.pth',
      }),
    );
    await python(
      tmp.path,
      'publish',
      'MODEL_PROMOTED',
      JSON.stringify({ model_id: 'm7', config: 'sq8_2p', elo: 1612.5, elo_gain: 20 }),
    );
    await until(() => got.length === 2);
    expect(got[0]).toMatchObject({
      type: 'TRAINING_COMPLETED',
      source: 'python_original',
      payload: {
        config_key: 'hex8_2p',
        success: true,
        duration: 812.5,
        model_path: 'models/hex8_2p.pth',
      },
    });
    expect(got[0]?.id).toMatch(/^row-\d+$/);
    expect(got[1]).toMatchObject({
      type: 'MODEL_PROMOTED',
      payload: { config_key: 'sq8_2p', elo: 1612.5 },
    });
  });

  it("makes events published here visible to the original's poll query and acks table", async () => {
    tmp = tempDb();
    router = createRouter({
      name: 'ts',
      logger: pino({ level: 'silent' }),
      eventLog: openEventLog({ path: tmp.path }),
    });
    router.publish('MODEL_PROMOTED', {
      model_id: 'm8',
      config_key: 'hex8_2p',
      elo: 1650,
      elo_gain: 38,
    });
    router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
    await router.flush();
    const { stdout } = await python(tmp.path, 'poll', 'gpu-1:stable:promoter', 'MODEL_PROMOTED');
    const rows = JSON.parse(stdout) as {
      event_type: string;
      payload: Record<string, unknown>;
      source: string;
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      event_type: 'MODEL_PROMOTED',
      source: 'ts',
      payload: { model_id: 'm8', config_key: 'hex8_2p', config: 'hex8_2p', elo: 1650 },
    });
    // Acknowledged: the original's next poll returns nothing.
    const again = await python(tmp.path, 'poll', 'gpu-1:stable:promoter', 'MODEL_PROMOTED');
    expect(JSON.parse(again.stdout)).toEqual([]);
  });
});
