/**
 * The lifecycle of one supervised daemon: a pure machine (no I/O, no clock reads; time and
 * randomness arrive in events) and the one authority over it. It invokes its effects itself:
 * `startDaemon` while starting (it answers `child.ready` or `child.start_failed`), `watchDaemon`
 * while running (`child.exited` when the daemon ends by itself), `stopDaemon` while stopping
 * (`child.stopped`). The supervisor provides them with `machine.provide({ actors })`; here they
 * are no-ops, so that the machine can be drawn and model-tested by sending those events.
 *
 * One restart authority (lesson 16): restarts happen here and nowhere else, with exponential
 * backoff and a restart-intensity limit, and FAILED is final until an operator restarts it. A
 * start that fails is an exit like any other: restarted with backoff, FAILED past the limit.
 */
import { assign, fromCallback, setup } from 'xstate';
import {
  addRestart,
  type Backoff,
  backoffDelay,
  DEFAULT_BACKOFF,
  DEFAULT_INTENSITY,
  decideRestart,
  type ExitReason,
  type Intensity,
  type RestartType,
} from './supervision.js';

export interface LifecycleInput {
  readonly daemon: string;
  readonly restartType?: RestartType;
  readonly backoff?: Backoff;
  readonly intensity?: Intensity;
}

export interface LifecycleContext {
  readonly daemon: string;
  readonly restartType: RestartType;
  readonly backoff: Backoff;
  readonly intensity: Intensity;
  /** Clock times of the restarts within the intensity period. */
  readonly restarts: readonly number[];
  /** Restarts since the daemon last ran for `backoff.resetAfterMs`; drives the delay. */
  readonly attempt: number;
  readonly totalRestarts: number;
  readonly startedAt: number | null;
  readonly delayMs: number;
  readonly lastError: string | null;
  /** Why the current state was entered, for DAEMON_STATUS_CHANGED. */
  readonly reason: string;
  readonly restartAfterStop: boolean;
}

export type LifecycleEvent =
  | { type: 'child.start' }
  | { type: 'child.dependencies_ready' }
  | { type: 'child.ready'; at: number }
  | { type: 'child.start_failed'; at: number; error: string; random: number }
  | { type: 'child.exited'; at: number; reason: ExitReason; error?: string; random: number }
  | { type: 'child.stop' }
  | { type: 'child.stopped' }
  | { type: 'child.restart' };

/** The status names of DAEMON_STATUS_CHANGED, by lifecycle state. */
export const STATUS_OF_STATE = {
  idle: 'pending',
  waiting: 'waiting_for_dependencies',
  starting: 'starting',
  running: 'running',
  backingOff: 'backing_off',
  failed: 'failed',
  stopping: 'stopping',
  stopped: 'stopped',
} as const;

export type LifecycleState = keyof typeof STATUS_OF_STATE;

type ExitEvent = Extract<LifecycleEvent, { type: 'child.exited' | 'child.start_failed' }>;
const exitReason = (e: ExitEvent): ExitReason =>
  e.type === 'child.start_failed' ? 'error' : e.reason;

/** The effects, as the machine sees them: each answers with lifecycle events. */
const noEffect = fromCallback<LifecycleEvent, void>(() => {});

export const daemonLifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as LifecycleInput,
  },
  actors: {
    /** Starts the daemon; answers `child.ready` once it is ready, or `child.start_failed`. */
    startDaemon: noEffect,
    /** Watches the running daemon; answers `child.exited` when it ends by itself. */
    watchDaemon: noEffect,
    /** Stops the daemon (within its shutdown timeout); answers `child.stopped`. */
    stopDaemon: noEffect,
  },
  guards: {
    shouldRestart: ({ context }, e: ExitEvent) =>
      decideRestart(context.restartType, exitReason(e)) === 'restart',
    intensityExceeded: ({ context }, e: ExitEvent) =>
      addRestart(context.restarts, e.at, context.intensity).exceeded,
    restartAfterStop: ({ context }) => context.restartAfterStop,
  },
  actions: {
    recordRestart: assign(({ context }, e: ExitEvent) => {
      // A daemon that ran long enough before failing starts its backoff from the beginning.
      const stable =
        context.startedAt !== null && e.at - context.startedAt >= context.backoff.resetAfterMs;
      const attempt = (stable ? 0 : context.attempt) + 1;
      return {
        restarts: addRestart(context.restarts, e.at, context.intensity).restarts,
        attempt,
        totalRestarts: context.totalRestarts + 1,
        delayMs: backoffDelay(attempt, context.backoff, () => e.random),
        lastError: e.type === 'child.start_failed' ? e.error : (e.error ?? context.lastError),
        reason:
          e.type === 'child.start_failed' ? `start failed: ${e.error}` : `exited (${e.reason})`,
        startedAt: null,
      };
    }),
    recordFinalExit: assign(({ context }, e: ExitEvent) => ({
      lastError: e.type === 'child.start_failed' ? e.error : (e.error ?? context.lastError),
      reason: e.type === 'child.start_failed' ? `start failed: ${e.error}` : `exited (${e.reason})`,
      startedAt: null,
    })),
    recordFailure: assign(({ context }, e: ExitEvent) => ({
      lastError: e.type === 'child.start_failed' ? e.error : (e.error ?? context.lastError),
      reason: `more than ${context.intensity.maxRestarts} restarts in ${context.intensity.periodMs / 1000} s`,
      startedAt: null,
    })),
  },
  delays: {
    backoff: ({ context }) => context.delayMs,
  },
}).createMachine({
  id: 'daemonLifecycle',
  context: ({ input }) => ({
    daemon: input.daemon,
    restartType: input.restartType ?? 'permanent',
    backoff: input.backoff ?? DEFAULT_BACKOFF,
    intensity: input.intensity ?? DEFAULT_INTENSITY,
    restarts: [],
    attempt: 0,
    totalRestarts: 0,
    startedAt: null,
    delayMs: 0,
    lastError: null,
    reason: 'registered',
    restartAfterStop: false,
  }),
  initial: 'idle',
  states: {
    idle: {
      on: { 'child.start': { target: 'waiting', actions: assign({ reason: 'start requested' }) } },
    },
    waiting: {
      on: {
        'child.dependencies_ready': {
          target: 'starting',
          actions: assign({ reason: 'dependencies ready' }),
        },
        'child.stop': {
          target: 'stopped',
          actions: assign({ reason: 'stopped before it started' }),
        },
      },
    },
    starting: {
      invoke: { id: 'start', src: 'startDaemon' },
      on: {
        'child.ready': {
          target: 'running',
          actions: assign(({ event }) => ({ startedAt: event.at, reason: 'ready' })),
        },
        'child.start_failed': [
          {
            // A failed start is an abnormal exit: temporary daemons are not restarted.
            guard: ({ context, event }) =>
              decideRestart(context.restartType, exitReason(event)) === 'ignore',
            target: 'stopped',
            actions: { type: 'recordFinalExit', params: ({ event }) => event },
          },
          {
            guard: { type: 'intensityExceeded', params: ({ event }) => event },
            target: 'failed',
            actions: { type: 'recordFailure', params: ({ event }) => event },
          },
          {
            target: 'backingOff',
            actions: { type: 'recordRestart', params: ({ event }) => event },
          },
        ],
        'child.stop': {
          target: 'stopping',
          actions: assign({ reason: 'stop requested', restartAfterStop: false }),
        },
      },
    },
    running: {
      invoke: { id: 'watch', src: 'watchDaemon' },
      on: {
        'child.exited': [
          {
            guard: ({ context, event }) =>
              decideRestart(context.restartType, event.reason) === 'restart' &&
              addRestart(context.restarts, event.at, context.intensity).exceeded,
            target: 'failed',
            actions: { type: 'recordFailure', params: ({ event }) => event },
          },
          {
            guard: { type: 'shouldRestart', params: ({ event }) => event },
            target: 'backingOff',
            actions: { type: 'recordRestart', params: ({ event }) => event },
          },
          { target: 'stopped', actions: { type: 'recordFinalExit', params: ({ event }) => event } },
        ],
        'child.stop': {
          target: 'stopping',
          actions: assign({ reason: 'stop requested', restartAfterStop: false }),
        },
        'child.restart': {
          target: 'stopping',
          actions: assign({ reason: 'restart requested', restartAfterStop: true }),
        },
      },
    },
    backingOff: {
      after: { backoff: { target: 'waiting', actions: assign({ reason: 'backoff elapsed' }) } },
      on: {
        'child.stop': {
          target: 'stopped',
          actions: assign({ reason: 'stopped while backing off' }),
        },
        'child.restart': { target: 'waiting', actions: assign({ reason: 'restart requested' }) },
      },
    },
    failed: {
      on: {
        // Only an operator leaves FAILED, and with a clean slate.
        'child.restart': {
          target: 'waiting',
          actions: assign({ restarts: [], attempt: 0, reason: 'restarted by operator' }),
        },
      },
    },
    stopping: {
      invoke: { id: 'stop', src: 'stopDaemon' },
      on: {
        'child.stopped': [
          {
            guard: 'restartAfterStop',
            target: 'waiting',
            actions: assign({ restartAfterStop: false, reason: 'restarting' }),
          },
          { target: 'stopped', actions: assign({ reason: 'stopped', startedAt: null }) },
        ],
        // It died while stopping: that is a stop all the same.
        'child.exited': [
          {
            guard: 'restartAfterStop',
            target: 'waiting',
            actions: assign({ restartAfterStop: false, reason: 'restarting' }),
          },
          { target: 'stopped', actions: assign({ reason: 'stopped', startedAt: null }) },
        ],
      },
    },
    stopped: {
      on: {
        'child.start': { target: 'waiting', actions: assign({ reason: 'start requested' }) },
        'child.restart': { target: 'waiting', actions: assign({ reason: 'restart requested' }) },
      },
    },
  },
});
