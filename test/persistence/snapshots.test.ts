import { afterEach, describe, expect, it } from 'vitest';
import { inspectEventLog, SnapshotStore } from '../../src/index.js';
import { type LogFixture, logFixture } from '../support/log.js';
import { startFixture } from '../support/processes.js';

let f: LogFixture;
afterEach(() => f?.close());

describe('SnapshotStore', () => {
  it('coalesces many saves of an actor in one tick into one write, the last one winning', async () => {
    f = logFixture();
    const store = new SnapshotStore(f.log);
    for (let i = 0; i < 100; i++)
      store.saveSnapshot('rt-1', 'FEEDBACK_LOOP', 'v1', { value: 'running', i });
    store.saveSnapshot('rt-1', 'AUTO_SYNC', 'v1', { value: 'idle' });
    await store.flush();
    expect(store.writes).toBe(1);
    expect(store.loadSnapshot('rt-1', 'FEEDBACK_LOOP', 'v1')).toMatchObject({
      status: 'ok',
      snapshot: { value: 'running', i: 99 },
      machineVersion: 'v1',
    });
    expect(inspectEventLog(f.tmp.path).snapshots.map((s) => s.actorId)).toEqual([
      'AUTO_SYNC',
      'FEEDBACK_LOOP',
    ]);
  });

  it('returns a snapshot of another machine version as a mismatch, and nothing for an unknown actor', async () => {
    f = logFixture();
    const store = new SnapshotStore(f.log);
    store.saveSnapshot('rt-1', 'EVALUATION', '3', { value: 'working' });
    await store.flush();
    expect(store.loadSnapshot('rt-1', 'EVALUATION', '4')).toMatchObject({
      status: 'version-mismatch',
      machineVersion: '3',
      expectedVersion: '4',
      snapshot: { value: 'working' },
    });
    expect(store.loadSnapshot('rt-1', 'NOPE', '4')).toBeUndefined();
  });

  it('round-trips a snapshot saved by another process', async () => {
    f = logFixture();
    const writer = startFixture('snapshot-writer-process', [f.tmp.path]);
    await writer.waitFor(/^SAVED$/);
    expect(await writer.exited).toBe(0);
    const store = new SnapshotStore(f.log);
    expect(store.loadSnapshot('rt-child', 'TRAINING_TRIGGER', '2')).toMatchObject({
      status: 'ok',
      snapshot: {
        status: 'active',
        value: { collecting: {} },
        context: { games: { hex8_2p: 4200 } },
      },
    });
  });
});
