/**
 * Model-based tests of the Recovery section's daemons: PIPELINE_RECOVERY (the guide's
 * RecoveryOrchestrator). The abstract model keeps, per kind of work, the attempts so far and the
 * retries scheduled; the real machine runs on XState's SimulatedClock, so a retry's backoff is
 * time that the replay makes pass.
 */
import { expect, it } from 'vitest';
import { assign, createActor, SimulatedClock, setup } from 'xstate';
import { orphanDetectionMachine } from '../../src/machines/recovery/orphan-detection.js';
import { pipelineRecoveryMachine } from '../../src/machines/recovery/pipeline-recovery.js';
import { catalogEvent } from '../support/catalog-event.js';
import { describeModelBased, type Emitted } from '../support/model-based.js';

type Step = { type: string };
const steps = (names: readonly string[]) => names.map((type) => ({ type }));
const MAX = 2;
const INPUT = { baseDelayMs: 1_000, maxAttempts: MAX };

type Ctx = { known: boolean; t: number; s: number; pt: number; ps: number; out: string[] };
const failed =
  (kind: 't' | 's') =>
  ({ context }: { context: Ctx }) => {
    const pending = kind === 't' ? 'pt' : 'ps';
    const name = kind === 't' ? 'training' : 'sync';
    // The replay sends no third failure while two retries wait (see apply): nothing happens.
    if (context[pending] >= 2) return { out: [] };
    if (kind === 't' && !context.known) return { out: ['rejected'] };
    const attempt = context[kind] + 1;
    if (attempt > MAX) return { [kind]: 0, out: [`RECOVERY_FAILED:${name}`] };
    return {
      [kind]: attempt,
      [pending]: context[pending] + 1,
      out: [`RECOVERY_INITIATED:${name}`],
    };
  };
const succeeded =
  (kind: 't' | 's') =>
  ({ context }: { context: Ctx }) =>
    context[kind] > 0
      ? { [kind]: 0, out: [`RECOVERY_COMPLETED:${kind === 't' ? 'training' : 'sync'}`] }
      : { out: [] };
const model = setup({ types: { context: {} as Ctx, events: {} as Step } }).createMachine({
  context: { known: false, t: 0, s: 0, pt: 0, ps: 0, out: [] },
  on: {
    REQUEST_C: { actions: assign({ known: true, out: [] }) },
    TRAIN_FAIL_C: { actions: assign(failed('t')) },
    TRAIN_FAIL_UNKNOWN: { actions: assign({ out: ['rejected'] }) },
    TRAIN_OK_C: { actions: assign(succeeded('t')) },
    SYNC_FAIL_C: { actions: assign(failed('s')) },
    SYNC_FAIL_UNNAMED: { actions: assign({ out: ['rejected'] }) },
    SYNC_OK_C: { actions: assign(succeeded('s')) },
    RETRIES_DUE: {
      actions: assign(({ context }) => ({
        pt: 0,
        ps: 0,
        out: [
          ...Array(context.t > 0 ? context.pt : 0).fill('TRAINING_THRESHOLD_REACHED:c'),
          ...Array(context.s > 0 ? context.ps : 0).fill('SYNC_REQUEST:c'),
        ].sort(),
      })),
    },
  },
});
const EVENTS: Record<string, () => unknown> = {
  REQUEST_C: () =>
    catalogEvent('TRAINING_THRESHOLD_REACHED', {
      config_key: 'c',
      games: 500,
      hyperparameters: { learning_rate: 0.0009 },
    }),
  TRAIN_FAIL_C: () => catalogEvent('TRAINING_FAILED', { config_key: 'c', error: 'CUDA OOM' }),
  TRAIN_FAIL_UNKNOWN: () => catalogEvent('TRAINING_FAILED', { config_key: 'd', error: 'x' }),
  TRAIN_OK_C: () =>
    catalogEvent('TRAINING_COMPLETED', {
      config_key: 'c',
      success: true,
      duration: 1,
      model_path: 'm.pth',
    }),
  SYNC_FAIL_C: () =>
    catalogEvent('DATA_SYNC_FAILED', {
      host: 'h',
      error: 'rsync: connection reset',
      config_key: 'c',
      games: 100,
    }),
  SYNC_FAIL_UNNAMED: () => catalogEvent('DATA_SYNC_FAILED', { host: 'h', error: 'x' }),
  SYNC_OK_C: () =>
    catalogEvent('DATA_SYNC_COMPLETED', {
      host: 'h',
      games_synced: 100,
      duration: 1,
      config_key: 'c',
    }),
};
const pendingOf = (context: { pending: readonly { component: string }[] }, component: string) =>
  context.pending.filter((p) => p.component === component).length;

describeModelBased(
  'PIPELINE_RECOVERY',
  {
    model,
    events: steps([...Object.keys(EVENTS), 'RETRIES_DUE']),
    machine: pipelineRecoveryMachine,
    input: INPUT,
    apply: (e, { actor, clock }) => {
      if (e.type === 'RETRIES_DUE') {
        clock.increment(10_000);
        return;
      }
      const context = actor.getSnapshot().context;
      if (e.type === 'TRAIN_FAIL_C' && pendingOf(context, 'training') >= 2) return;
      if (e.type === 'SYNC_FAIL_C' && pendingOf(context, 'sync') >= 2) return;
      actor.send(EVENTS[e.type]?.() as never);
    },
    observe: ({ takeEmitted }) =>
      takeEmitted()
        .map((e) =>
          e.type === 'daemon.rejected'
            ? 'rejected'
            : e.type.startsWith('RECOVERY_')
              ? `${e.type}:${(e.payload as { component: string }).component}`
              : `${e.type}:${(e.payload as { config_key: string }).config_key}`,
        )
        .sort(),
    predict: (m) => [...m.context.out].sort(),
  },
  100,
  (coverage) => {
    it('retries with the last request after the backoff, doubling, and says why it gave up', () => {
      const clock = new SimulatedClock();
      const out: Emitted[] = [];
      const actor = createActor(pipelineRecoveryMachine, {
        clock,
        input: INPUT,
        inspect: coverage.inspect,
      });
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      actor.send(EVENTS.REQUEST_C?.() as never);
      actor.send(EVENTS.TRAIN_FAIL_C?.() as never);
      clock.increment(999);
      expect(out.map((e) => e.type)).toEqual(['RECOVERY_INITIATED']);
      clock.increment(1);
      expect(out[1]).toMatchObject({
        type: 'TRAINING_THRESHOLD_REACHED',
        payload: { config_key: 'c', games: 500, hyperparameters: { learning_rate: 0.0009 } },
      });
      actor.send(EVENTS.TRAIN_FAIL_C?.() as never);
      expect(out[2]).toMatchObject({ payload: { attempt_number: 2, delay_seconds: 2 } });
      clock.increment(2_000);
      actor.send(EVENTS.TRAIN_FAIL_C?.() as never);
      expect(out.at(-1)).toMatchObject({
        type: 'RECOVERY_FAILED',
        payload: {
          component: 'training',
          config_key: 'c',
          error: 'CUDA OOM',
          message: 'gave up on training of c after 2 retries: CUDA OOM',
        },
      });
    });

    it('schedules the retries a restored snapshot was waiting for again', () => {
      const first = createActor(pipelineRecoveryMachine, {
        clock: new SimulatedClock(),
        input: INPUT,
      });
      first.start();
      first.send(EVENTS.SYNC_FAIL_C?.() as never);
      const snapshot = first.getPersistedSnapshot();
      first.stop();
      const clock = new SimulatedClock();
      const out: Emitted[] = [];
      const restored = createActor(pipelineRecoveryMachine, {
        clock,
        input: INPUT,
        snapshot,
        inspect: coverage.inspect,
      });
      restored.on('*', (e) => void out.push(e as Emitted));
      restored.start();
      restored.send({ type: 'daemon.restored' });
      clock.increment(1_000);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({
        type: 'SYNC_REQUEST',
        payload: {
          config_key: 'c',
          games: 100,
          priority: 'high',
          reason: 'retry 1 of a failed sync: rsync: connection reset',
          // From the host that holds the games (the failure's host), not from wherever this runs.
          source_host: 'h',
        },
        // The retry answers the failure, although it fires from a timer.
        causedBy: { type: 'DATA_SYNC_FAILED' },
      });
    });
  },
);

// ---- ORPHAN_DETECTION: config a's batches of 10 games, syncs that carry some or all of them,
// and the RecoveryOrchestrator giving up on a sync (of a; of a training; of no config). ----
type OrphanCtx = { unsynced: number; out: string[] };
const orphanModel = setup({
  types: { context: {} as OrphanCtx, events: {} as Step },
}).createMachine({
  context: { unsynced: 0, out: [] },
  on: {
    // The replay plays no third batch while two wait (see apply): the count stays bounded.
    SELFPLAY: {
      actions: assign(({ context }) => ({
        unsynced: context.unsynced >= 20 ? context.unsynced : context.unsynced + 10,
        out: [],
      })),
    },
    SYNC_ALL: { actions: assign({ unsynced: 0, out: [] }) },
    SYNC_PART: {
      actions: assign(({ context }) => ({ unsynced: Math.max(0, context.unsynced - 6), out: [] })),
    },
    GIVE_UP: {
      actions: assign(({ context }) => ({
        out: context.unsynced > 0 ? [`ORPHAN_GAMES_DETECTED:${context.unsynced}`] : [],
      })),
    },
    GIVE_UP_TRAINING: { actions: assign({ out: [] }) },
    GIVE_UP_NAMELESS: { actions: assign({ out: ['daemon.rejected'] }) },
  },
});
const gaveUp = (component: string, config?: string) =>
  catalogEvent('RECOVERY_FAILED', {
    component,
    message: 'gave up',
    error: 'x',
    ...(config ? { config_key: config } : {}),
  });
const ORPHAN_EVENTS: Record<string, () => unknown> = {
  SELFPLAY: () =>
    catalogEvent('SELFPLAY_COMPLETE', { config_key: 'a', games_played: 10, db_path: 'a.db' }),
  // 30 carried: more than any count the model reaches, so all of them.
  SYNC_ALL: () =>
    catalogEvent('DATA_SYNC_COMPLETED', {
      config_key: 'a',
      host: 'h',
      games_synced: 28,
      games_missing: 2,
      duration: 1,
    }),
  SYNC_PART: () =>
    catalogEvent('DATA_SYNC_COMPLETED', {
      config_key: 'a',
      host: 'h',
      games_synced: 6,
      duration: 1,
    }),
  GIVE_UP: () => gaveUp('sync', 'a'),
  GIVE_UP_TRAINING: () => gaveUp('training', 'a'),
  GIVE_UP_NAMELESS: () => gaveUp('sync'),
};
describeModelBased(
  'ORPHAN_DETECTION',
  {
    model: orphanModel,
    events: steps(Object.keys(ORPHAN_EVENTS)),
    machine: orphanDetectionMachine,
    input: { host: 'h' },
    apply: (e, { actor }) => {
      const waiting = actor.getSnapshot().context.unsynced.a?.games ?? 0;
      if (e.type === 'SELFPLAY' && waiting >= 20) return;
      actor.send(ORPHAN_EVENTS[e.type]?.() as never);
    },
    observe: ({ takeEmitted }) =>
      takeEmitted().map((e) =>
        e.type === 'ORPHAN_GAMES_DETECTED'
          ? `${e.type}:${(e.payload as { total_games: number }).total_games}`
          : e.type,
      ),
    predict: (m) => m.context.out,
  },
  40,
  () => {
    it('names the host, the config and the databases of the orphaned games', () => {
      const out: Emitted[] = [];
      const actor = createActor(orphanDetectionMachine, { input: { host: 'h' } });
      actor.on('*', (e) => void out.push(e as Emitted));
      actor.start();
      actor.send(ORPHAN_EVENTS.SELFPLAY?.() as never);
      actor.send(
        catalogEvent('SELFPLAY_COMPLETE', {
          config_key: 'a',
          games_played: 5,
          db_path: 'a2.db',
        }) as never,
      );
      actor.send(ORPHAN_EVENTS.GIVE_UP?.() as never);
      expect(out.map((e) => e.payload)).toEqual([
        {
          host: 'h',
          config_key: 'a',
          orphan_count: 2,
          orphan_paths: ['a.db', 'a2.db'],
          total_games: 15,
        },
      ]);
    });
  },
);
