/**
 * Model-based tests of the six daemons built on the job daemon machine: SELFPLAY_COORDINATOR,
 * AUTO_SYNC, DATA_PIPELINE, the TrainingCoordinator, EVALUATION and MODEL_DISTRIBUTION. One
 * abstract model (queue length, attempt, what a step emits) is explored with xstate/graph; each
 * path, extended by each event, is replayed on each real machine with a faked worker actor and a
 * SimulatedClock. Every state and transition of each real machine must be taken; the coverage is
 * printed per machine.
 */
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, assign, createActor, fromCallback, setup } from 'xstate';
import { evaluationMachine } from '../../src/machines/evaluation/evaluation.js';
import type { JobFeedback } from '../../src/machines/job-daemon.js';
import { createModelDistributionMachine } from '../../src/machines/model/model-distribution.js';
import { createReplicationRepairMachine } from '../../src/machines/recovery/replication-repair.js';
import { createAutoSyncMachine } from '../../src/machines/sync/auto-sync.js';
import { createDataPipelineMachine } from '../../src/machines/sync/data-pipeline.js';
import { createSelfplayCoordinatorMachine } from '../../src/machines/sync/selfplay-coordinator.js';
import { createSyncPlannerMachine } from '../../src/machines/sync/sync-planner.js';

const selfplayCoordinatorMachine = createSelfplayCoordinatorMachine('h');

import { createTrainingCoordinatorMachine } from '../../src/machines/training/training-coordinator.js';
import {
  describeModelBased,
  MachineCoverage,
  type ModelBasedSpec,
  replay,
} from '../support/model-based.js';

const MAX_ATTEMPTS = 3;
const RETRY_MS = 1_000;
/**
 * `reacted`: what a daemon says on an event it only listens to (DATA_PIPELINE's syncs on the
 * Recovery table's events, SELFPLAY_COORDINATOR's rate changes): not the job's business, so the
 * model leaves it out; the tests below check those answers.
 */
type Category =
  | 'started'
  | 'progress'
  | 'completed'
  | 'failed'
  | 'rejected'
  | 'attempt_failed'
  | 'reacted';
type ModelEvent = {
  type:
    | 'REQUEST'
    | 'BAD_REQUEST'
    | 'PROGRESS'
    | 'DONE'
    | 'FAIL'
    | 'RETRY_ELAPSED'
    | 'RESTORED'
    | 'HEARD';
};
const EVENTS: ModelEvent[] = (
  [
    'REQUEST',
    'BAD_REQUEST',
    'PROGRESS',
    'DONE',
    'FAIL',
    'RETRY_ELAPSED',
    'RESTORED',
    'HEARD',
  ] as const
).map((type) => ({ type }));

interface Daemon {
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly trigger: string;
  readonly request: (n: number) => Record<string, unknown>;
  /** For a daemon with several triggers: the event of the n-th request (`trigger` otherwise). */
  readonly requestType?: (n: number) => string;
  /** A payload that lacks what the daemon needs. */
  readonly badRequest: Record<string, unknown>;
  /** False for a daemon whose trigger's schema already guarantees what it needs (`badRequest` is then one it skips). */
  readonly rejects?: boolean;
  readonly result: Record<string, unknown>;
  /** The category of each event type it emits. */
  readonly categories: Readonly<Record<string, Category>>;
  /** Events it listens to only for its notes. */
  readonly heard?: readonly { type: string; payload: Record<string, unknown> }[];
  /** Events heard (for its notes, saying nothing) before the n-th request, so that it is one. */
  readonly before?: (n: number) => readonly { type: string; payload: Record<string, unknown> }[];
  /** Its own tests, whose transitions count in its coverage. */
  readonly more?: (machine: AnyStateMachine, coverage: MachineCoverage) => void;
}

const TRAINING_RESULT = {
  model_path: 'm.pth',
  duration: 1,
  epochs: 2,
  final_loss: 0.5,
  early_stopped: false,
};
const TRAINING_CATEGORIES: Readonly<Record<string, Category>> = {
  TRAINING_STARTED: 'started',
  TRAINING_COMPLETED: 'completed',
  TRAINING_EARLY_STOPPED: 'completed',
  TRAINING_FAILED: 'failed',
};

/** Presence events, heard by the daemons that send work to hosts. */
const HOSTS_HEARD = [
  { type: 'HOST_ONLINE', payload: { host: 't2', daemons: ['CONTINUOUS_TRAINING_LOOP'] } },
  { type: 'HOST_OFFLINE', payload: { host: 't2' } },
];

const DAEMONS: Daemon[] = [
  {
    name: 'SELFPLAY_COORDINATOR',
    machine: selfplayCoordinatorMachine,
    trigger: 'SELFPLAY_TARGET_UPDATED',
    // Every other request is an idle GPU of this host (after a target, so a batch size is known).
    requestType: (n) => (n % 2 === 0 ? 'SELFPLAY_TARGET_UPDATED' : 'IDLE_RESOURCE_DETECTED'),
    request: (n) =>
      n % 2 === 0
        ? { config_key: 'c', target_games: n + 1 }
        : {
            node_id: 'h',
            host: 'h',
            gpu_utilization: 3,
            gpu_memory_gb: 80,
            idle_duration_seconds: 60,
          },
    badRequest: { config_key: 'c', target_games: 0 },
    result: { games_played: 10, db_path: 'x.db', duration_seconds: 1 },
    categories: {
      SELFPLAY_COMPLETE: 'completed',
      TASK_FAILED: 'failed',
      SELFPLAY_RATE_CHANGED: 'reacted',
    },
    more: (machine, coverage) => {
      it("places an idle GPU's batch on a host of the pool where it leads, and withdraws a host's batches when it goes offline", () => {
        // (feedback is set by the worker when the first job starts.)
        jobs.length = 0;
        const actor = createActor(machine, { inspect: coverage.inspect }).start();
        const out: { type: string; payload?: Record<string, unknown>; causedBy?: unknown }[] = [];
        actor.on('*', (e) => void out.push(e as (typeof out)[number]));
        const idle = (host: string, id: string) =>
          actor.send({
            type: 'IDLE_RESOURCE_DETECTED',
            payload: {
              node_id: host,
              host,
              gpu_utilization: 0,
              gpu_memory_gb: 0,
              idle_duration_seconds: 60,
            },
            envelope: { id },
          });
        const online = (host: string, free_slots: number) =>
          actor.send({ type: 'HOST_ONLINE', payload: { host, free_slots } });
        const leader = (leader_id: string) =>
          actor.send({ type: 'LEADER_ELECTED', payload: { leader_id, term: 1 } });
        actor.send({
          type: 'SELFPLAY_TARGET_UPDATED',
          payload: { config_key: 'a', target_games: 10 },
        });
        feedback?.({
          type: 'job.done',
          result: { games_played: 10, db_path: 'x', duration_seconds: 1 },
        });
        online('g1', 1);
        online('g2', 0);
        leader('elsewhere');
        // Another host's GPU is the leader's to fill; one without free slots is not in the pool.
        idle('g1', 'idle-1');
        idle('g2', 'idle-2');
        expect(jobs).toHaveLength(1);
        leader('h');
        idle('g1', 'idle-3');
        idle('g1', 'idle-4');
        expect(jobs.at(-1)?.input).toEqual({ config_key: 'a', games: 10, target_host: 'g1' });
        expect(actor.getSnapshot().context.notes).toMatchObject({ pool: { g1: 1 }, leader: 'h' });
        // This host going offline withdraws nothing of its own; g1 going offline, both its batches.
        actor.send({ type: 'HOST_OFFLINE', payload: { host: 'h' } });
        out.length = 0;
        actor.send({ type: 'HOST_OFFLINE', payload: { host: 'g1', reason: 'lease expired' } });
        expect(out.map((e) => [e.type, e.causedBy, e.payload?.node_id, e.payload?.reason])).toEqual(
          [
            ['TASK_ABANDONED', { id: 'idle-4' }, 'g1', 'g1 went offline'],
            ['TASK_ABANDONED', { id: 'idle-3' }, 'g1', 'g1 went offline'],
          ],
        );
        expect(actor.getSnapshot().context.notes.pool).toEqual({});
        // Back (NODE_RECOVERED before its HOST_ONLINE): in the pool again; its batch's games
        // are said to be on it.
        actor.send({ type: 'NODE_RECOVERED', payload: { node_id: 'g1', incarnation: 'g1-2' } });
        out.length = 0;
        idle('g1', 'idle-5');
        feedback?.({
          type: 'job.done',
          result: { games_played: 10, db_path: 'x', duration_seconds: 1 },
        });
        expect(out.find((e) => e.type === 'SELFPLAY_COMPLETE')?.payload).toMatchObject({
          config_key: 'a',
          host: 'g1',
        });
        actor.stop();
      });
      it('withdraws the running and queued batches of a paused config, each with a TASK_ABANDONED caused by its request', () => {
        feedback = null;
        jobs.length = 0;
        // The machine of the coverage, its worker already the faked one.
        const actor = createActor(machine, { inspect: coverage.inspect }).start();
        const out: { type: string; payload?: Record<string, unknown>; causedBy?: unknown }[] = [];
        actor.on('*', (e) => void out.push(e as (typeof out)[number]));
        const ask = (config: string, id: string) =>
          actor.send({
            type: 'SELFPLAY_TARGET_UPDATED',
            payload: { config_key: config, target_games: 10 },
            envelope: { id },
          });
        ask('a', 'running-a');
        ask('a', 'queued-a');
        ask('b', 'queued-b');
        actor.send({ type: 'TRAINING_PAUSED', payload: { config_key: 'a', reason: 'regression' } });
        expect(out.map((e) => [e.type, e.causedBy])).toEqual([
          ['TASK_ABANDONED', { id: 'queued-a' }],
          ['TASK_ABANDONED', { id: 'running-a' }],
        ]);
        expect(out[0]?.payload).toEqual({
          work_id: 'selfplay:a',
          reason: 'training of a paused: regression',
          component: 'SELFPLAY_COORDINATOR',
          node_id: 'h',
          task_type: 'selfplay',
          config_key: 'a',
          games: 10,
        });
        // b's batch runs now; the aborted one's worker was stopped.
        const { queue, current, abandoned } = actor.getSnapshot().context;
        expect({ queued: queue.length, running: current?.request, abandoned }).toEqual({
          queued: 0,
          running: { config_key: 'b', games: 10, host: 'h' },
          abandoned: 2,
        });
        expect(jobs.map((j) => j.input.config_key)).toEqual(['a', 'b']);
        // A batch asked for while the pause lasts runs (abandoning it made a lone paused
        // config's MasterLoop spin): queued, not answered.
        out.length = 0;
        ask('a', 'late-a');
        expect(out).toEqual([]);
        expect(
          actor.getSnapshot().context.queue.map((q: { request: unknown }) => q.request),
        ).toEqual([{ config_key: 'a', games: 10, host: 'h' }]);
        actor.stop();
      });
    },
    heard: [
      { type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'c', new_games: 5 } },
      {
        type: 'CURRICULUM_REBALANCED',
        payload: { config_key: 'c', old_weights: { c: 1 }, new_weights: { c: 1 } },
      },
      {
        type: 'ELO_VELOCITY_CHANGED',
        payload: { config_key: 'c', velocity: 0, previous_velocity: 20, trend: 'plateau' },
      },
      // Another config's pause withdraws none of c's batches.
      { type: 'TRAINING_PAUSED', payload: { config_key: 'other', reason: 'regression' } },
      // Another host's idle GPU is not this daemon's to fill: skipped.
      {
        type: 'IDLE_RESOURCE_DETECTED',
        payload: {
          node_id: 'x',
          host: 'x',
          gpu_utilization: 3,
          gpu_memory_gb: 80,
          idle_duration_seconds: 60,
        },
      },
    ],
  },
  {
    name: 'AUTO_SYNC',
    machine: createAutoSyncMachine('h', ['t']),
    trigger: 'SELFPLAY_COMPLETE',
    // Every other request is a SYNC_REQUEST (a recovery's retry, ahead of the batches waiting).
    requestType: (n) => (n % 2 === 0 ? 'SELFPLAY_COMPLETE' : 'SYNC_REQUEST'),
    request: (n) =>
      n % 2 === 0
        ? { config_key: 'c', games_played: n }
        : { config_key: 'c', games: n, reason: 'retry', priority: 'high' },
    badRequest: { games_played: 3 },
    result: { games_synced: 3, duration: 1, bytes_transferred: 9 },
    categories: {
      DATA_SYNC_STARTED: 'started',
      DATA_SYNC_COMPLETED: 'completed',
      DATA_SYNC_FAILED: 'failed',
    },
    // Presence and the hosts training (the SyncRouter's view) change the targets, not the work.
    heard: [
      ...HOSTS_HEARD,
      { type: 'NODE_RECOVERED', payload: { node_id: 't2' } },
      { type: 'TRAINING_STARTED', payload: { config_key: 'c', host: 't2' } },
      { type: 'TRAINING_COMPLETED', payload: { config_key: 'c', success: true, host: 't2' } },
      { type: 'TRAINING_FAILED', payload: { config_key: 'c', error: 'x', host: 't2' } },
    ],
  },
  {
    name: 'DATA_PIPELINE',
    machine: createDataPipelineMachine('h'),
    trigger: 'DATA_SYNC_COMPLETED',
    request: (n) => ({ config_key: 'c', host: 'h', games_synced: n }),
    badRequest: { host: 'h', games_synced: 3 },
    result: { samples: 60, npz_path: 'x.npz' },
    categories: {
      NPZ_EXPORT_STARTED: 'started',
      NPZ_EXPORT_COMPLETE: 'completed',
      NEW_GAMES_AVAILABLE: 'completed',
      EXPORT_VALIDATION_FAILED: 'failed',
      SYNC_REQUEST: 'reacted',
      CIRCUIT_BREAKER_OPENED: 'reacted',
      CIRCUIT_BREAKER_CLOSED: 'reacted',
    },
    heard: [
      // The SyncPlanner's catch-up: exported already, skipped.
      {
        type: 'DATA_SYNC_COMPLETED',
        payload: { config_key: 'c', host: 'h', games_synced: 5, sync_type: 'catch_up' },
      },
      {
        type: 'CURRICULUM_ADVANCED',
        payload: { config_key: 'c', old_tier: 'beginner', new_tier: 'easy', trigger_reason: 'x' },
      },
      {
        type: 'ELO_SIGNIFICANT_CHANGE',
        payload: { config_key: 'c', model_id: 'm', new_elo: 1530, old_elo: 1500, games_played: 9 },
      },
      {
        type: 'REPAIR_COMPLETED',
        payload: { config_key: 'c', host: 'h', games_repaired: 2, target_hosts: ['t'] },
      },
      {
        type: 'REPAIR_FAILED',
        payload: { config_key: 'c', host: 'h', error: 'x', games: 2 },
      },
      {
        type: 'ORPHAN_GAMES_DETECTED',
        payload: {
          host: 'h',
          config_key: 'c',
          orphan_count: 1,
          orphan_paths: ['c.db'],
          total_games: 4,
        },
      },
      { type: 'TRAINING_COMPLETED', payload: { config_key: 'c', success: true } },
      { type: 'PROMOTION_FAILED', payload: { config_key: 'c', model_id: 'm', error: 'x' } },
      { type: 'REGRESSION_DETECTED', payload: { config_key: 'c', severity: 'severe' } },
      {
        type: 'QUALITY_SCORE_UPDATED',
        payload: {
          config_key: 'c',
          quality_score: 0.7,
          quality_category: 'medium',
          training_weight: 0.8,
        },
      },
    ],
  },
  {
    name: 'SYNC_PLANNER',
    machine: createSyncPlannerMachine('h'),
    trigger: 'NODE_RECOVERED',
    // The n-th request: training host tn was seen leaving before 5 more games of c were synced.
    before: (n) => [
      { type: 'HOST_ONLINE', payload: { host: `t${n}`, daemons: ['CONTINUOUS_TRAINING_LOOP'] } },
      { type: 'HOST_OFFLINE', payload: { host: `t${n}` } },
      { type: 'DATA_SYNC_COMPLETED', payload: { config_key: 'c', host: 'h', games_synced: 5 } },
    ],
    request: (n) => ({ node_id: `t${n}` }),
    // Nothing to reject (the schema guarantees the host); a host that missed nothing is skipped.
    badRequest: { node_id: 'never-seen' },
    rejects: false,
    result: { games_synced: 5, duration: 1, bytes_transferred: 9 },
    categories: {
      DATA_SYNC_STARTED: 'started',
      DATA_SYNC_COMPLETED: 'completed',
      DATA_SYNC_FAILED: 'failed',
    },
    heard: [
      { type: 'NODE_RECOVERED', payload: { node_id: 'h' } },
      {
        type: 'DATA_SYNC_COMPLETED',
        payload: { config_key: 'c', host: 'h', games_synced: 5, sync_type: 'catch_up' },
      },
    ],
  },
  {
    name: 'REPLICATION_REPAIR',
    machine: createReplicationRepairMachine('h'),
    trigger: 'DATA_SYNC_COMPLETED',
    request: (n) => ({
      config_key: 'c',
      host: 'h',
      games_synced: n,
      games_missing: n + 1,
      target_hosts: ['t'],
    }),
    badRequest: { host: 'h', games_synced: 3, games_missing: 2 },
    result: { games_synced: 3, duration: 1, bytes_transferred: 9 },
    categories: { REPAIR_COMPLETED: 'completed', REPAIR_FAILED: 'failed' },
    // A sync that left nothing missing is not a repair's: skipped.
    heard: [
      { type: 'DATA_SYNC_COMPLETED', payload: { config_key: 'c', host: 'h', games_synced: 3 } },
    ],
  },
  {
    name: 'CONTINUOUS_TRAINING_LOOP',
    machine: createTrainingCoordinatorMachine(2),
    trigger: 'TRAINING_THRESHOLD_REACHED',
    request: (n) => ({ config_key: 'c', games: n }),
    badRequest: { games: 3 },
    result: TRAINING_RESULT,
    categories: TRAINING_CATEGORIES,
  },
  {
    name: 'EVALUATION',
    machine: evaluationMachine,
    trigger: 'EVALUATION_REQUESTED',
    request: (n) => ({ config_key: 'c', model_path: `models/c/gen${n}.pth`, games: 10 }),
    badRequest: { config_key: 'c' },
    result: { elo: 1500, games_played: 10, win_rate: 0.6 },
    categories: {
      EVALUATION_STARTED: 'started',
      EVALUATION_PROGRESS: 'progress',
      EVALUATION_COMPLETED: 'completed',
      EVALUATION_FAILED: 'failed',
    },
  },
  {
    name: 'MODEL_DISTRIBUTION',
    machine: createModelDistributionMachine(['a', 'b']),
    trigger: 'MODEL_PROMOTED',
    // Every other request is a rollback's restored model (the registry's MODEL_UPDATED).
    requestType: (n) => (n % 2 === 0 ? 'MODEL_PROMOTED' : 'MODEL_UPDATED'),
    request: (n) =>
      n % 2 === 0
        ? { config_key: 'c', model_id: `m${n}`, model_path: `m${n}.pth` }
        : {
            config_key: 'c',
            model_id: `m${n}`,
            model_path: `m${n}.pth`,
            stage: 'production',
            reason: 'restored',
          },
    badRequest: { config_key: 'c', model_id: 'm' },
    result: { models_distributed: 1, hosts: ['a', 'b'], duration: 1 },
    categories: {
      MODEL_DISTRIBUTION_STARTED: 'started',
      MODEL_DISTRIBUTION_COMPLETE: 'completed',
      MODEL_DISTRIBUTION_FAILED: 'failed',
    },
    // Metadata only: a new candidate's record changes the notes, not the work.
    heard: [
      ...HOSTS_HEARD,
      {
        type: 'MODEL_UPDATED',
        payload: { config_key: 'c', model_id: 'm9', model_path: 'm9.pth', stage: 'candidate' },
      },
    ],
  },
  {
    // In a cluster: a request the leader addressed to another host is skipped (no change, nothing
    // said), which the model treats like an event heard for notes.
    name: 'CONTINUOUS_TRAINING_LOOP (cluster)',
    machine: createTrainingCoordinatorMachine(2, { host: 'h' }),
    trigger: 'TRAINING_THRESHOLD_REACHED',
    request: (n) => ({ config_key: 'c', games: n, target_host: 'h', job_id: `j${n}` }),
    badRequest: { games: 3, target_host: 'h' },
    result: TRAINING_RESULT,
    categories: TRAINING_CATEGORIES,
    heard: [
      {
        type: 'TRAINING_THRESHOLD_REACHED',
        payload: { config_key: 'c', games: 3, target_host: 'other', job_id: 'x' },
      },
    ],
  },
];

/**
 * The abstract job daemon: `queued` is bounded at 2 to stay finite (the real queue takes
 * everything; the replay does not send a third). `out` is what the step emitted, by category.
 */
function jobModel(emitsStarted: boolean, emitsProgress: boolean, rejects: boolean) {
  type Ctx = { queued: number; attempt: number; out: Category[] };
  const started: Category[] = emitsStarted ? ['started'] : [];
  return setup({
    types: { context: {} as Ctx, events: {} as ModelEvent },
    guards: {
      queued: ({ context }) => context.queued > 0,
      canRetry: ({ context }) => context.attempt < MAX_ATTEMPTS,
      roomInQueue: ({ context }) => context.queued < 2,
    },
  }).createMachine({
    context: { queued: 0, attempt: 0, out: [] },
    initial: 'idle',
    on: {
      REQUEST: [
        {
          guard: 'roomInQueue',
          actions: assign({ queued: ({ context }) => context.queued + 1, out: [] }),
        },
        { actions: assign({ out: [] }) },
      ],
      BAD_REQUEST: { actions: assign({ out: rejects ? ['rejected'] : [] }) },
      // Events that do not apply in the current state emit nothing.
      PROGRESS: { actions: assign({ out: [] }) },
      DONE: { actions: assign({ out: [] }) },
      FAIL: { actions: assign({ out: [] }) },
      RETRY_ELAPSED: { actions: assign({ out: [] }) },
      RESTORED: { actions: assign({ out: [] }) },
      // An event heard only for the daemon's notes: no state change, nothing emitted.
      HEARD: { actions: assign({ out: [] }) },
    },
    states: {
      idle: {
        always: {
          guard: 'queued',
          target: 'working',
          actions: assign({
            queued: ({ context }) => context.queued - 1,
            attempt: 1,
            out: ({ context }) => [...context.out, ...started],
          }),
        },
      },
      working: {
        on: {
          PROGRESS: { actions: assign({ out: emitsProgress ? ['progress'] : [] }) },
          // Restored mid-job: the job runs again, and the daemon says it started again.
          RESTORED: { actions: assign({ out: started }) },
          DONE: { target: 'idle', actions: assign({ out: ['completed'] }) },
          FAIL: [
            {
              guard: 'canRetry',
              target: 'backingOff',
              actions: assign({ out: ['attempt_failed'] }),
            },
            { target: 'idle', actions: assign({ out: ['attempt_failed', 'failed'] }) },
          ],
        },
      },
      backingOff: {
        on: {
          RETRY_ELAPSED: {
            target: 'working',
            actions: assign({ attempt: ({ context }) => context.attempt + 1, out: started }),
          },
          RESTORED: { target: 'backingOff', actions: assign({ out: [] }) },
        },
      },
    },
  });
}

let heardCount = 0;

/** The faked worker: the replay answers for it through `feedback`. */
let feedback: ((f: JobFeedback) => void) | null = null;
const jobs: { input: Record<string, unknown> }[] = [];
const fakeWorker = fromCallback<JobFeedback, { input: Record<string, unknown> }>(
  ({ sendBack, input }) => {
    feedback = sendBack;
    jobs.push(input);
  },
);

function specFor(daemon: Daemon): ModelBasedSpec<ModelEvent> & { machine: AnyStateMachine } {
  const kinds = new Set(Object.values(daemon.categories));
  const machine = daemon.machine.provide({ actors: { runJob: fakeWorker as never } });
  let sent = 0;
  return {
    model: jobModel(kinds.has('started'), kinds.has('progress'), daemon.rejects !== false),
    events: EVENTS,
    machine,
    reset: () => {
      feedback = null;
      sent = 0;
    },
    apply(event, { actor, clock }) {
      const snapshot = actor.getSnapshot();
      const state = String(snapshot.value);
      switch (event.type) {
        case 'REQUEST':
          if (snapshot.context.queue.length < 2) {
            for (const e of daemon.before?.(sent) ?? []) actor.send(e);
            actor.send({
              type: daemon.requestType?.(sent) ?? daemon.trigger,
              payload: daemon.request(sent++),
            });
          }
          return;
        case 'BAD_REQUEST':
          actor.send({ type: daemon.trigger, payload: daemon.badRequest });
          return;
        case 'PROGRESS':
        case 'DONE':
        case 'FAIL':
          if (state === 'working' && feedback)
            feedback(
              event.type === 'PROGRESS'
                ? { type: 'job.progress', progress: { fraction: 0.5 } }
                : event.type === 'DONE'
                  ? { type: 'job.done', result: daemon.result }
                  : { type: 'job.failed', error: 'boom' },
            );
          return;
        case 'RETRY_ELAPSED':
          if (state === 'backingOff') clock.increment(RETRY_MS * snapshot.context.attempt);
          return;
        case 'RESTORED':
          actor.send({ type: 'daemon.restored' });
          return;
        case 'HEARD':
          // Each in turn across the replays (the count is not reset), so that every one is heard.
          if (daemon.heard) actor.send(daemon.heard[heardCount++ % daemon.heard.length]);
          return;
      }
    },
    observe: ({ actor, takeEmitted }) => ({
      state: String(actor.getSnapshot().value),
      out: dedupe(
        takeEmitted()
          .map((e) =>
            e.type === 'daemon.rejected'
              ? 'rejected'
              : e.type === 'daemon.attempt_failed'
                ? 'attempt_failed'
                : (daemon.categories[e.type] ?? e.type),
          )
          .filter((c) => c !== 'reacted'),
      ),
    }),
    predict: (model) => ({ state: String(model.value), out: model.context.out }),
  };
}

/** DATA_PIPELINE answers one completion with two events; the model counts it once. */
const dedupe = (xs: string[]) => xs.filter((x, i) => x !== xs[i - 1]);

for (const daemon of DAEMONS) {
  const spec = specFor(daemon);
  describeModelBased(daemon.name, spec, 30, (coverage) => {
    daemon.more?.(spec.machine, coverage);
    it(
      daemon.rejects === false
        ? 'skips, silently, a request it has no work for'
        : 'names the rejection of a payload that lacks what it needs',
      () => {
        expect(replay(spec, coverage, [{ type: 'BAD_REQUEST' }])).toEqual([
          { state: 'idle', out: daemon.rejects === false ? [] : ['rejected'] },
        ]);
      },
    );
  });
}

describe('job daemon emits in order', () => {
  const spec = specFor(DAEMONS.find((d) => d.name === 'EVALUATION') as Daemon);
  const coverage = new MachineCoverage('EVALUATION', spec.machine);
  it('started, progress, then completed or (after the last attempt) failed', () => {
    const outs = (events: ModelEvent['type'][]) =>
      (
        replay(
          spec,
          coverage,
          events.map((type) => ({ type })),
        ) as { out: string[] }[]
      ).flatMap((o) => o.out);
    expect(outs(['REQUEST', 'PROGRESS', 'DONE'])).toEqual(['started', 'progress', 'completed']);
    expect(outs(['REQUEST', 'FAIL', 'RETRY_ELAPSED', 'FAIL', 'RETRY_ELAPSED', 'FAIL'])).toEqual([
      'started',
      'attempt_failed',
      'started',
      'attempt_failed',
      'started',
      'attempt_failed',
      'failed',
    ]);
  });
});

describe('what the job daemons know beyond their queue', () => {
  const start = (machine: AnyStateMachine) => {
    feedback = null;
    jobs.length = 0;
    return createActor(machine.provide({ actors: { runJob: fakeWorker as never } })).start();
  };

  it("SELFPLAY_COORDINATOR gives this host's idle GPU a batch: the config recommended, else the most starved, of its last target size", () => {
    const actor = start(selfplayCoordinatorMachine);
    const idle = (host: string, recommended?: string) =>
      actor.send({
        type: 'IDLE_RESOURCE_DETECTED',
        payload: {
          node_id: host,
          host,
          gpu_utilization: 2,
          gpu_memory_gb: 80,
          idle_duration_seconds: 900,
          ...(recommended ? { recommended_config: recommended } : {}),
        },
      });
    const done = () =>
      feedback?.({
        type: 'job.done',
        result: { games_played: 1, db_path: 'x', duration_seconds: 1 },
      });
    // Before any target nothing says which config, nor how many games: skipped, no job.
    idle('h');
    expect(jobs).toEqual([]);
    for (const [config, games] of [
      ['hex8_2p', 40],
      ['square8_2p', 60],
    ] as const) {
      actor.send({
        type: 'SELFPLAY_TARGET_UPDATED',
        payload: { config_key: config, target_games: games },
      });
      done();
    }
    actor.send({ type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'hex8_2p', new_games: 500 } });
    jobs.length = 0;
    idle('h');
    done();
    idle('h', 'hex8_2p');
    done();
    // Not a config with a target: the most starved one instead.
    idle('h', 'hex8_4p');
    done();
    // Another host's idle GPU is not this daemon's to fill.
    idle('other');
    expect(jobs.map((j) => j.input)).toEqual([
      { config_key: 'square8_2p', games: 60, target_host: 'h' },
      { config_key: 'hex8_2p', games: 40, target_host: 'h' },
      { config_key: 'square8_2p', games: 60, target_host: 'h' },
    ]);
  });

  it('SELFPLAY_COORDINATOR runs the waiting batch of the config with the fewest new games first', () => {
    const actor = start(selfplayCoordinatorMachine);
    const ask = (config: string) =>
      actor.send({
        type: 'SELFPLAY_TARGET_UPDATED',
        payload: { config_key: config, target_games: 10 },
      });
    ask('busy');
    ask('rich');
    ask('poor');
    actor.send({ type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'rich', new_games: 500 } });
    actor.send({ type: 'NEW_GAMES_AVAILABLE', payload: { config_key: 'poor', new_games: 20 } });
    expect(actor.getSnapshot().context.notes).toEqual({
      gamesAvailable: { rich: 500, poor: 20 },
      targets: { busy: 10, rich: 10, poor: 10 },
      weights: {},
      rates: {},
      pool: {},
      leader: null,
    });
    feedback?.({
      type: 'job.done',
      result: { games_played: 10, db_path: 'x', duration_seconds: 1 },
    });
    feedback?.({
      type: 'job.done',
      result: { games_played: 10, db_path: 'x', duration_seconds: 1 },
    });
    expect(jobs.map((j) => j.input.config_key)).toEqual(['busy', 'poor', 'rich']);
    actor.stop();
  });

  it('DATA_PIPELINE keeps each config at the stage of the last pipeline event it heard or said', () => {
    const actor = start(createDataPipelineMachine('h'));
    const stage = () => actor.getSnapshot().context.notes.stages;
    actor.send({
      type: 'DATA_SYNC_COMPLETED',
      payload: { config_key: 'a', host: 'h', games_synced: 5 },
    });
    expect(stage()).toEqual({ a: 'exporting' });
    feedback?.({ type: 'job.done', result: { samples: 300, npz_path: 'a.npz' } });
    expect(stage()).toEqual({ a: 'exported' });
    actor.send({ type: 'TRAINING_COMPLETED', payload: { config_key: 'a', success: true } });
    expect(stage()).toEqual({ a: 'trained' });
    actor.send({
      type: 'PROMOTION_FAILED',
      payload: { config_key: 'a', model_id: 'm', error: 'x' },
    });
    actor.send({ type: 'TRAINING_COMPLETED', payload: { config_key: 'b', success: false } });
    expect(stage()).toEqual({ a: 'promotion_failed', b: 'training_failed' });
    actor.stop();
  });

  const said = (actor: ReturnType<typeof start>) => {
    const out: { type: string; payload?: Record<string, unknown>; causedBy?: unknown }[] = [];
    actor.on('*', (e) => void out.push(e as (typeof out)[number]));
    return out;
  };

  it('DATA_PIPELINE answers the Recovery table: a sync after a repair, a priority sync of orphans, a breaker on failed repairs', () => {
    const actor = start(createDataPipelineMachine('h'));
    const out = said(actor);
    const repaired = (config: string, games: number) =>
      actor.send({
        type: 'REPAIR_COMPLETED',
        payload: { config_key: config, host: 'h', games_repaired: games, target_hosts: ['t'] },
        envelope: { id: `repaired-${config}-${games}` },
      });
    const failed = (config: string) =>
      actor.send({
        type: 'REPAIR_FAILED',
        payload: { config_key: config, host: 'h', error: 'checksum', games: 3 },
        envelope: { id: 'failed' },
      });
    const summary = () =>
      out.splice(0).map((e) => [e.type, e.payload?.reason, e.payload?.priority, e.payload?.games]);
    actor.send({
      type: 'REPAIR_COMPLETED',
      payload: { config_key: 'a', host: 'gpu-2', games_repaired: 2, target_hosts: ['t'] },
      envelope: { id: 'repaired-elsewhere' },
    });
    // The games are on the repair's source, so the sync goes from there.
    expect(out.splice(0).map((e) => e.payload?.source_host)).toEqual(['gpu-2']);
    repaired('a', 4);
    expect(out[0]?.causedBy).toEqual({ id: 'repaired-a-4' });
    expect(summary()).toEqual([['SYNC_REQUEST', 'repair_completed', 'normal', 4]]);
    failed('a');
    failed('a');
    expect(summary()).toEqual([
      ['SYNC_REQUEST', 'repair_failed', 'normal', 3],
      ['SYNC_REQUEST', 'repair_failed', 'normal', 3],
    ]);
    failed('a');
    expect(out.map((e) => e.payload)).toEqual([
      {
        breaker: 'repair_sync:a',
        config_key: 'a',
        failures: 3,
        reason:
          '3 repairs in a row failed (last: checksum): no more syncs for its failed repairs until one succeeds',
      },
    ]);
    out.length = 0;
    // Open: another failure of a asks for nothing; b's breaker is its own.
    failed('a');
    failed('b');
    expect(summary()).toEqual([['SYNC_REQUEST', 'repair_failed', 'normal', 3]]);
    repaired('a', 2);
    expect(summary()).toEqual([
      ['CIRCUIT_BREAKER_CLOSED', 'a repair succeeded', undefined, undefined],
      ['SYNC_REQUEST', 'repair_completed', 'normal', 2],
    ]);
    expect(actor.getSnapshot().context.notes.repairFailures).toEqual({ b: 1 });
    actor.send({
      type: 'ORPHAN_GAMES_DETECTED',
      payload: {
        host: 'h',
        config_key: 'a',
        orphan_count: 1,
        orphan_paths: ['a.db'],
        total_games: 7,
      },
    });
    expect(summary()).toEqual([['SYNC_REQUEST', 'orphan_games', 'high', 7]]);
    // Tracked only: the tier and the Elo of a significant change.
    actor.send({
      type: 'CURRICULUM_ADVANCED',
      payload: { config_key: 'a', old_tier: 'beginner', new_tier: 'easy', trigger_reason: 'x' },
    });
    actor.send({
      type: 'ELO_SIGNIFICANT_CHANGE',
      payload: { config_key: 'a', model_id: 'm', new_elo: 1540, old_elo: 1500, games_played: 9 },
    });
    expect(out).toEqual([]);
    const { tiers, elo } = actor.getSnapshot().context.notes;
    expect({ tiers, elo }).toEqual({ tiers: { a: 'easy' }, elo: { a: 1540 } });
    actor.stop();
  });

  it('SELFPLAY_COORDINATOR sizes batches by curriculum weight and selfplay rate, and says a rate that changes', () => {
    const actor = start(selfplayCoordinatorMachine);
    const out = said(actor);
    const velocity = (trend: string) =>
      actor.send({
        type: 'ELO_VELOCITY_CHANGED',
        payload: { config_key: 'a', velocity: 0, previous_velocity: 20, trend },
      });
    velocity('plateau');
    velocity('plateau');
    expect(out.map((e) => e.payload)).toEqual([
      { config_key: 'a', old_rate: 1, new_rate: 1.25, reason: 'Elo velocity 0 (plateau)' },
    ]);
    actor.send({
      type: 'CURRICULUM_REBALANCED',
      payload: { config_key: 'a', old_weights: { a: 1, b: 1 }, new_weights: { a: 2, b: 0.5 } },
    });
    for (const config of ['a', 'b']) {
      actor.send({
        type: 'SELFPLAY_TARGET_UPDATED',
        payload: { config_key: config, target_games: 100 },
      });
      feedback?.({
        type: 'job.done',
        result: { games_played: 1, db_path: 'x', duration_seconds: 1 },
      });
    }
    expect(jobs.map((j) => j.input)).toEqual([
      { config_key: 'a', games: 250, target_host: 'h' },
      { config_key: 'b', games: 50, target_host: 'h' },
    ]);
    actor.stop();
  });

  it('REPLICATION_REPAIR copies the missing games to the same targets; games still missing are a failed repair', () => {
    const actor = start(createReplicationRepairMachine('h'));
    const out = said(actor);
    const sync = (missing: number) =>
      actor.send({
        type: 'DATA_SYNC_COMPLETED',
        payload: {
          config_key: 'a',
          host: 'h',
          games_synced: 90,
          games_missing: missing,
          target_hosts: ['t1', 't2'],
        },
      });
    sync(10);
    expect(jobs[0]?.input).toEqual({
      config_key: 'a',
      source_host: 'h',
      target_hosts: ['t1', 't2'],
      games: 10,
      purpose: 'repair',
    });
    feedback?.({
      type: 'job.done',
      result: { games_synced: 8, games_missing: 2, duration: 1, bytes_transferred: 1 },
    });
    sync(4);
    feedback?.({
      type: 'job.done',
      result: { games_synced: 4, duration: 1, bytes_transferred: 1 },
    });
    expect(out.map((e) => [e.type, e.payload])).toEqual([
      [
        'REPAIR_FAILED',
        {
          config_key: 'a',
          host: 'h',
          error: '2 of 10 games still missing after the repair',
          games: 10,
          target_hosts: ['t1', 't2'],
        },
      ],
      [
        'REPAIR_COMPLETED',
        {
          config_key: 'a',
          host: 'h',
          games_repaired: 4,
          target_hosts: ['t1', 't2'],
          duration_seconds: 1,
        },
      ],
    ]);
    actor.stop();
  });

  it('SYNC_PLANNER copies a returning training host the games of the config it missed most, to it alone', () => {
    const actor = start(createSyncPlannerMachine('h'));
    const out = said(actor);
    const synced = (config: string, games: number, sync_type?: string) =>
      actor.send({
        type: 'DATA_SYNC_COMPLETED',
        payload: {
          config_key: config,
          host: 'h',
          games_synced: games,
          ...(sync_type ? { sync_type } : {}),
        },
      });
    actor.send({
      type: 'HOST_ONLINE',
      payload: { host: 't', daemons: ['CONTINUOUS_TRAINING_LOOP'] },
    });
    actor.send({ type: 'HOST_ONLINE', payload: { host: 'e', daemons: ['EVALUATION'] } });
    synced('a', 100);
    actor.send({ type: 'HOST_OFFLINE', payload: { host: 't' } });
    actor.send({ type: 'HOST_OFFLINE', payload: { host: 'e' } });
    synced('a', 30);
    synced('b', 50);
    // Its own catch-ups do not count as games synced.
    synced('b', 500, 'catch_up');
    // Not a training host, and this host itself: nothing to copy.
    actor.send({ type: 'NODE_RECOVERED', payload: { node_id: 'e' } });
    actor.send({ type: 'NODE_RECOVERED', payload: { node_id: 'h' } });
    expect(jobs).toEqual([]);
    actor.send({ type: 'NODE_RECOVERED', payload: { node_id: 't' }, envelope: { id: 'back' } });
    expect(jobs.map((j) => j.input)).toEqual([
      { config_key: 'b', source_host: 'h', target_hosts: ['t'], games: 50, purpose: 'catch_up' },
    ]);
    feedback?.({
      type: 'job.done',
      result: { games_synced: 50, duration: 1, bytes_transferred: 2 },
    });
    expect(out.map((e) => [e.type, e.payload?.sync_type, e.causedBy])).toEqual([
      ['DATA_SYNC_STARTED', 'catch_up', { id: 'back' }],
      ['DATA_SYNC_COMPLETED', 'catch_up', { id: 'back' }],
    ]);
    // Back again with nothing missed since: no second copy.
    actor.send({ type: 'NODE_RECOVERED', payload: { node_id: 't' } });
    expect(jobs).toHaveLength(1);
    actor.stop();
  });

  it('the TrainingCoordinator trains with the learning rate the request carries', () => {
    const actor = start(createTrainingCoordinatorMachine(3));
    actor.send({
      type: 'TRAINING_THRESHOLD_REACHED',
      payload: { config_key: 'a', games: 10, hyperparameters: { learning_rate: 0.0005 } },
    });
    expect(jobs[0]?.input).toEqual({
      config_key: 'a',
      samples: 600,
      epochs: 3,
      learning_rate: 0.0005,
    });
    actor.stop();
  });
});
