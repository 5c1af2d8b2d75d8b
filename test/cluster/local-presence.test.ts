/**
 * Presence without NATS (`LocalPresence`): the host is the cluster and leads it; seeded simulated
 * hosts come and go after each iteration, the same way for the same seed.
 */
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../src/actors/router.js';
import { LocalPresence, type LocalPresenceOptions } from '../../src/cluster/local-presence.js';
import { memoryLogger } from '../support/memory-logger.js';

function presenceOf(options: LocalPresenceOptions, iterations: number) {
  const router = createRouter({ name: 'test' });
  const said: { type: string; payload: Record<string, unknown> }[] = [];
  // In the order published (subscribers of different types are served concurrently).
  const publish = router.publish.bind(router);
  router.publish = ((type: string, payload: Record<string, unknown>, options: never) => {
    if (type !== 'ITERATION_COMPLETE') said.push({ type, payload });
    return publish(type, payload, options);
  }) as typeof router.publish;
  const presence = new LocalPresence(
    router,
    { host: 'h', runtimeId: 'r1', profile: 'standalone', daemons: ['MASTER_LOOP'] },
    options,
    memoryLogger().logger,
  );
  presence.activate();
  for (let i = 0; i < iterations; i++)
    router.publish('ITERATION_COMPLETE', { iteration: i + 1 }, { source: 'test' });
  presence.stop();
  return { router, said };
}

describe('local presence', () => {
  it('without simulated hosts: this host online and leading, nothing more', async () => {
    const { router, said } = presenceOf({}, 5);
    await router.whenIdle();
    expect(said).toEqual([
      {
        type: 'HOST_ONLINE',
        payload: expect.objectContaining({
          host: 'h',
          incarnation: 'r1',
          daemons: ['MASTER_LOOP'],
        }),
      },
      { type: 'LEADER_ELECTED', payload: expect.objectContaining({ leader_id: 'h', term: 1 }) },
    ]);
    await router.close();
  });

  it('simulated hosts join, drop out and come back with a new incarnation; the lease lapses into new terms; the same seed, the same story', async () => {
    const options = { simulatedHosts: 2, seed: 7, dropRate: 0.3, leaseLapseRate: 0.2 };
    const story = async () => {
      const { router, said } = presenceOf(options, 40);
      await router.whenIdle();
      await router.close();
      return said;
    };
    const said = await story();
    expect(said.slice(0, 4).map((e) => [e.type, e.payload.host ?? e.payload.leader_id])).toEqual([
      ['HOST_ONLINE', 'h'],
      ['LEADER_ELECTED', 'h'],
      ['HOST_ONLINE', 'sim-gpu-1'],
      ['HOST_ONLINE', 'sim-gpu-2'],
    ]);
    const types = said.map((e) => e.type);
    expect(types).toContain('HOST_OFFLINE');
    expect(types).toContain('NODE_RECOVERED');
    // Every return is a NODE_RECOVERED with the next incarnation, then its HOST_ONLINE.
    said.forEach((e, i) => {
      if (e.type !== 'NODE_RECOVERED') return;
      expect(said[i + 1]).toMatchObject({
        type: 'HOST_ONLINE',
        payload: { host: e.payload.node_id, incarnation: e.payload.incarnation },
      });
      expect(e.payload.incarnation).not.toBe(e.payload.previous_incarnation);
    });
    // A host goes offline only while online, and comes back only while offline.
    const online = new Map<string, boolean>();
    for (const e of said) {
      const host = String(e.payload.host ?? e.payload.node_id);
      if (e.type === 'HOST_OFFLINE') expect(online.get(host), host).toBe(true);
      if (e.type === 'NODE_RECOVERED') expect(online.get(host), host).toBe(false);
      if (e.type === 'HOST_ONLINE') online.set(host, true);
      if (e.type === 'HOST_OFFLINE') online.set(host, false);
    }
    const terms = said.filter((e) => e.type === 'LEADER_ELECTED').map((e) => e.payload.term);
    expect(terms.length).toBeGreaterThan(1);
    expect(terms).toEqual(terms.map((_, i) => i + 1));
    expect(await story()).toEqual(said);
  });
});
