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
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, RESTORED_EVENT, subscriptions } from '../protocol.js';

export const IDLE_RESOURCE_SUBSCRIBES = subscriptions(
  'SELFPLAY_TARGET_UPDATED',
  'SELFPLAY_COMPLETE',
  'TASK_FAILED',
  'TRAINING_STARTED',
  'TRAINING_COMPLETED',
  'TRAINING_FAILED',
  'EVALUATION_STARTED',
  'EVALUATION_COMPLETED',
  'EVALUATION_FAILED',
);

export interface IdleResourceInput {
  /** This host. */
  readonly host: string;
  /** How long without GPU work is idle; 120 s. */
  readonly idleSeconds?: number;
}

/** The delayed check (one at most is pending: `CHECK_ID`). */
interface IdleCheck {
  readonly type: 'idle.elapsed';
}

export interface IdleResourceContext {
  readonly host: string;
  readonly idleSeconds: number;
  /** GPU jobs of this host begun and not ended. */
  readonly open: number;
  /** Whether this idle stretch was reported. */
  readonly reported: boolean;
  readonly detections: number;
}

type Ev = DaemonMachineEvent<typeof IDLE_RESOURCE_SUBSCRIBES, IdleCheck>;

/**
 * At most one check is pending, the current idle stretch's: arming cancels the one before, and
 * work beginning cancels it, so a check that fires is never an older stretch's.
 */
const CHECK_ID = 'idle-check';

/** Schedules the check `idleSeconds` from now, in place of any pending one. */
function armCheck(
  enqueue: {
    cancel(id: string): void;
    raise(event: IdleCheck, options: { delay: number; id: string }): void;
  },
  idleSeconds: number,
): void {
  enqueue.cancel(CHECK_ID);
  enqueue.raise({ type: 'idle.elapsed' }, { delay: idleSeconds * 1000, id: CHECK_ID });
}

const BEGINS = new Set(['SELFPLAY_TARGET_UPDATED', 'TRAINING_STARTED', 'EVALUATION_STARTED']);

/** +1 for work begun, -1 for work ended, 0 for events not about this host's GPU work. */
function workDelta(event: Ev, host: string): number {
  if (!('payload' in event)) return 0;
  const p = event.payload as Record<string, unknown>;
  if (event.type.startsWith('TRAINING_') && typeof p.host === 'string' && p.host !== host) return 0;
  if (event.type === 'TASK_FAILED' && p.task_type !== 'selfplay') return 0;
  return BEGINS.has(event.type) ? 1 : -1;
}

export const idleResourceMachine = setup({
  types: {
    context: {} as IdleResourceContext,
    events: {} as Ev,
    input: {} as IdleResourceInput,
    emitted: {} as Emitted,
  },
  guards: {
    waitingIdle: ({ context }) => context.open === 0 && !context.reported,
  },
  actions: {
    arm: enqueueActions(({ context, enqueue }) => armCheck(enqueue, context.idleSeconds)),
    count: enqueueActions(({ context, event, enqueue }) => {
      const delta = workDelta(event, context.host);
      if (delta === 0) return;
      const open = Math.max(0, context.open + delta);
      enqueue.assign({ open });
      // Work began: the idle stretch ends here, and so does its check (a busy host would
      // otherwise pile up one pending timer per job).
      if (delta > 0 && context.open === 0) enqueue.cancel(CHECK_ID);
      // The last work ended: a new idle stretch begins.
      if (open === 0 && delta < 0 && context.open > 0) {
        enqueue.assign({ reported: false });
        armCheck(enqueue, context.idleSeconds);
      }
    }),
    detect: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'idle.elapsed' || context.open > 0 || context.reported) return;
      enqueue.emit({
        type: 'IDLE_RESOURCE_DETECTED',
        payload: {
          node_id: context.host,
          host: context.host,
          gpu_utilization: 0,
          gpu_memory_gb: 0,
          idle_duration_seconds: context.idleSeconds,
          reason: 'no_gpu_work',
        },
      });
      enqueue.assign({ reported: true, detections: context.detections + 1 });
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
  }),
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      // Idle from the start until work arrives.
      entry: 'arm',
      on: {
        ...Object.fromEntries(IDLE_RESOURCE_SUBSCRIBES.map((t) => [t, { actions: 'count' }])),
        'idle.elapsed': { actions: 'detect' },
        // A restored host idle and not yet reported waits again (the delay was not kept).
        [RESTORED_EVENT]: { guard: 'waitingIdle', actions: 'arm' },
      },
    },
  },
});
