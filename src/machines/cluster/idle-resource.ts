/**
 * IDLE_RESOURCE (the original's IdleResourceDaemon; the guide names the IdleDetectionLoop):
 * IDLE_RESOURCE_DETECTED when this host's GPU has had no work for `idleSeconds` (120), which
 * SELFPLAY_COORDINATOR answers with a selfplay batch.
 *
 * The original polls GPU utilisation; this runtime has no GPU probe, so idleness is inferred
 * from the host's own GPU work as its events tell it: a selfplay batch (SELFPLAY_TARGET_UPDATED
 * until SELFPLAY_COMPLETE or its TASK_FAILED), a training (TRAINING_STARTED until
 * TRAINING_COMPLETED / TRAINING_FAILED) and a gauntlet (EVALUATION_STARTED until
 * EVALUATION_COMPLETED / EVALUATION_FAILED). Training events of another host (they cross hosts)
 * do not count. The payload says so: `gpu_utilization` 0 and `gpu_memory_gb` 0 mean "no work of
 * ours", not a measurement, and `reason` is `no_gpu_work`.
 *
 * One event per idle stretch: it fires once `idleSeconds` after the last work ended (or after
 * start), then waits for work to start and end again. The wait is an XState delayed event, which a
 * snapshot does not keep: a restored idle host waits the whole delay again.
 *
 * Other hosts (the guide's IdleDetectionLoop, a leader-only loop): a host that presence announces
 * with free GPU slots (HOST_ONLINE `free_slots` > 0; NODE_RECOVERED until its HOST_ONLINE says)
 * is idle once `idleSeconds` pass without a selfplay batch of ours there, and is reported for
 * SELFPLAY_COORDINATOR to place a batch on it. A report is a request for one batch, so the host is
 * not reported again before that batch ends there (SELFPLAY_COMPLETE naming the host, or its
 * TASK_FAILED / TASK_ABANDONED) and the MasterLoop asks for its next selfplay target: at most one
 * filler batch per host and iteration, so that filler work cannot outrun the pipeline that
 * consumes it (a host refilled as soon as its batch ended flooded sync and training in the
 * simulated world, where a batch takes milliseconds: 1,994 batches in a 40-iteration trace, which
 * then timed out). HOST_OFFLINE takes the host out. Only the leader reports (its
 * scheduler is the one that places batches elsewhere), and only once a selfplay target was asked
 * for (before, the scheduler has no config or batch size to give): until then a host's check
 * repeats every `idleSeconds`, as the original's loop polls. A restored daemon checks every
 * present host again: a batch that ended while it was down would otherwise leave its host
 * reported for good, and a second batch is the lesser harm.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, RESTORED_EVENT, subscriptions } from '../protocol.js';
import { freeSlots, presenceHost } from './cluster-hosts.js';

/** This host's GPU work begins and ends with these. */
const LOCAL_WORK = [
  'SELFPLAY_TARGET_UPDATED',
  'SELFPLAY_COMPLETE',
  'TASK_FAILED',
  'TRAINING_STARTED',
  'TRAINING_COMPLETED',
  'TRAINING_FAILED',
  'EVALUATION_STARTED',
  'EVALUATION_COMPLETED',
  'EVALUATION_FAILED',
] as const;

export const IDLE_RESOURCE_SUBSCRIBES = subscriptions(
  ...LOCAL_WORK,
  'TASK_ABANDONED',
  'HOST_ONLINE',
  'HOST_OFFLINE',
  'NODE_RECOVERED',
  'LEADER_ELECTED',
);

export interface IdleResourceInput {
  /** This host. */
  readonly host: string;
  /** How long without GPU work is idle; 120 s. */
  readonly idleSeconds?: number;
}

/** A delayed check: this host's (no `host`) or another host's. */
interface IdleCheck {
  readonly type: 'idle.elapsed';
  readonly host?: string;
}

/**
 * Another host with free slots: waiting out its idle stretch, reported (its batch is on its way
 * or playing), or played (its batch ended; it waits for the next selfplay target).
 */
type RemoteState = 'waiting' | 'reported' | 'played';

export interface IdleResourceContext {
  readonly host: string;
  readonly idleSeconds: number;
  /** GPU jobs of this host begun and not ended. */
  readonly open: number;
  /** Whether this idle stretch was reported. */
  readonly reported: boolean;
  readonly detections: number;
  /** Other hosts present with free GPU slots. */
  readonly remote: Readonly<Record<string, RemoteState>>;
  /** The cluster's leader (LEADER_ELECTED); null before the first. */
  readonly leader: string | null;
  /** Whether a selfplay target was asked for yet. */
  readonly targeted: boolean;
}

type Ev = DaemonMachineEvent<typeof IDLE_RESOURCE_SUBSCRIBES, IdleCheck>;

/**
 * At most one check is pending per host, the current idle stretch's: arming cancels the one
 * before, and work beginning cancels it, so a check that fires is never an older stretch's.
 */
const checkId = (host?: string) => (host === undefined ? 'idle-check' : `idle-check:${host}`);

interface Enqueue {
  cancel(id: string): void;
  raise(event: IdleCheck, options: { delay: number; id: string }): void;
}

/** Schedules the check of a host (this one without `host`) `idleSeconds` from now. */
function armCheck(enqueue: Enqueue, idleSeconds: number, host?: string): void {
  enqueue.cancel(checkId(host));
  enqueue.raise(
    { type: 'idle.elapsed', ...(host === undefined ? {} : { host }) },
    { delay: idleSeconds * 1000, id: checkId(host) },
  );
}

const BEGINS = new Set(['SELFPLAY_TARGET_UPDATED', 'TRAINING_STARTED', 'EVALUATION_STARTED']);
const LOCAL = new Set<string>(LOCAL_WORK);

/**
 * A selfplay target that asks for a batch: SELFPLAY_COORDINATOR rejects one of no games, so no
 * batch begins (and none would end) and the scheduler has no size to give a filler batch.
 */
const asksForBatch = (event: Ev) =>
  event.type === 'SELFPLAY_TARGET_UPDATED' && event.payload.target_games > 0;

/** The other host whose selfplay batch this event ends, if any. */
function remoteBatchEnd(event: Ev, self: string): string | undefined {
  if (!('payload' in event)) return undefined;
  const p = event.payload as Record<string, unknown>;
  const host =
    event.type === 'SELFPLAY_COMPLETE'
      ? p.host
      : (event.type === 'TASK_FAILED' || event.type === 'TASK_ABANDONED') &&
          p.task_type === 'selfplay'
        ? p.node_id
        : undefined;
  return typeof host === 'string' && host !== self ? host : undefined;
}

/** +1 for work begun, -1 for work ended, 0 for events not about this host's GPU work. */
function workDelta(event: Ev, host: string): number {
  if (!('payload' in event) || !LOCAL.has(event.type)) return 0;
  const p = event.payload as Record<string, unknown>;
  if (event.type.startsWith('TRAINING_') && typeof p.host === 'string' && p.host !== host) return 0;
  if (event.type === 'TASK_FAILED' && p.task_type !== 'selfplay') return 0;
  if (event.type === 'SELFPLAY_TARGET_UPDATED' && !asksForBatch(event)) return 0;
  // Another host's batch (placed there by the leader) is not this GPU's work.
  if (remoteBatchEnd(event, host) !== undefined) return 0;
  return BEGINS.has(event.type) ? 1 : -1;
}

const detected = (host: string, idleSeconds: number, reason: string): Emitted => ({
  type: 'IDLE_RESOURCE_DETECTED',
  payload: {
    node_id: host,
    host,
    gpu_utilization: 0,
    gpu_memory_gb: 0,
    idle_duration_seconds: idleSeconds,
    reason,
  },
});

export const idleResourceMachine = setup({
  types: {
    context: {} as IdleResourceContext,
    events: {} as Ev,
    input: {} as IdleResourceInput,
    emitted: {} as Emitted,
  },
  actions: {
    arm: enqueueActions(({ context, enqueue }) => armCheck(enqueue, context.idleSeconds)),
    count: enqueueActions(({ context, event, enqueue }) => {
      if (asksForBatch(event)) {
        // The next iteration: a host whose batch ended may be filled again.
        const played = Object.keys(context.remote).filter((h) => context.remote[h] === 'played');
        for (const host of played) armCheck(enqueue, context.idleSeconds, host);
        enqueue.assign({
          targeted: true,
          remote: { ...context.remote, ...Object.fromEntries(played.map((h) => [h, 'waiting'])) },
        });
      }
      const delta = workDelta(event, context.host);
      if (delta === 0) return;
      const open = Math.max(0, context.open + delta);
      enqueue.assign({ open });
      // Work began: the idle stretch ends here, and so does its check (a busy host would
      // otherwise pile up one pending timer per job).
      if (delta > 0 && context.open === 0) enqueue.cancel(checkId());
      // The last work ended: a new idle stretch begins.
      if (open === 0 && delta < 0 && context.open > 0) {
        enqueue.assign({ reported: false });
        armCheck(enqueue, context.idleSeconds);
      }
    }),
    // Another host's batch ended: it waits for the next selfplay target.
    remoteEnd: assign(({ context, event }) => {
      const host = remoteBatchEnd(event, context.host);
      if (host === undefined || context.remote[host] !== 'reported') return {};
      return { remote: { ...context.remote, [host]: 'played' } };
    }),
    presence: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'LEADER_ELECTED') {
        enqueue.assign({ leader: event.payload.leader_id });
        return;
      }
      if (!('payload' in event)) return;
      const host = presenceHost(event.type, event.payload);
      if (host === undefined || host === context.host) return;
      const { [host]: _, ...others } = context.remote;
      const joins =
        event.type === 'NODE_RECOVERED' ||
        (event.type === 'HOST_ONLINE' && freeSlots(event.payload) > 0);
      if (!joins) {
        if (host in context.remote) {
          enqueue.cancel(checkId(host));
          enqueue.assign({ remote: others });
        }
        return;
      }
      // A host already waiting or given its batch keeps its stretch.
      if (host in context.remote) return;
      enqueue.assign({ remote: { ...context.remote, [host]: 'waiting' } });
      armCheck(enqueue, context.idleSeconds, host);
    }),
    detect: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'idle.elapsed') return;
      if (event.host === undefined) {
        if (context.open > 0 || context.reported) return;
        enqueue.emit(detected(context.host, context.idleSeconds, 'no_gpu_work'));
        enqueue.assign({ reported: true, detections: context.detections + 1 });
        return;
      }
      if (context.remote[event.host] !== 'waiting') return;
      // Not (yet) this host's to fill, or nothing to fill it with: look again later.
      if (context.leader !== context.host || !context.targeted) {
        armCheck(enqueue, context.idleSeconds, event.host);
        return;
      }
      enqueue.emit(detected(event.host, context.idleSeconds, 'free_slots_without_our_work'));
      enqueue.assign({
        remote: { ...context.remote, [event.host]: 'reported' },
        detections: context.detections + 1,
      });
    }),
    // The delays were not kept: this host idle and not yet reported waits again, and every other
    // host present is checked again (see the header).
    rearm: enqueueActions(({ context, enqueue }) => {
      if (context.open === 0 && !context.reported) armCheck(enqueue, context.idleSeconds);
      for (const host of Object.keys(context.remote)) armCheck(enqueue, context.idleSeconds, host);
      enqueue.assign({
        remote: Object.fromEntries(Object.keys(context.remote).map((h) => [h, 'waiting'])),
      });
    }),
  },
}).createMachine({
  id: 'idleResource',
  context: ({ input }) => ({
    host: input.host,
    idleSeconds: input.idleSeconds ?? 120,
    open: 0,
    reported: false,
    detections: 0,
    remote: {},
    leader: null,
    targeted: false,
  }),
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      // Idle from the start until work arrives.
      entry: 'arm',
      on: {
        ...Object.fromEntries(LOCAL_WORK.map((t) => [t, { actions: ['count', 'remoteEnd'] }])),
        TASK_ABANDONED: { actions: 'remoteEnd' },
        HOST_ONLINE: { actions: 'presence' },
        HOST_OFFLINE: { actions: 'presence' },
        NODE_RECOVERED: { actions: 'presence' },
        LEADER_ELECTED: { actions: 'presence' },
        'idle.elapsed': { actions: 'detect' },
        [RESTORED_EVENT]: { actions: 'rearm' },
      },
    },
  },
});
