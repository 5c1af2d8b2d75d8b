/**
 * AUTO_SYNC as the guide's SyncRouter: which training hosts a sync goes to, from presence
 * (HOST_ONLINE / HOST_OFFLINE / NODE_RECOVERED) and the hosts training now (TRAINING_STARTED
 * until TRAINING_COMPLETED / TRAINING_FAILED). The fold is pure; the machine is run with a
 * worker that records the jobs it is given.
 */
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import type { JobFeedback } from '../../src/machines/job-daemon.js';
import {
  createAutoSyncMachine,
  foldSyncNotes,
  routeTargets,
  type SyncNotes,
} from '../../src/machines/sync/auto-sync.js';
import type { Job } from '../../src/workers/worker.js';
import { catalogEvent } from '../support/catalog-event.js';

const TRAINS = ['CONTINUOUS_TRAINING_LOOP'];
const empty: SyncNotes = { hosts: {}, away: {}, training: [] };
const fold = (notes: SyncNotes, ...events: [string, Record<string, unknown>][]) =>
  events.reduce((n, [type, payload]) => foldSyncNotes(n, type, payload), notes);

describe('SyncRouter notes', () => {
  const three = fold(
    empty,
    ['HOST_ONLINE', { host: 'self', daemons: TRAINS }],
    ['HOST_ONLINE', { host: 't1', daemons: TRAINS }],
    ['HOST_ONLINE', { host: 't2', daemons: TRAINS }],
    ['HOST_ONLINE', { host: 'gpu', daemons: ['SELFPLAY_COORDINATOR'] }],
  );

  it('routes to the training hosts present but itself, by name', () => {
    expect(routeTargets(three, 'self')).toEqual(['t1', 't2']);
  });

  it('puts the hosts training now first, until their training ends', () => {
    const busy = fold(three, ['TRAINING_STARTED', { config_key: 'c', host: 't2' }]);
    expect(routeTargets(busy, 'self')).toEqual(['t2', 't1']);
    expect(routeTargets(fold(busy, ['TRAINING_COMPLETED', { host: 't2' }]), 'self')).toEqual([
      't1',
      't2',
    ]);
    expect(routeTargets(fold(busy, ['TRAINING_FAILED', { host: 't2' }]), 'self')).toEqual([
      't1',
      't2',
    ]);
    // A TRAINING_STARTED without a host (the original's) changes nothing.
    expect(fold(three, ['TRAINING_STARTED', { config_key: 'c' }])).toBe(three);
  });

  it('stops routing to a host gone, and routes to it again once it recovered, as it ran', () => {
    const gone = fold(
      three,
      ['TRAINING_STARTED', { host: 't1' }],
      ['HOST_OFFLINE', { host: 't1' }],
    );
    expect(routeTargets(gone, 'self')).toEqual(['t2']);
    // Gone, it is not training any more either.
    expect(gone.training).toEqual([]);
    const back = fold(gone, ['NODE_RECOVERED', { node_id: 't1' }]);
    expect(routeTargets(back, 'self')).toEqual(['t1', 't2']);
    expect(back.away).toEqual({});
    // A host that recovers without having been seen gone is not guessed at.
    expect(fold(three, ['NODE_RECOVERED', { node_id: 'new' }])).toBe(three);
    // Its HOST_ONLINE after the recovery settles it the same way.
    expect(
      routeTargets(fold(back, ['HOST_ONLINE', { host: 't1', daemons: TRAINS }]), 'self'),
    ).toEqual(['t1', 't2']);
  });
});

/** A clustered AUTO_SYNC on host self that hears training hosts t1 and t2; the jobs it runs. */
const clusteredAutoSync = () => {
  const jobs: Job[] = [];
  const machine = createAutoSyncMachine('self', [], true).provide({
    actors: {
      runJob: fromCallback<JobFeedback, Job>(({ input, sendBack }) => {
        jobs.push(input);
        sendBack({
          type: 'job.done',
          result: { games_synced: 1, duration: 1, bytes_transferred: 1 },
        });
      }),
    },
  });
  const actor = createActor(machine).start();
  for (const host of ['t1', 't2'])
    actor.send(catalogEvent('HOST_ONLINE', { host, daemons: TRAINS }) as never);
  return { jobs, actor };
};

describe('AUTO_SYNC in a cluster', () => {
  it('sends a batch to the training host that is training first', () => {
    const { jobs, actor } = clusteredAutoSync();
    actor.send(catalogEvent('TRAINING_STARTED', { config_key: 'hex8_2p', host: 't2' }) as never);
    actor.send(
      catalogEvent('SELFPLAY_COMPLETE', { config_key: 'hex8_2p', games_played: 5 }) as never,
    );
    expect(jobs.map((j) => (j.input as { target_hosts: string[] }).target_hosts)).toEqual([
      ['t2', 't1'],
    ]);
    actor.stop();
  });
  it('syncs a requested retry from the host that holds the games, to the other training hosts', () => {
    const { jobs, actor } = clusteredAutoSync();
    const request = (extra: Record<string, unknown>) =>
      catalogEvent('SYNC_REQUEST', {
        config_key: 'hex8_2p',
        games: 5,
        reason: 'retry 1 of a failed sync',
        priority: 'high',
        ...extra,
      });
    actor.send(request({ source_host: 't1' }) as never);
    actor.send(request({}) as never);
    expect(
      jobs.map((j) => {
        const input = j.input as { source_host: string; target_hosts: string[] };
        return [input.source_host, input.target_hosts];
      }),
    ).toEqual([
      ['t1', ['t2']],
      ['self', ['t1', 't2']],
    ]);
    actor.stop();
  });
});
