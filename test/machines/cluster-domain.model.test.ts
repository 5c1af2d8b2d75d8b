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
type Remote = 'absent' | 'waiting' | 'reported' | 'played';
type IdleCtx = {
  open: number;
  reported: boolean;
  armed: boolean;
  targeted: boolean;
  /** Another host, x, present with a free slot. */
  x: Remote;
  leader: 'none' | 'h' | 'y';
  out: string[];
};
const idleModel = setup({
  types: { context: {} as IdleCtx, events: {} as Step },
  guards: {
    room: ({ context }) => context.open < 2,
    open: ({ context }) => context.open > 0,
  },
}).createMachine({
  // At start the host is idle and the wait armed.
  context: {
    open: 0,
    reported: false,
    armed: true,
    targeted: false,
    x: 'absent',
    leader: 'none',
    out: [],
  },
  on: {
    BEGIN: [
      { guard: 'room', actions: assign(({ context }) => ({ open: context.open + 1, out: [] })) },
      { actions: assign({ out: [] }) },
    ],
    // A selfplay target is work begun too, and lets the leader fill other hosts.
    TARGET: [
      {
        guard: 'room',
        actions: assign(({ context }) => ({
          open: context.open + 1,
          targeted: true,
          x: context.x === 'played' ? ('waiting' as const) : context.x,
          out: [],
        })),
      },
      { actions: assign({ out: [] }) },
    ],
    END: [
      {
        guard: 'open',
        actions: assign(({ context }) =>
          context.open === 1
            ? { open: 0, reported: false, armed: true, out: [] }
            : { open: context.open - 1, out: [] },
        ),
      },
      { actions: assign({ out: [] }) },
    ],
    // Another host's training says nothing about this host's GPU.
    OTHER_HOST: { actions: assign({ out: [] }) },
    X_ONLINE: {
      actions: assign(({ context }) => ({
        x: context.x === 'absent' ? ('waiting' as const) : context.x,
        out: [],
      })),
    },
    X_OFFLINE: { actions: assign({ x: 'absent' as const, out: [] }) },
    // x's batch ends: x waits for the next target; this host's count is untouched.
    X_BATCH_END: {
      actions: assign(({ context }) => ({
        x: context.x === 'reported' ? ('played' as const) : context.x,
        out: [],
      })),
    },
    LEAD: { actions: assign({ leader: 'h' as const, out: [] }) },
    LOSE_LEAD: { actions: assign({ leader: 'y' as const, out: [] }) },
    WAIT: {
      actions: assign(({ context }) => {
        const local = context.armed && context.open === 0 && !context.reported;
        const remote = context.x === 'waiting' && context.leader === 'h' && context.targeted;
        return {
          reported: context.reported || local,
          armed: context.armed && context.open === 0 && !local,
          x: remote ? ('reported' as const) : context.x,
          out: [...(local ? ['h'] : []), ...(remote ? ['x'] : [])],
        };
      }),
    },
    // The replayed actor keeps its delayed checks across daemon.restored (a real restore, which
    // loses them, is tested below); x, even reported, is checked again.
    RESTORED: {
      actions: assign(({ context }) => ({
        x: context.x === 'absent' ? ('absent' as const) : ('waiting' as const),
        out: [],
      })),
    },
  },
});
// Every kind of GPU work begins and ends in turn across the replays (the counts are not reset).
const BEGIN_EVENTS = [
  () => event('TRAINING_STARTED', { config_key: 'c', host: 'h' }),
  () => event('EVALUATION_STARTED', { config_key: 'c', model_id: 'm' }),
];
const TARGET_EVENT = () =>
  event('SELFPLAY_TARGET_UPDATED', { config_key: 'c', target_games: 5, reason: 'r' });
const END_EVENTS = [
  () => event('SELFPLAY_COMPLETE', { config_key: 'c', games_played: 5 }),
  () => event('TASK_FAILED', { task_id: 't', task_type: 'selfplay', node_id: 'h', error: 'e' }),
  () => event('TRAINING_COMPLETED', { config_key: 'c', success: true, duration: 1, host: 'h' }),
  () => event('TRAINING_FAILED', { config_key: 'c', error: 'e', host: 'h' }),
  () => event('EVALUATION_COMPLETED', { config_key: 'c', elo: 1, games_played: 1, win_rate: 0.5 }),
  () => event('EVALUATION_FAILED', { config_key: 'c', model_id: 'm', error: 'e' }),
];
// The ends of a batch on x, in turn.
const X_END_EVENTS = [
  () => event('SELFPLAY_COMPLETE', { config_key: 'c', games_played: 5, host: 'x' }),
  () => event('TASK_FAILED', { task_id: 't', task_type: 'selfplay', node_id: 'x', error: 'e' }),
  () =>
    event('TASK_ABANDONED', {
      work_id: 'selfplay:c',
      reason: 'r',
      task_type: 'selfplay',
      node_id: 'x',
    }),
];
// x joins in turn by HOST_ONLINE with a free slot and by NODE_RECOVERED; it leaves by
// HOST_OFFLINE and by a HOST_ONLINE that says it has no free slot.
const X_JOINS = [
  () => event('HOST_ONLINE', { host: 'x', free_slots: 1 }),
  () => event('NODE_RECOVERED', { node_id: 'x' }),
];
const X_LEAVES = [
  () => event('HOST_OFFLINE', { host: 'x' }),
  () => event('HOST_ONLINE', { host: 'x', free_slots: 0 }),
];
/** A started IDLE_RESOURCE of host h (5 s idle) on a simulated clock, and what it emits. */
const idleActor = () => {
  const out: Emitted[] = [];
  const clock = new SimulatedClock();
  const actor = createActor(idleResourceMachine, { clock, input: { host: 'h', idleSeconds: 5 } });
  actor.on('*', (e) => void out.push(e as Emitted));
  actor.start();
  return { out, clock, actor };
};
let begun = 0;
let ended = 0;
let xEnded = 0;
let xJoined = 0;
let xLeft = 0;
describeModelBased(
  'IDLE_RESOURCE',
  {
    model: idleModel,
    events: steps([
      'BEGIN',
      'TARGET',
      'END',
      'OTHER_HOST',
      'X_ONLINE',
      'X_OFFLINE',
      'X_BATCH_END',
      'LEAD',
      'LOSE_LEAD',
      'WAIT',
      'RESTORED',
    ]),
    machine: idleResourceMachine,
    input: { host: 'h', idleSeconds: IDLE_S },
    apply: (e, { actor, clock }) => {
      const { open } = actor.getSnapshot().context;
      const send = (make: (() => unknown) | undefined) => actor.send(make?.() as never);
      if (e.type === 'BEGIN' && open < 2) send(BEGIN_EVENTS[begun++ % BEGIN_EVENTS.length]);
      if (e.type === 'TARGET' && open < 2) send(TARGET_EVENT);
      if (e.type === 'END' && open > 0) send(END_EVENTS[ended++ % END_EVENTS.length]);
      if (e.type === 'OTHER_HOST')
        send(() => event('TRAINING_STARTED', { config_key: 'c', host: 'x' }));
      if (e.type === 'X_ONLINE') send(X_JOINS[xJoined++ % X_JOINS.length]);
      if (e.type === 'X_OFFLINE') send(X_LEAVES[xLeft++ % X_LEAVES.length]);
      if (e.type === 'X_BATCH_END') send(X_END_EVENTS[xEnded++ % X_END_EVENTS.length]);
      if (e.type === 'LEAD') send(() => event('LEADER_ELECTED', { leader_id: 'h' }));
      if (e.type === 'LOSE_LEAD') send(() => event('LEADER_ELECTED', { leader_id: 'y' }));
      if (e.type === 'WAIT') clock.increment(IDLE_S * 1000);
      if (e.type === 'RESTORED') actor.send({ type: 'daemon.restored' } as never);
    },
    observe: ({ takeEmitted }) =>
      takeEmitted()
        .filter((e) => e.type === 'IDLE_RESOURCE_DETECTED')
        .map((e) => (e.payload as { host: string }).host)
        .sort(),
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
      const { out, clock, actor } = idleActor();
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
    it('does not count a target of no games as work (no batch begins, so none would end)', () => {
      const { out, clock, actor } = idleActor();
      actor.send(
        event('SELFPLAY_TARGET_UPDATED', {
          config_key: 'c',
          target_games: 0,
          reason: 'r',
        }) as never,
      );
      clock.increment(5_000);
      expect(out.map((e) => e.type)).toEqual(['IDLE_RESOURCE_DETECTED']);
      expect(actor.getSnapshot().context.open).toBe(0);
      actor.stop();
    });
    it("reports another host's free slot only as the leader, once a target was asked for, once per iteration", () => {
      const { out, clock, actor } = idleActor();
      const send = (e: unknown) => actor.send(e as never);
      const remote = () =>
        out.filter((e) => (e.payload as { host: string }).host === 'x').map((e) => e.payload);
      send(event('HOST_ONLINE', { host: 'x', free_slots: 2 }));
      clock.increment(20_000);
      expect(remote()).toEqual([]); // no leader yet
      send(event('LEADER_ELECTED', { leader_id: 'h' }));
      clock.increment(20_000);
      expect(remote()).toEqual([]); // no target yet: no config or size to give it
      send(event('SELFPLAY_TARGET_UPDATED', { config_key: 'c', target_games: 5, reason: 'r' }));
      clock.increment(5_000);
      expect(remote()).toEqual([
        {
          node_id: 'x',
          host: 'x',
          gpu_utilization: 0,
          gpu_memory_gb: 0,
          idle_duration_seconds: 5,
          reason: 'free_slots_without_our_work',
        },
      ]);
      // Its batch ends; x waits for the next iteration's target, not for the clock.
      send(event('SELFPLAY_COMPLETE', { config_key: 'c', games_played: 5, host: 'x' }));
      clock.increment(60_000);
      expect(remote()).toHaveLength(1);
      send(event('SELFPLAY_TARGET_UPDATED', { config_key: 'c', target_games: 5, reason: 'r' }));
      clock.increment(5_000);
      expect(remote()).toHaveLength(2);
      // Gone: never reported again until it is back.
      send(event('HOST_OFFLINE', { host: 'x' }));
      send(
        event('TASK_ABANDONED', { work_id: 'w', reason: 'r', task_type: 'selfplay', node_id: 'x' }),
      );
      send(event('SELFPLAY_TARGET_UPDATED', { config_key: 'c', target_games: 5, reason: 'r' }));
      clock.increment(60_000);
      expect(remote()).toHaveLength(2);
      actor.stop();
    });
  },
);
