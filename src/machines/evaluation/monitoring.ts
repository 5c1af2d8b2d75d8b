/**
 * MONITORING (the guide's Monitoring, which the original never built as one component): the
 * lifecycle of evaluations and syncs and the status of every daemon, from their events, kept in
 * its context (the inspector and `status` read it from the snapshot).
 *
 * - EVALUATION_STARTED opens a running evaluation (per model); _COMPLETED / _FAILED close it.
 * - DATA_SYNC_STARTED opens a running sync (per source host); _COMPLETED / _FAILED close one.
 * - DAEMON_STATUS_CHANGED keeps each `daemon@host`'s status and when it changed.
 *
 * It says nothing: it is where an operator reads what is going on now. Finished lifecycles are
 * counted, not kept, so the context stays small whatever the length of the run.
 */
import { assign, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { modelIdOf } from '../model/model-id.js';
import { type CatalogEvent, type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const MONITORING_SUBSCRIBES = subscriptions(
  'EVALUATION_STARTED',
  'EVALUATION_COMPLETED',
  'EVALUATION_FAILED',
  'DATA_SYNC_STARTED',
  'DATA_SYNC_COMPLETED',
  'DATA_SYNC_FAILED',
  'DAEMON_STATUS_CHANGED',
);

interface Lifecycle {
  /** Key (model id, or host) -> Unix seconds it started; a host may run several syncs. */
  readonly running: Readonly<Record<string, readonly number[]>>;
  readonly started: number;
  readonly completed: number;
  readonly failed: number;
}

export interface MonitoringContext {
  readonly evaluations: Lifecycle;
  readonly syncs: Lifecycle;
  /** `DAEMON@host` -> its status and since when (Unix seconds). */
  readonly daemons: Readonly<Record<string, { status: string; since: number }>>;
}

const empty: Lifecycle = { running: {}, started: 0, completed: 0, failed: 0 };

function open(l: Lifecycle, key: string, at: number): Lifecycle {
  return {
    ...l,
    started: l.started + 1,
    running: { ...l.running, [key]: [...(l.running[key] ?? []), at] },
  };
}

/** Closes the oldest running one of `key` (a close with none open is still counted). */
function close(l: Lifecycle, key: string, outcome: 'completed' | 'failed'): Lifecycle {
  const left = (l.running[key] ?? []).slice(1);
  const { [key]: _, ...others } = l.running;
  return {
    ...l,
    [outcome]: l[outcome] + 1,
    running: left.length > 0 ? { ...others, [key]: left } : others,
  };
}

type Ev = DaemonMachineEvent<typeof MONITORING_SUBSCRIBES>;
/** The model a gauntlet judged, as EVALUATION names it (by its file when no id was given). */
const judgedModel = (e: CatalogEvent<'EVALUATION_COMPLETED'>) =>
  e.payload.model_id ?? (e.payload.model_path ? modelIdOf(e.payload.model_path) : 'unnamed');
const at = (e: Ev) => ('envelope' in e ? e.envelope.timestamp : 0);

export const monitoringMachine = setup({
  types: { context: {} as MonitoringContext, events: {} as Ev, emitted: {} as Emitted },
}).createMachine({
  id: 'monitoring',
  context: { evaluations: empty, syncs: empty, daemons: {} },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        EVALUATION_STARTED: {
          actions: assign({
            evaluations: ({ context, event }) =>
              open(context.evaluations, event.payload.model_id, at(event)),
          }),
        },
        EVALUATION_COMPLETED: {
          actions: assign({
            evaluations: ({ context, event }) =>
              close(context.evaluations, judgedModel(event), 'completed'),
          }),
        },
        EVALUATION_FAILED: {
          actions: assign({
            evaluations: ({ context, event }) =>
              close(context.evaluations, event.payload.model_id, 'failed'),
          }),
        },
        DATA_SYNC_STARTED: {
          actions: assign({
            syncs: ({ context, event }) => open(context.syncs, event.payload.host, at(event)),
          }),
        },
        DATA_SYNC_COMPLETED: {
          actions: assign({
            syncs: ({ context, event }) => close(context.syncs, event.payload.host, 'completed'),
          }),
        },
        DATA_SYNC_FAILED: {
          actions: assign({
            syncs: ({ context, event }) => close(context.syncs, event.payload.host, 'failed'),
          }),
        },
        DAEMON_STATUS_CHANGED: {
          actions: assign({
            daemons: ({ context, event }) => ({
              ...context.daemons,
              [`${event.payload.daemon_name}@${event.payload.hostname}`]: {
                status: event.payload.new_status,
                since: at(event),
              },
            }),
          }),
        },
      },
    },
  },
});
