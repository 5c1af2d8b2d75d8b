/**
 * PIPELINE_RECOVERY (the guide's RecoveryOrchestrator for TRAINING_FAILED and DATA_SYNC_FAILED):
 * work that failed for good (its daemon already retried it 3 times within seconds) is tried
 * again later, with backoff, then given up with a reason.
 *
 * - A failure of config c: RECOVERY_INITIATED, and after `baseDelayMs` (30 s) doubling per
 *   attempt the work is asked for again: TRAINING_THRESHOLD_REACHED with the games and the
 *   hyperparameters of c's last request, or a SYNC_REQUEST (`priority: 'high'`) of the games that
 *   failed to sync, from the host that holds them (the failure's `host`).
 * - After `maxAttempts` (3) retries, RECOVERY_FAILED names the last error and the count starts
 *   again; a success (TRAINING_COMPLETED, DATA_SYNC_COMPLETED of c) after a retry is
 *   RECOVERY_COMPLETED.
 * - A training failure of a config whose request it never saw, or a sync failure that does not
 *   say what failed, cannot be retried: a named rejection.
 *
 * (The original's RECOVERY_ORCHESTRATOR daemon type is a node-repair ladder that depends on
 * NODE_HEALTH_MONITOR and subscribes to nothing; this plays the guide's row, under its own type.)
 * Delayed retries are XState delayed events, which a snapshot does not keep: after a restore the
 * pending ones are scheduled again, with their whole delay.
 */
import { enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { type DaemonMachineEvent, RESTORED_EVENT, subscriptions } from '../protocol.js';
import { isCatchUp } from '../sync/auto-sync.js';

export const PIPELINE_RECOVERY_SUBSCRIBES = subscriptions(
  'TRAINING_THRESHOLD_REACHED',
  'TRAINING_FAILED',
  'TRAINING_COMPLETED',
  'DATA_SYNC_FAILED',
  'DATA_SYNC_COMPLETED',
);

export interface PipelineRecoveryInput {
  /** Delay before the first retry, doubled for each next one; 30 s. */
  readonly baseDelayMs?: number;
  /** Retries before giving up; 3. */
  readonly maxAttempts?: number;
}

type Component = 'training' | 'sync';
interface Retry {
  readonly type: 'recovery.retry';
  readonly component: Component;
  readonly config_key: string;
}

interface Failing {
  readonly attempts: number;
  readonly games: number;
  readonly lastError: string;
  /** A sync's source: where the games that failed to sync are. */
  readonly host?: string;
}

export interface RecoveryContext {
  readonly baseDelayMs: number;
  readonly maxAttempts: number;
  /** Config -> its last training request (what a retry asks for again). */
  readonly requests: Readonly<
    Record<string, { games: number; hyperparameters?: Readonly<Record<string, number>> }>
  >;
  readonly failing: Readonly<Record<`${Component}:${string}`, Failing>>;
  /**
   * Retries scheduled and not yet run (re-scheduled after a restore), each with the failure that
   * caused it: a delayed event has no envelope of its own, and the retry is that failure's answer.
   */
  readonly pending: readonly (Omit<Retry, 'type'> & { readonly cause: unknown })[];
  readonly gaveUp: number;
}

type Ev = DaemonMachineEvent<typeof PIPELINE_RECOVERY_SUBSCRIBES, Retry>;
/** What it emits: a retry names the failure it answers (`causedBy`). */
type Out = Emitted & { readonly causedBy?: unknown };

const delayOf = (context: RecoveryContext, attempt: number) =>
  context.baseDelayMs * 2 ** (attempt - 1);

export const pipelineRecoveryMachine = setup({
  types: {
    context: {} as RecoveryContext,
    events: {} as Ev,
    emitted: {} as Out,
    input: {} as PipelineRecoveryInput,
  },
  guards: {
    unknownTraining: ({ context, event }) =>
      event.type === 'TRAINING_FAILED' && !context.requests[event.payload.config_key],
    unnamedSync: ({ event }) =>
      event.type === 'DATA_SYNC_FAILED' &&
      (event.payload.config_key === undefined || event.payload.games === undefined),
  },
  actions: {
    fail: enqueueActions(({ context, event, enqueue }) => {
      let component: Component;
      let config: string;
      let games: number;
      let error: string;
      let host: string | undefined;
      if (event.type === 'TRAINING_FAILED') {
        component = 'training';
        config = event.payload.config_key;
        games = context.requests[config]?.games ?? 0;
        error = event.payload.error;
      } else if (event.type === 'DATA_SYNC_FAILED') {
        component = 'sync';
        config = event.payload.config_key as string; // the unnamedSync guard came first
        games = event.payload.games as number;
        error = event.payload.error;
        host = event.payload.host;
      } else return;
      const key = `${component}:${config}` as const;
      const attempt = (context.failing[key]?.attempts ?? 0) + 1;
      if (attempt > context.maxAttempts) {
        const { [key]: _, ...rest } = context.failing;
        enqueue.emit({
          type: 'RECOVERY_FAILED',
          payload: {
            component,
            config_key: config,
            error,
            failure_count: attempt,
            message: `gave up on ${component} of ${config} after ${context.maxAttempts} retries: ${error}`,
          },
        });
        enqueue.assign({ failing: rest, gaveUp: context.gaveUp + 1 });
        return;
      }
      const delay = delayOf(context, attempt);
      enqueue.emit({
        type: 'RECOVERY_INITIATED',
        payload: {
          component,
          config_key: config,
          attempt_number: attempt,
          failure_count: attempt,
          delay_seconds: delay / 1000,
          strategy: 'retry_with_backoff',
          message: `retrying ${component} of ${config} in ${delay / 1000} s (retry ${attempt} of ${context.maxAttempts}): ${error}`,
        },
      });
      enqueue.assign({
        failing: {
          ...context.failing,
          [key]: { attempts: attempt, games, lastError: error, ...(host ? { host } : {}) },
        },
        pending: [...context.pending, { component, config_key: config, cause: event.envelope }],
      });
      enqueue.raise({ type: 'recovery.retry', component, config_key: config }, { delay });
    }),
    retry: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'recovery.retry') return;
      const { component, config_key: config } = event;
      const i = context.pending.findIndex(
        (p) => p.component === component && p.config_key === config,
      );
      const cause = context.pending[i]?.cause;
      enqueue.assign({ pending: context.pending.filter((_, j) => j !== i) });
      const failing = context.failing[`${component}:${config}`];
      if (!failing) return; // it succeeded meanwhile
      if (component === 'training') {
        const request = context.requests[config];
        enqueue.emit({
          type: 'TRAINING_THRESHOLD_REACHED',
          payload: {
            config_key: config,
            games: request?.games ?? failing.games,
            ...(request?.hyperparameters ? { hyperparameters: request.hyperparameters } : {}),
          },
          causedBy: cause,
        });
      } else
        enqueue.emit({
          type: 'SYNC_REQUEST',
          payload: {
            config_key: config,
            games: failing.games,
            priority: 'high',
            reason: `retry ${failing.attempts} of a failed sync: ${failing.lastError}`,
            ...(failing.host ? { source_host: failing.host } : {}),
          },
          causedBy: cause,
        });
    }),
    succeed: enqueueActions(({ context, event, enqueue }, params: { component: Component }) => {
      const config =
        event.type === 'TRAINING_COMPLETED' || event.type === 'DATA_SYNC_COMPLETED'
          ? event.payload.config_key
          : undefined;
      if (config === undefined) return;
      if (event.type === 'TRAINING_COMPLETED' && event.payload.success !== true) return;
      // A catch-up copies games to one returning host: not the sync that failed.
      if (event.type === 'DATA_SYNC_COMPLETED' && isCatchUp(event.payload)) return;
      const key = `${params.component}:${config}` as const;
      const failing = context.failing[key];
      if (!failing) return;
      const { [key]: _, ...rest } = context.failing;
      enqueue.emit({
        type: 'RECOVERY_COMPLETED',
        payload: {
          component: params.component,
          config_key: config,
          success: true,
          failure_count: failing.attempts,
          message: `${params.component} of ${config} succeeded after ${failing.attempts} retr${failing.attempts === 1 ? 'y' : 'ies'}`,
        },
      });
      enqueue.assign({ failing: rest });
    }),
    rearm: enqueueActions(({ context, enqueue }) => {
      for (const p of context.pending) {
        const attempt = context.failing[`${p.component}:${p.config_key}`]?.attempts ?? 1;
        enqueue.raise(
          { type: 'recovery.retry', component: p.component, config_key: p.config_key },
          { delay: delayOf(context, attempt) },
        );
      }
    }),
  },
}).createMachine({
  id: 'pipelineRecovery',
  context: ({ input }) => ({
    baseDelayMs: input.baseDelayMs ?? 30_000,
    maxAttempts: input.maxAttempts ?? 3,
    requests: {},
    failing: {},
    pending: [],
    gaveUp: 0,
  }),
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        TRAINING_THRESHOLD_REACHED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const p = event.payload;
            enqueue.assign({
              requests: {
                ...context.requests,
                [p.config_key]: {
                  games: p.games,
                  ...(p.hyperparameters ? { hyperparameters: p.hyperparameters } : {}),
                },
              },
            });
          }),
        },
        TRAINING_FAILED: [
          {
            guard: 'unknownTraining',
            actions: reject(
              'TRAINING_FAILED',
              'TRAINING_FAILED of a config whose training request was never seen: nothing to retry',
            ),
          },
          { actions: 'fail' },
        ],
        DATA_SYNC_FAILED: [
          {
            guard: 'unnamedSync',
            actions: reject(
              'DATA_SYNC_FAILED',
              'DATA_SYNC_FAILED without config_key and games: nothing to retry',
            ),
          },
          { actions: 'fail' },
        ],
        TRAINING_COMPLETED: {
          actions: { type: 'succeed', params: { component: 'training' as const } },
        },
        DATA_SYNC_COMPLETED: {
          actions: { type: 'succeed', params: { component: 'sync' as const } },
        },
        'recovery.retry': { actions: 'retry' },
        [RESTORED_EVENT]: { actions: 'rearm' },
      },
    },
  },
});
