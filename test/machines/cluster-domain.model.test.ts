/**
 * Model-based tests of the Cluster table's daemons: CLUSTER_HEALTH (the guide's
 * UnifiedHealthManager), LEADERSHIP_COORDINATOR and IDLE_RESOURCE. As for every machine: an abstract model
 * predicts, after each event, what the daemon says or keeps; every path of it, extended by every
 * event, runs on the real machine, which must take all of its states and transitions.
 */
import { expect, it } from 'vitest';
import { assign, createActor, SimulatedClock, setup } from 'xstate';
import type { EventName, PayloadInput } from '../../src/events/catalog/index.js';
import { clusterHealthMachine } from '../../src/machines/cluster/cluster-health.js';
import { idleResourceMachine } from '../../src/machines/cluster/idle-resource.js';
import { leadershipCoordinatorMachine } from '../../src/machines/cluster/leadership-coordinator.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));
const event = <T extends EventName>(type: T, payload: PayloadInput<T>) =>
  catalogEvent(type, payload);

// ---- CLUSTER_HEALTH: hosts a and b come and go (b may come back as NODE_RECOVERED); c joins. ----
type Presence = 'unseen' | 'on' | 'off';
type HealthCtx = {
  hosts: Readonly<Record<'a' | 'b' | 'c', Presence>>;
  unhealthy: boolean;
  out: readonly string[];
};
const unhealthyOf = (hosts: HealthCtx['hosts']) => {
  const seen = Object.values(hosts).filter((p) => p !== 'unseen');
  return seen.length >= 2 && 2 * seen.filter((p) => p === 'off').length >= seen.length;
};
const setHost =
  (host: 'a' | 'b' | 'c', to: 'on' | 'off') =>
  ({ context }: { context: HealthCtx }): HealthCtx => {
    const hosts = { ...context.hosts, [host]: to };
    const unhealthy = unhealthyOf(hosts);
    const out =
      unhealthy === context.unhealthy
        ? []
        : unhealthy
          ? ['P2P_CLUSTER_UNHEALTHY', 'HEALTH_ALERT']
          : ['P2P_CLUSTER_HEALTHY'];
    return { hosts, unhealthy, out };
  };
const healthModel = setup({
  types: { context: {} as HealthCtx, events: {} as Step },
}).createMachine({
  context: { hosts: { a: 'unseen', b: 'unseen', c: 'unseen' }, unhealthy: false, out: [] },
  on: {
    A_ON: { actions: assign(setHost('a', 'on')) },
    A_OFF: { actions: assign(setHost('a', 'off')) },
    B_ON: { actions: assign(setHost('b', 'on')) },
    B_OFF: { actions: assign(setHost('b', 'off')) },
    B_RECOVERED: { actions: assign(setHost('b', 'on')) },
    C_ON: { actions: assign(setHost('c', 'on')) },
  },
});
const HEALTH_EVENTS: Record<string, () => unknown> = {
  A_ON: () => event('HOST_ONLINE', { host: 'a' }),
  A_OFF: () => event('HOST_OFFLINE', { host: 'a' }),
  B_ON: () => event('HOST_ONLINE', { host: 'b' }),
  B_OFF: () => event('HOST_OFFLINE', { host: 'b' }),
  B_RECOVERED: () => event('NODE_RECOVERED', { node_id: 'b' }),
  C_ON: () => event('HOST_ONLINE', { host: 'c' }),
};
describeModelBased(
  'CLUSTER_HEALTH',
  {
    model: healthModel,
    events: steps(Object.keys(HEALTH_EVENTS)),
    machine: clusterHealthMachine,
    apply: (e, { actor }) => actor.send(HEALTH_EVENTS[e.type]?.() as never),
    observe: ({ actor, takeEmitted }) => ({
      unhealthy: actor.getSnapshot().value === 'unhealthy',
      out: takeEmitted().map((e) => e.type),
    }),
    predict: (m) => ({ unhealthy: m.context.unhealthy, out: m.context.out }),
  },
  100,
  () => {
    it('names the hosts gone and the counts; the alert is critical', () => {
      const out: Emitted[] = [];
      const actor = createActor(clusterHealthMachine);
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      for (const h of ['a', 'b', 'c', 'd']) actor.send(event('HOST_ONLINE', { host: h }) as never);
      actor.send(event('HOST_OFFLINE', { host: 'd' }) as never);
      expect(out).toEqual([]);
      actor.send(event('HOST_OFFLINE', { host: 'b' }) as never);
      expect(out.map((e) => [e.type, e.payload])).toEqual([
        [
          'P2P_CLUSTER_UNHEALTHY',
          { healthy_nodes: 2, node_count: 4, alerts: ['b', 'd'], healthy: false },
        ],
        [
          'HEALTH_ALERT',
          { component: 'cluster', severity: 'critical', message: '2 of 4 hosts offline: b, d' },
        ],
      ]);
      out.length = 0;
      actor.send(event('NODE_RECOVERED', { node_id: 'd' }) as never);
      expect(out.map((e) => [e.type, e.payload])).toEqual([
        ['P2P_CLUSTER_HEALTHY', { healthy_nodes: 3, node_count: 4, healthy: true }],
      ]);
    });
  },
);

// ---- LEADERSHIP_COORDINATOR: terms 1..3 won by a or b, stale and repeated reports, a's presence. ----
type LeadCtx = {
  leader: string | null;
  term: number;
  changes: number;
  stale: boolean;
  a: 'unknown' | 'online' | 'offline';
};
const elect =
  (leader: string) =>
  ({ context }: { context: LeadCtx }): Partial<LeadCtx> =>
    context.term >= 3 ? {} : { leader, term: context.term + 1, changes: context.changes + 1 };
const leadModel = setup({
  types: { context: {} as LeadCtx, events: {} as Step },
}).createMachine({
  context: { leader: null, term: 0, changes: 0, stale: false, a: 'unknown' },
  on: {
    A_WINS: { actions: assign(elect('a')) },
    B_WINS: { actions: assign(elect('b')) },
    // The lease before the one held: changes nothing but the count of stale reports.
    STALE: { actions: assign(({ context }) => (context.term >= 1 ? { stale: true } : {})) },
    // The leader held, reported again.
    AGAIN: {},
    A_ONLINE: { actions: assign({ a: 'online' }) },
    A_OFFLINE: { actions: assign({ a: 'offline' }) },
  },
});
let held = { leader: null as string | null, term: 0 };
const LEAD_EVENTS: Record<string, () => unknown> = {
  A_WINS: () =>
    held.term >= 3 ? null : event('LEADER_ELECTED', { leader_id: 'a', term: held.term + 1 }),
  B_WINS: () =>
    held.term >= 3 ? null : event('LEADER_ELECTED', { leader_id: 'b', term: held.term + 1 }),
  STALE: () =>
    held.term >= 1 ? event('LEADER_ELECTED', { leader_id: 'z', term: held.term - 1 }) : null,
  AGAIN: () =>
    held.leader === null
      ? null
      : event('LEADER_ELECTED', { leader_id: held.leader, term: held.term }),
  A_ONLINE: () => event('HOST_ONLINE', { host: 'a' }),
  A_OFFLINE: () => event('HOST_OFFLINE', { host: 'a' }),
};
describeModelBased(
  'LEADERSHIP_COORDINATOR',
  {
    model: leadModel,
    events: steps(Object.keys(LEAD_EVENTS)),
    machine: leadershipCoordinatorMachine,
    reset: () => {
      held = { leader: null, term: 0 };
    },
    apply: (e, { actor }) => {
      const sent = LEAD_EVENTS[e.type]?.();
      if (sent) actor.send(sent as never);
      const c = actor.getSnapshot().context;
      held = { leader: c.leader, term: c.term };
    },
    observe: ({ actor }) => {
      const c = actor.getSnapshot().context;
      return {
        leader: c.leader,
        term: c.term,
        changes: c.history.length,
        stale: c.stale > 0,
        a: c.members.a ?? 'unknown',
      };
    },
    predict: (m) => ({
      leader: m.context.leader,
      term: m.context.term,
      changes: m.context.changes,
      stale: m.context.stale,
      a: m.context.a,
    }),
  },
  100,
  () => {
    it('keeps the last 20 changes, oldest first, with their times', () => {
      const actor = createActor(leadershipCoordinatorMachine).start();
      for (let term = 1; term <= 25; term++)
        actor.send(event('LEADER_ELECTED', { leader_id: `h${term % 2}`, term }) as never);
      const { history, leader, term } = actor.getSnapshot().context;
      expect([leader, term, history.length]).toEqual(['h1', 25, 20]);
      expect(history[0]).toMatchObject({ leader: 'h0', term: 6 });
      expect(typeof history[0]?.at).toBe('number');
    });
    it('takes a report without a term as it comes', () => {
      const actor = createActor(leadershipCoordinatorMachine).start();
      actor.send(event('LEADER_ELECTED', { leader_id: 'a', term: 4 }) as never);
      actor.send(event('LEADER_ELECTED', { leader_id: 'b' }) as never);
      expect(actor.getSnapshot().context).toMatchObject({ leader: 'b', term: 4 });
    });
  },
);

// ---- IDLE_RESOURCE: host h's training (at most 2 open), another host's, time passing. ----
const IDLE_S = 120;
type IdleCtx = { open: number; idleFor: number; reported: boolean; armed: boolean; out: number };
const idleModel = setup({
  types: { context: {} as IdleCtx, events: {} as Step },
  guards: {
    room: ({ context }) => context.open < 2,
    open: ({ context }) => context.open > 0,
  },
}).createMachine({
  // At start the host is idle and the wait armed.
  context: { open: 0, idleFor: 0, reported: false, armed: true, out: 0 },
  on: {
    BEGIN: [
      { guard: 'room', actions: assign(({ context }) => ({ open: context.open + 1, out: 0 })) },
      { actions: assign({ out: 0 }) },
    ],
    END: [
      {
        guard: 'open',
        actions: assign(({ context }) =>
          context.open === 1
            ? { open: 0, idleFor: 0, reported: false, armed: true, out: 0 }
            : { open: context.open - 1, out: 0 },
        ),
      },
      { actions: assign({ out: 0 }) },
    ],
    // Another host's training says nothing about this host's GPU.
    OTHER_HOST: { actions: assign({ out: 0 }) },
    WAIT: {
      actions: assign(({ context }) => {
        const fires = context.armed && context.open === 0 && !context.reported;
        return fires
          ? { reported: true, armed: false, out: 1 }
          : { armed: context.armed && context.open === 0 ? context.armed : false, out: 0 };
      }),
    },
    // The replayed actor keeps its delayed check across daemon.restored (a real restore, which
    // loses it, is tested below): nothing changes.
    RESTORED: { actions: assign({ out: 0 }) },
  },
});
// Every kind of GPU work begins and ends in turn across the replays (the counts are not reset).
const BEGIN_EVENTS = [
  () => event('SELFPLAY_TARGET_UPDATED', { config_key: 'c', target_games: 5, reason: 'r' }),
  () => event('TRAINING_STARTED', { config_key: 'c', host: 'h' }),
  () => event('EVALUATION_STARTED', { config_key: 'c', model_id: 'm' }),
];
const END_EVENTS = [
  () => event('SELFPLAY_COMPLETE', { config_key: 'c', games_played: 5 }),
  () => event('TASK_FAILED', { task_id: 't', task_type: 'selfplay', node_id: 'h', error: 'e' }),
  () => event('TRAINING_COMPLETED', { config_key: 'c', success: true, duration: 1, host: 'h' }),
  () => event('TRAINING_FAILED', { config_key: 'c', error: 'e', host: 'h' }),
  () => event('EVALUATION_COMPLETED', { config_key: 'c', elo: 1, games_played: 1, win_rate: 0.5 }),
  () => event('EVALUATION_FAILED', { config_key: 'c', model_id: 'm', error: 'e' }),
];
let begun = 0;
let ended = 0;
describeModelBased(
  'IDLE_RESOURCE',
  {
    model: idleModel,
    events: steps(['BEGIN', 'END', 'OTHER_HOST', 'WAIT', 'RESTORED']),
    machine: idleResourceMachine,
    input: { host: 'h', idleSeconds: IDLE_S },
    apply: (e, { actor, clock }) => {
      const { open } = actor.getSnapshot().context;
      if (e.type === 'BEGIN' && open < 2)
        actor.send(BEGIN_EVENTS[begun++ % BEGIN_EVENTS.length]?.() as never);
      if (e.type === 'END' && open > 0)
        actor.send(END_EVENTS[ended++ % END_EVENTS.length]?.() as never);
      if (e.type === 'OTHER_HOST')
        actor.send(event('TRAINING_STARTED', { config_key: 'c', host: 'x' }) as never);
      if (e.type === 'WAIT') clock.increment(IDLE_S * 1000);
      if (e.type === 'RESTORED') actor.send({ type: 'daemon.restored' } as never);
    },
    observe: ({ takeEmitted }) =>
      takeEmitted().filter((e) => e.type === 'IDLE_RESOURCE_DETECTED').length,
    predict: (m) => m.context.out,
  },
  30,
  () => {
    it('a host restored idle, not yet reported, waits the whole delay again (a snapshot keeps no delayed event)', () => {
      const clock = new SimulatedClock();
      const first = createActor(idleResourceMachine, {
        clock,
        input: { host: 'h', idleSeconds: 5 },
      });
      first.start();
      clock.increment(3_000);
      const snapshot = first.getPersistedSnapshot();
      first.stop();
      const out: Emitted[] = [];
      const later = new SimulatedClock();
      const restored = createActor(idleResourceMachine, {
        clock: later,
        snapshot,
        input: { host: 'h', idleSeconds: 5 },
      });
      restored.on('*', (e) => void out.push(e as Emitted));
      restored.start();
      restored.send({ type: 'daemon.restored' });
      later.increment(4_999);
      expect(out).toEqual([]);
      later.increment(1);
      expect(out.map((e) => e.type)).toEqual(['IDLE_RESOURCE_DETECTED']);
    });
    it('keeps at most one check pending, however many jobs a busy host runs', () => {
      // A clock that counts the timers scheduled and not yet fired or cleared.
      const simulated = new SimulatedClock();
      const pending = new Set<unknown>();
      const clock = {
        setTimeout: (fn: (...args: unknown[]) => void, ms: number) => {
          const id: unknown = simulated.setTimeout(() => {
            pending.delete(id);
            fn();
          }, ms);
          pending.add(id);
          return id;
        },
        clearTimeout: (id: unknown) => {
          pending.delete(id);
          simulated.clearTimeout(id as never);
        },
      };
      const actor = createActor(idleResourceMachine, {
        clock: clock as never,
        input: { host: 'h', idleSeconds: 120 },
      }).start();
      for (let i = 0; i < 200; i++) {
        actor.send(BEGIN_EVENTS[1]?.() as never);
        actor.send(END_EVENTS[2]?.() as never);
      }
      expect(pending.size).toBe(1);
      actor.stop();
    });
    it('says whose GPU, for how long, and that it is inferred from the work, not measured', () => {
      const out: Emitted[] = [];
      const clock = new SimulatedClock();
      const actor = createActor(idleResourceMachine, {
        clock,
        input: { host: 'h', idleSeconds: 5 },
      });
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      actor.send(
        event('SELFPLAY_TARGET_UPDATED', {
          config_key: 'c',
          target_games: 5,
          reason: 'r',
        }) as never,
      );
      clock.increment(10_000);
      expect(out).toEqual([]);
      // Another kind of task failing is not the end of the selfplay batch.
      actor.send(
        event('TASK_FAILED', {
          task_id: 't',
          task_type: 'export',
          node_id: 'h',
          error: 'e',
        }) as never,
      );
      clock.increment(10_000);
      expect(out).toEqual([]);
      actor.send(event('SELFPLAY_COMPLETE', { config_key: 'c', games_played: 5 }) as never);
      clock.increment(4_999);
      expect(out).toEqual([]);
      clock.increment(1);
      expect(out.map((e) => e.payload)).toEqual([
        {
          node_id: 'h',
          host: 'h',
          gpu_utilization: 0,
          gpu_memory_gb: 0,
          idle_duration_seconds: 5,
          reason: 'no_gpu_work',
        },
      ]);
    });
  },
);
