/**
 * The leader's work tracker on its own (no NATS): whom a job goes to, what happens when that host
 * goes away, and which answers are the job's.
 */
import { describe, expect, it } from 'vitest';
import type { PresentHost } from '../../src/cluster/presence.js';
import { WorkTracker } from '../../src/cluster/work.js';
import type { Envelope } from '../../src/events/envelope.js';
import { memoryLogger } from '../support/memory-logger.js';

const host = (name: string, daemons: string[], free = 1): PresentHost => ({
  record: {
    host: name,
    runtime_id: `rt-${name}`,
    incarnation: `i-${name}`,
    file_id: `f-${name}`,
    profile: 'training_node',
    daemons,
    gpus: 1,
    free_slots: free,
    started_at: 0,
    outbox: 0,
  },
  refreshedAt: Date.now(),
});
const envelope = (type: string, payload: Record<string, unknown>, from: string, id: string) =>
  ({
    id,
    type,
    payload,
    source: 'test',
    timestamp: 0,
    origin: { host: from, pid: 1, runtimeId: `rt-${from}` },
    traceId: id,
    correlationId: null,
    parentId: null,
  }) as unknown as Envelope;

function tracker(hosts: PresentHost[], token: () => number | null = () => 7) {
  const published: Record<string, unknown>[] = [];
  const t = new WorkTracker(
    () => hosts,
    (_type, payload) => void published.push(payload),
    token,
    memoryLogger('silent').logger,
  );
  return { t, published };
}

const TRAIN = ['CONTINUOUS_TRAINING_LOOP'];
const request = (id: string) =>
  envelope('TRAINING_THRESHOLD_REACHED', { config_key: 'hex8_2p', games: 10 }, 'a', id);

describe('WorkTracker', () => {
  it('assigns a request to a host that runs the work, the least loaded first, with job id and token', () => {
    const { t, published } = tracker([
      host('c', TRAIN),
      host('b', TRAIN),
      host('x', ['EVALUATION']),
    ]);
    t.request(request('r1'));
    t.request(request('r2'));
    expect(published.map((p) => p.target_host)).toEqual(['b', 'c']);
    expect(published[0]).toMatchObject({ job_id: 'r1', leader_token: 7, config_key: 'hex8_2p' });
    // Already assigned requests (target_host set) are not assigned again.
    t.request(envelope('TRAINING_THRESHOLD_REACHED', { ...published[0] }, 'a', 'r1-assigned'));
    expect(published).toHaveLength(2);
  });

  it('reassigns the jobs of a host that went offline, same job id, and screens a late answer from it', () => {
    const hosts = [host('b', TRAIN), host('c', TRAIN)];
    const { t, published } = tracker(hosts);
    t.request(request('r1'));
    expect(published[0]?.target_host).toBe('b');
    hosts.shift(); // b is gone from presence
    t.hostOffline('b');
    expect(published[1]).toMatchObject({ target_host: 'c', job_id: 'r1' });
    expect(t.stats()).toMatchObject({ assigned: 2, reassigned: 1, outstanding: 1 });
    const late = envelope('TRAINING_COMPLETED', { config_key: 'hex8_2p', job_id: 'r1' }, 'b', 'x1');
    expect(t.screenAnswer(late)).toBe('late answer from a former target');
    const answer = envelope(
      'TRAINING_COMPLETED',
      { config_key: 'hex8_2p', job_id: 'r1' },
      'c',
      'x2',
    );
    expect(t.screenAnswer(answer)).toBeNull();
    expect(t.stats()).toMatchObject({ outstanding: 0, lateAnswers: 1 });
    // After its final answer the job is done: another answer for it is not this leader's.
    expect(t.screenAnswer(answer)).toBe('answer to a job this host did not assign');
  });

  it('holds a job while no host can take it or while not leading, and assigns it when one comes', () => {
    const hosts: PresentHost[] = [];
    let token: number | null = null;
    const { t, published } = tracker(hosts, () => token);
    t.request(request('r1'));
    token = 3;
    t.hostOnline(); // leading now, but nobody trains
    expect(published).toEqual([]);
    expect(t.stats().waiting).toBe(1);
    hosts.push(host('b', TRAIN));
    t.hostOnline();
    expect(published[0]).toMatchObject({ target_host: 'b', job_id: 'r1', leader_token: 3 });
  });

  it('lets answers of same-host work (no job id) through and drops answers to unknown jobs', () => {
    const { t } = tracker([host('b', TRAIN)]);
    expect(
      t.screenAnswer(envelope('TRAINING_COMPLETED', { config_key: 'hex8_2p' }, 'b', 'y')),
    ).toBeNull();
    expect(
      t.screenAnswer(
        envelope('TRAINING_STARTED', { config_key: 'hex8_2p', job_id: 'nope' }, 'b', 'z'),
      ),
    ).toBe('answer to a job this host did not assign');
    expect(t.screenAnswer(envelope('MODEL_PROMOTED', { job_id: 'nope' }, 'b', 'w'))).toBeNull();
  });
});
