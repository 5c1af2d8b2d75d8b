/**
 * The shape shared by the pipeline daemons that do work (selfplay, sync, export, training,
 * evaluation, distribution): a request arrives as a catalog event, is checked (a payload that
 * lacks what the daemon needs is a named, counted rejection, never a silent skip), queued, run
 * as a job by an invoked worker actor, retried with backoff, and answered with catalog events.
 *
 * Pure: the worker is an actor called `runJob` that the daemon host provides; time is XState's
 * clock. States: `idle` -> `working` -> (`backingOff` -> `working`)* -> `idle`, all tagged
 * `ready` (the daemon takes requests in every one of them).
 */
import { assign, emit, enqueueActions, fromCallback, setup } from 'xstate';
import type { EventName, PayloadOf } from '../events/catalog/index.js';
import type { Job, JobResult, Progress, WorkKind } from '../workers/worker.js';
import { type AttemptFailed, type Emitted, rejection } from './emitted.js';
import { RESTORED_EVENT } from './protocol.js';

/** What the `runJob` actor sends back. */
export type JobFeedback =
  | { type: 'job.progress'; progress: Progress }
  | { type: 'job.done'; result: unknown }
  /** `retryable: false`: the same job cannot succeed (its input is invalid); no retry. */
  | { type: 'job.failed'; error: string; retryable?: boolean };

export interface JobDaemonConfig<K extends WorkKind, R, N = null, T extends EventName = EventName> {
  readonly id: string;
  /** The catalog events that request work. */
  readonly triggers: readonly T[];
  /**
   * Reads a request from an event's payload (as the catalog's schema checked it), or names why it
   * cannot (`reject`: counted and said), or says it is another daemon's (`skip`: cluster work
   * addressed to another host).
   */
  readonly toRequest: (
    type: T,
    payload: PayloadOf<T>,
    /** What the daemon knows when the request arrives (its `notes`; null without). */
    notes: N,
  ) => R | { readonly reject: string } | { readonly skip: string };
  /** `causeId`: the id of the envelope that asked (unique, so it makes a good idempotency key). */
  readonly job: (request: R, attempt: number, causeId: string) => Job<K>;
  readonly started?: (request: R, attempt: number) => Emitted | null;
  readonly progress?: (request: R, progress: Progress) => Emitted | null;
  readonly completed: (request: R, result: JobResult<K>) => readonly Emitted[];
  readonly failed: (request: R, error: string, attempts: number) => readonly Emitted[];
  /**
   * What the daemon knows beyond its queue (a scheduler's data per config, a pipeline's stage per
   * config), folded from every event it hears (its triggers, `listens`) or says (its answers).
   */
  readonly notes?: {
    readonly initial: N;
    /** Catalog events heard only to update the notes. */
    readonly listens?: readonly string[];
    readonly fold: (notes: N, type: string, payload: Record<string, unknown>) => N;
    /** The next request is the queued one of lowest rank (ties: arrival order). */
    readonly rank?: (request: R, notes: N) => number;
    /**
     * What the daemon says on an event it only listens to (not a request for work): its answers,
     * decided from the notes as they are after the event (and were before it); caused by that
     * event's envelope.
     */
    readonly reacts?: (
      type: string,
      payload: Record<string, unknown>,
      notes: N,
      before: N,
    ) => readonly Emitted[];
  };
  /**
   * Requests that an event withdraws (the work is no longer wanted): each queued one is dropped,
   * and the running one is stopped (its worker aborted), each answered with `abandoned` (caused
   * by the request's own envelope, so whoever asked learns its chain ended).
   */
  readonly cancels?: {
    readonly on: readonly string[];
    /** Why this event withdraws this request, or null. */
    readonly match: (type: string, payload: Record<string, unknown>, request: R) => string | null;
    readonly abandoned: (request: R, reason: string) => readonly Emitted[];
  };
  /**
   * The triggers `toRequest` may answer `skip` for (only those get a transition for it); `true`
   * for all of them.
   */
  readonly skips?: boolean | readonly T[];
  /**
   * The triggers `toRequest` may answer `reject` for (only those get a transition for it); all
   * of them by default. A trigger whose schema already guarantees what the daemon needs has none.
   */
  readonly rejects?: readonly T[];
  /** Attempts per request; 3. */
  readonly maxAttempts?: number;
  /** Delay before attempt n+1 (n >= 1); default 1 s doubling. */
  readonly retryDelayMs?: (attempt: number) => number;
}

/** A queued request with the envelope that asked for it (what its answers are caused by). */
export interface Queued<R> {
  readonly request: R;
  readonly cause: unknown;
}

export interface JobDaemonContext<R, N = null> {
  readonly notes: N;
  readonly queue: readonly Queued<R>[];
  readonly current: Queued<R> | null;
  readonly attempt: number;
  readonly lastError: string | null;
  readonly completed: number;
  readonly failed: number;
  /** Requests withdrawn, queued or running (`cancels`). */
  readonly abandoned: number;
  readonly rejected: Readonly<Record<string, number>>;
}

/** The placeholder the host replaces with a real worker (`machine.provide({ actors: { runJob } })`). */
export const unprovidedRunJob = fromCallback<JobFeedback, Job>(({ sendBack }) => {
  sendBack({ type: 'job.failed', error: 'no worker was provided for this daemon (runJob)' });
});

export function createJobDaemonMachine<
  K extends WorkKind,
  R,
  N = null,
  T extends EventName = EventName,
>(config: JobDaemonConfig<K, R, N, T>) {
  const maxAttempts = config.maxAttempts ?? 3;
  const retryDelay = config.retryDelayMs ?? ((attempt: number) => 1_000 * 2 ** (attempt - 1));
  type Ctx = JobDaemonContext<R, N>;
  const notesFold = config.notes?.fold;
  const fold = (notes: N, emitted: readonly { type: string; payload?: unknown }[]) =>
    notesFold
      ? emitted.reduce(
          (n, e) => notesFold(n, e.type, (e.payload ?? {}) as Record<string, unknown>),
          notes,
        )
      : notes;
  /** Index of the next request: lowest rank, first come among equals. */
  const nextIndex = (context: Ctx) => {
    const rank = config.notes?.rank;
    if (!rank) return 0;
    let best = 0;
    let bestRank = Number.POSITIVE_INFINITY;
    context.queue.forEach((q, i) => {
      const r = rank(q.request, context.notes);
      if (r < bestRank) {
        best = i;
        bestRank = r;
      }
    });
    return best;
  };
  type Ev = { type: string; payload?: Record<string, unknown>; envelope?: unknown } | JobFeedback;
  /** What it emits: answers carry their cause, so the host links them to the request's envelope. */
  type Out = Emitted & { readonly causedBy?: unknown };
  /** Emitted events carry their cause, so the host can link them to the request's envelope. */
  const caused = (e: Emitted, context: Ctx) => ({ ...e, causedBy: context.current?.cause });
  const req = (context: Ctx) => (context.current as Queued<R>).request;
  const payloadOf = (e: Ev) =>
    ((e as { payload?: Record<string, unknown> }).payload ?? {}) as Record<string, unknown>;
  // Only triggers reach `read` (the transitions that call it are keyed by them); the generic
  // machine cannot narrow its event union by a type parameter, hence the casts.
  const read = (e: Ev, context: Ctx) =>
    config.toRequest(e.type as T, payloadOf(e) as PayloadOf<T>, context.notes);
  /** Whether `toRequest` answered `{ reject }` or `{ skip }` (a reason) instead of a request. */
  const says = <K extends 'reject' | 'skip'>(key: K, r: unknown): r is Record<K, string> =>
    r !== null && typeof r === 'object' && typeof (r as Record<K, unknown>)[key] === 'string';
  const isRejection = (r: unknown) => says('reject', r);
  /**
   * Whether `event` withdraws `q` (`cancels`); if so its `abandoned` answers are emitted, caused
   * by the request's own envelope.
   */
  const withdraw = (event: Ev, q: Queued<R>, emitOut: (e: Out) => void): boolean => {
    const reason = config.cancels?.match(event.type, payloadOf(event), q.request) ?? null;
    if (reason === null) return false;
    for (const e of config.cancels?.abandoned(q.request, reason) ?? [])
      emitOut({ ...e, causedBy: q.cause });
    return true;
  };
  const isSkip = (r: unknown) => says('skip', r);
  const onTrigger = Object.fromEntries(
    config.triggers.map((t) => [
      t,
      [
        ...(config.skips === true || (Array.isArray(config.skips) && config.skips.includes(t))
          ? [
              {
                guard: ({ context, event }: { context: Ctx; event: Ev }) =>
                  isSkip(read(event, context)),
                // Not this daemon's work, but still news for its notes (a host's arrival).
                actions: ['noteHeard'],
              },
            ]
          : []),
        ...((config.rejects ?? config.triggers).includes(t)
          ? [
              {
                guard: ({ context, event }: { context: Ctx; event: Ev }) =>
                  isRejection(read(event, context)),
                actions: ['countRejection', 'emitRejection'],
              },
            ]
          : []),
        { actions: ['enqueue', 'noteHeard'] },
      ],
    ]),
  );
  return setup({
    types: { context: {} as Ctx, events: {} as Ev, emitted: {} as Out },
    actors: { runJob: unprovidedRunJob },
    actions: {
      enqueue: assign({
        queue: ({ context, event }) => [
          ...context.queue,
          { request: read(event, context) as R, cause: (event as { envelope?: unknown }).envelope },
        ],
      }),
      noteHeard: assign({
        notes: ({ context, event }) => fold(context.notes, [event as Emitted]),
      }),
      // Folds the event itself (in place of noteHeard), to compare the notes before and after.
      noteAndReact: enqueueActions(({ context, event, enqueue }) => {
        const after = fold(context.notes, [event as Emitted]);
        const reacts = config.notes?.reacts;
        const answers = reacts ? reacts(event.type, payloadOf(event), after, context.notes) : [];
        const cause = (event as { envelope?: unknown }).envelope;
        for (const e of answers) enqueue.emit({ ...e, causedBy: cause });
        enqueue.assign({ notes: fold(after, answers) });
      }),
      abandonCurrent: enqueueActions(({ context, event, enqueue }) => {
        const current = context.current;
        if (!current || !withdraw(event, current, enqueue.emit)) return;
        enqueue.assign({ current: null, abandoned: context.abandoned + 1 });
      }),
      cancelQueued: enqueueActions(({ context, event, enqueue }) => {
        if (!config.cancels?.on.includes(event.type)) return;
        const kept = context.queue.filter((q) => !withdraw(event, q, enqueue.emit));
        if (kept.length < context.queue.length)
          enqueue.assign({
            queue: kept,
            abandoned: context.abandoned + context.queue.length - kept.length,
          });
      }),
      countRejection: assign({
        rejected: ({ context, event }) => {
          const reason = (read(event, context) as { reject: string }).reject;
          return { ...context.rejected, [reason]: (context.rejected[reason] ?? 0) + 1 };
        },
      }),
      emitRejection: emit(({ context, event }) =>
        rejection(event.type, (read(event, context as Ctx) as { reject: string }).reject),
      ),
      announceStart: enqueueActions(({ context, enqueue }) => {
        const started = config.started?.(req(context), context.attempt);
        if (started) {
          enqueue.emit(caused(started, context));
          enqueue.assign({ notes: fold(context.notes, [started]) });
        }
      }),
      // Every failed attempt is said (the host logs it at warn), not only the last one.
      reportAttempt: emit(({ context, event }, params: { retrying: boolean }) => {
        const job = config.job(req(context as Ctx), (context as Ctx).attempt, '');
        return {
          type: 'daemon.attempt_failed',
          job: `${job.kind} ${(job.input as { config_key?: string }).config_key ?? ''}`.trim(),
          attempt: (context as Ctx).attempt,
          error: (event as Extract<JobFeedback, { type: 'job.failed' }>).error,
          retrying: params.retrying,
        } satisfies AttemptFailed;
      }),
      takeNext: assign(({ context }) => {
        const i = nextIndex(context);
        return {
          current: context.queue[i] ?? null,
          queue: context.queue.filter((_, j) => j !== i),
          attempt: 1,
        };
      }),
    },
    guards: {
      hasQueued: ({ context }) => context.queue.length > 0,
      cancelsCurrent: ({ context, event }) =>
        context.current !== null &&
        config.cancels !== undefined &&
        config.cancels.match(event.type, payloadOf(event), context.current.request) !== null,
      canRetry: ({ context, event }) =>
        context.attempt < maxAttempts &&
        (event as Partial<Extract<JobFeedback, { type: 'job.failed' }>>).retryable !== false,
    },
    delays: {
      retry: ({ context }) => retryDelay(context.attempt),
    },
  }).createMachine({
    id: config.id,
    context: {
      notes: (config.notes?.initial ?? null) as N,
      queue: [],
      current: null,
      attempt: 0,
      lastError: null,
      completed: 0,
      failed: 0,
      abandoned: 0,
      rejected: {},
    },
    initial: 'idle',
    on: {
      ...onTrigger,
      ...Object.fromEntries(
        [...new Set([...(config.notes?.listens ?? []), ...(config.cancels?.on ?? [])])].map((t) => [
          t,
          { actions: ['noteAndReact', 'cancelQueued'] },
        ]),
      ),
    } as never,
    states: {
      idle: {
        tags: ['ready'],
        always: { guard: 'hasQueued', target: 'working', actions: 'takeNext' },
      },
      working: {
        tags: ['ready', 'busy'],
        entry: 'announceStart',
        invoke: {
          src: 'runJob',
          input: ({ context }) =>
            config.job(
              req(context),
              context.attempt,
              (context.current?.cause as { id?: string } | undefined)?.id ?? 'uncaused',
            ),
        },
        on: {
          // Restored from a snapshot in the middle of a job: XState starts the job again (the
          // invoked actor is re-created, not the state entered), so say so again.
          [RESTORED_EVENT]: { actions: 'announceStart' },
          // The running job withdrawn: leaving the state stops its worker.
          ...Object.fromEntries(
            (config.cancels?.on ?? []).map((t) => [
              t,
              {
                guard: 'cancelsCurrent',
                target: 'idle',
                actions: ['noteAndReact', 'cancelQueued', 'abandonCurrent'],
              },
            ]),
          ),
          'job.progress': {
            actions: enqueueActions(({ context, event, enqueue }) => {
              const { progress } = event as Extract<JobFeedback, { type: 'job.progress' }>;
              const emitted = config.progress?.(req(context), progress);
              if (emitted) enqueue.emit(caused(emitted, context));
            }),
          },
          'job.done': {
            target: 'idle',
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const { result } = event as Extract<JobFeedback, { type: 'job.done' }>;
                const answers = config.completed(req(context), result as JobResult<K>);
                for (const e of answers) enqueue.emit(caused(e, context));
                enqueue.assign({ notes: fold(context.notes, answers) });
              }),
              assign(({ context }) => ({
                current: null,
                completed: context.completed + 1,
                lastError: null,
              })),
            ],
          },
          'job.failed': [
            {
              guard: 'canRetry',
              target: 'backingOff',
              actions: [
                { type: 'reportAttempt', params: { retrying: true } },
                assign({
                  lastError: ({ event }) =>
                    (event as Extract<JobFeedback, { type: 'job.failed' }>).error,
                }),
              ],
            },
            {
              target: 'idle',
              actions: [
                { type: 'reportAttempt', params: { retrying: false } },
                enqueueActions(({ context, event, enqueue }) => {
                  const { error } = event as Extract<JobFeedback, { type: 'job.failed' }>;
                  const answers = config.failed(req(context), error, context.attempt);
                  for (const e of answers) enqueue.emit(caused(e, context));
                  enqueue.assign({ notes: fold(context.notes, answers) });
                }),
                assign(({ context, event }) => ({
                  current: null,
                  failed: context.failed + 1,
                  lastError: (event as Extract<JobFeedback, { type: 'job.failed' }>).error,
                })),
              ],
            },
          ],
        },
      },
      backingOff: {
        tags: ['ready'],
        after: {
          retry: {
            target: 'working',
            actions: assign({ attempt: ({ context }) => context.attempt + 1 }),
          },
        },
        on: { [RESTORED_EVENT]: { target: 'backingOff', reenter: true } },
      },
    },
  });
}
