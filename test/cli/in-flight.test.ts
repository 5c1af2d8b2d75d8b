/**
 * The run summary's work in flight at the stop: begun, not ended, one entry per stage of a chain
 * on a host, whatever order the events come in.
 */
import { describe, expect, it } from 'vitest';
import { InFlightWork } from '../../src/cli/in-flight.js';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { catalogEvent } from '../support/catalog-event.js';

/** An envelope of `chain` (none: null) from `host`. */
function ev<T extends EventName>(
  type: T,
  payload: PayloadInput<T>,
  chain: string | null,
  host = 'a',
) {
  return catalogEvent(type, payload, chain === null ? { host } : { chain, host }).envelope;
}

const training = (chain: string, end?: 'TRAINING_COMPLETED' | 'TRAINING_FAILED') =>
  end === 'TRAINING_FAILED'
    ? ev('TRAINING_FAILED', { config_key: 'hex8_2p', error: 'boom' }, chain)
    : end
      ? ev('TRAINING_COMPLETED', { config_key: 'hex8_2p', success: true, duration: 1 }, chain)
      : ev('TRAINING_STARTED', { config_key: 'hex8_2p' }, chain);

describe('the work in flight at the stop', () => {
  it('is empty when every stage that began ended, a resumed training included', () => {
    const w = new InFlightWork();
    w.observe(training('iteration-1:hex8_2p'));
    // Restarted mid-training: the same chain's training begins again, and ends once.
    w.observe(training('iteration-1:hex8_2p'));
    w.observe(training('iteration-1:hex8_2p', 'TRAINING_COMPLETED'));
    w.observe(training('iteration-2:hex8_2p'));
    w.observe(training('iteration-2:hex8_2p', 'TRAINING_FAILED'));
    expect(w.list()).toEqual([]);
  });

  it("names a chain's stage still running beside another chain of the same config that ended", () => {
    const w = new InFlightWork();
    w.observe(training('iteration-2:hex8_2p'));
    w.observe(training('idle-batch-7'));
    w.observe(training('iteration-2:hex8_2p', 'TRAINING_COMPLETED'));
    w.observe(
      ev(
        'EVALUATION_STARTED',
        { config_key: 'square8_2p', model_id: 'm' },
        'iteration-2:square8_2p',
      ),
    );
    expect(w.list()).toEqual([
      { stage: 'training', config: 'hex8_2p', host: 'a' },
      { stage: 'evaluation', config: 'square8_2p', host: 'a' },
    ]);
  });

  it('keeps the hosts of one chain apart, and an end that names no host ends its chain', () => {
    const w = new InFlightWork();
    w.observe(ev('DATA_SYNC_STARTED', { host: 'b' }, 'sync-1'));
    w.observe(ev('DATA_SYNC_STARTED', { host: 'c' }, 'sync-1'));
    w.observe(ev('DATA_SYNC_COMPLETED', { host: 'b', games_synced: 1, duration: 1 }, 'sync-1'));
    expect(w.list()).toEqual([{ stage: 'sync', config: null, host: 'c' }]);
    w.observe(
      ev(
        'MODEL_DISTRIBUTION_STARTED',
        { total_models: 1, target_hosts: 1 },
        'iteration-1:hex8_2p',
        'a',
      ),
    );
    w.observe(
      ev(
        'MODEL_DISTRIBUTION_COMPLETE',
        {
          models_collected: 1,
          models_distributed: 1,
          target_hosts: 1,
          duration: 1,
          config_key: 'hex8_2p',
        },
        'iteration-1:hex8_2p',
        'z',
      ),
    );
    expect(w.list()).toEqual([{ stage: 'sync', config: null, host: 'c' }]);
  });

  it('pairs the begin and end of work outside any chain (a catch-up sync) by stage and host', () => {
    const w = new InFlightWork();
    const done = { games_synced: 1, duration: 1 };
    w.observe(ev('DATA_SYNC_STARTED', { host: 'sim-gpu-1', sync_type: 'catch_up' }, null));
    w.observe(ev('DATA_SYNC_COMPLETED', { host: 'sim-gpu-1', ...done }, null));
    expect(w.list()).toEqual([]);
    // The run's last catch-up sync, begun as the iterations ended.
    w.observe(ev('DATA_SYNC_STARTED', { host: 'localhost', sync_type: 'catch_up' }, null));
    expect(w.list()).toEqual([{ stage: 'sync', config: null, host: 'localhost' }]);
  });

  it('waits for the work open when asked until it ends, not for work begun meanwhile, and at most the bound', async () => {
    const w = new InFlightWork();
    w.observe(training('iteration-2:hex8_2p'));
    const t0 = performance.now();
    const ended = w.ended(5_000);
    setTimeout(() => {
      // Begun after the wait began (an idle-GPU batch): not waited for.
      w.observe(training('idle-batch-1'));
      w.observe(training('iteration-2:hex8_2p', 'TRAINING_COMPLETED'));
    }, 100);
    expect(await ended).toBe(true);
    expect(performance.now() - t0).toBeLessThan(4_000);
    expect(w.list()).toEqual([{ stage: 'training', config: 'hex8_2p', host: 'a' }]);
    // Work that does not end within the bound: the wait gives up, and the work stays named.
    const t1 = performance.now();
    expect(await w.ended(300)).toBe(false);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(290);
    expect(w.list()).toHaveLength(1);
    // Nothing open: nothing to wait for.
    w.observe(training('idle-batch-1', 'TRAINING_FAILED'));
    expect(await w.ended(5_000)).toBe(true);
  });
});
