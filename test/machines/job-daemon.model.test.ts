/**
 * Model-based test of the job daemon machine shared by SELFPLAY_COORDINATOR, AUTO_SYNC,
 * DATA_PIPELINE, the TrainingCoordinator, EVALUATION and MODEL_DISTRIBUTION. An abstract model
 * (queue length, attempt) is explored with xstate/graph; each path, extended by each event, is
 * replayed on the real machine with a controllable worker actor and a SimulatedClock. Every state
 * and transition of the real machine must be taken; the coverage is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { assign, createActor, fromCallback, SimulatedClock, setup } from 'xstate';
import { getShortestPaths, toDirectedGraph } from 'xstate/graph';
import { createJobDaemonMachine, type JobFeedback } from '../../src/machines/job-daemon.js';

const MAX_ATTEMPTS = 3;
type ModelEvent =
  | { type: 'REQUEST' }
  | { type: 'BAD_REQUEST' }
  | { type: 'PROGRESS' }
  | { type: 'DONE' }
  | { type: 'FAIL' }
  | { type: 'RETRY_ELAPSED' }
  | { type: 'RESTORED' };
const EVENTS: ModelEvent[] = (
  ['REQUEST', 'BAD_REQUEST', 'PROGRESS', 'DONE', 'FAIL', 'RETRY_ELAPSED', 'RESTORED'] as const
).map((type) => ({ type }));

const model = setup({
  types: { context: {} as { queued: number; attempt: number }, events: {} as ModelEvent },
  guards: {
    queued: ({ context }) => context.queued > 0,
    canRetry: ({ context }) => context.attempt < MAX_ATTEMPTS,
    roomInQueue: ({ context }) => context.queued < 2,
  },
}).createMachine({
  context: { queued: 0, attempt: 0 },
  initial: 'idle',
  on: {
    REQUEST: {
      guard: 'roomInQueue',
      actions: assign({ queued: ({ context }) => context.queued + 1 }),
    },
  },
  states: {
    idle: {
      always: {
        guard: 'queued',
        target: 'working',
        actions: assign({ queued: ({ context }) => context.queued - 1, attempt: 1 }),
      },
    },
    working: {
      on: {
        DONE: 'idle',
        FAIL: [{ guard: 'canRetry', target: 'backingOff' }, { target: 'idle' }],
      },
    },
    backingOff: {
      on: {
        RETRY_ELAPSED: {
          target: 'working',
          actions: assign({ attempt: ({ context }) => context.attempt + 1 }),
        },
        RESTORED: 'backingOff',
      },
    },
  },
});

interface Request {
  readonly n: number;
}

const machine = createJobDaemonMachine<'export', Request>({
  id: 'jobDaemon',
  triggers: ['NEW_GAMES_AVAILABLE'],
  toRequest: (_, p) => (typeof p.n === 'number' ? { n: p.n } : { reject: 'no n' }),
  job: (r, attempt, causeId) => ({
    kind: 'export',
    idempotencyKey: `${r.n}:${attempt}:${causeId}`,
    input: { config_key: 'c', games: r.n },
  }),
  started: (r) => ({ type: 'NPZ_EXPORT_STARTED', payload: { n: r.n } }),
  progress: (r) => ({ type: 'EVALUATION_PROGRESS', payload: { n: r.n } }),
  completed: (r) => [{ type: 'NPZ_EXPORT_COMPLETE', payload: { n: r.n } }],
  failed: (r) => [{ type: 'EXPORT_VALIDATION_FAILED', payload: { n: r.n } }],
  maxAttempts: MAX_ATTEMPTS,
  retryDelayMs: (attempt) => 1_000 * attempt,
});

const covered = new Set<string>();
const statesSeen = new Set<string>();

function replay(events: readonly ModelEvent[]): { states: string[]; emitted: string[] } {
  const clock = new SimulatedClock();
  let sendBack: ((e: JobFeedback) => void) | null = null;
  const actor = createActor(
    machine.provide({
      actors: {
        runJob: fromCallback<JobFeedback>(({ sendBack: s }) => {
          sendBack = s;
        }) as never,
      },
    }),
    { clock },
  );
  const emitted: string[] = [];
  actor.on('*', (e) => void emitted.push((e as { type: string }).type));
  actor.start();
  const states: string[] = [];
  let n = 0;
  for (const e of events) {
    const before = String(actor.getSnapshot().value);
    const ctxBefore = JSON.stringify(actor.getSnapshot().context);
    let sent = '';
    switch (e.type) {
      case 'REQUEST':
        // The model bounds the queue at 2 to stay finite; the real one takes everything.
        if (actor.getSnapshot().context.queue.length < 2) {
          actor.send({ type: 'NEW_GAMES_AVAILABLE', payload: { n: n++ } });
          sent = 'NEW_GAMES_AVAILABLE';
        }
        break;
      case 'BAD_REQUEST':
        actor.send({ type: 'NEW_GAMES_AVAILABLE', payload: {} });
        sent = 'NEW_GAMES_AVAILABLE';
        break;
      case 'PROGRESS':
      case 'DONE':
      case 'FAIL':
        if (before === 'working' && sendBack) {
          const feedback: JobFeedback =
            e.type === 'PROGRESS'
              ? { type: 'job.progress', progress: { fraction: 0.5 } }
              : e.type === 'DONE'
                ? { type: 'job.done', result: {} }
                : { type: 'job.failed', error: 'boom' };
          (sendBack as (f: JobFeedback) => void)(feedback);
          sent = feedback.type;
        }
        break;
      case 'RETRY_ELAPSED':
        if (before === 'backingOff') {
          clock.increment(1_000 * actor.getSnapshot().context.attempt);
          sent = 'after';
        }
        break;
      case 'RESTORED':
        actor.send({ type: 'daemon.restored' });
        sent = 'daemon.restored';
        break;
    }
    const after = String(actor.getSnapshot().value);
    if (
      sent &&
      (before !== after ||
        JSON.stringify(actor.getSnapshot().context) !== ctxBefore ||
        sent === 'daemon.restored' ||
        sent === 'job.progress')
    ) {
      covered.add(`${before}|${sent}|${after}`);
    }
    statesSeen.add(after);
    states.push(after);
  }
  actor.stop();
  return { states, emitted };
}

function realTransitions(): Set<string> {
  const all = new Set<string>();
  const states = Object.keys(machine.root.states);
  const walk = (node: ReturnType<typeof toDirectedGraph>) => {
    for (const edge of node.edges) {
      const event = edge.label.text.startsWith('xstate.after') ? 'after' : edge.label.text;
      if (edge.source.key === 'jobDaemon') {
        // A root (targetless) transition: it applies in every state.
        for (const s of states) all.add(`${s}|${event}|${s}`);
      } else {
        all.add(`${edge.source.key}|${event}|${edge.target.key}`);
      }
    }
    for (const child of node.children) walk(child);
  };
  walk(toDirectedGraph(machine));
  return all;
}

describe('job daemon machine (model-based)', () => {
  it('agrees with the model on every path', () => {
    const paths = getShortestPaths(model, { events: EVENTS });
    let replayed = 0;
    for (const path of paths) {
      const prefix = path.steps
        .map((s) => s.event)
        .filter((e) => (e.type as string) !== 'xstate.init') as ModelEvent[];
      for (const next of EVENTS) {
        const events = [...prefix, next];
        const modelActor = createActor(model).start();
        const expected = events.map((e) => {
          modelActor.send(e);
          return String(modelActor.getSnapshot().value);
        });
        expect(replay(events).states, events.map((e) => e.type).join(' ')).toEqual(expected);
        replayed++;
      }
    }
    expect(replayed).toBeGreaterThan(30);
  });

  it('emits started, progress, then completed or (after the last attempt) failed', () => {
    const ok = replay([{ type: 'REQUEST' }, { type: 'PROGRESS' }, { type: 'DONE' }]).emitted;
    expect(ok).toEqual(['NPZ_EXPORT_STARTED', 'EVALUATION_PROGRESS', 'NPZ_EXPORT_COMPLETE']);
    const failing: ModelEvent[] = [
      { type: 'REQUEST' },
      { type: 'FAIL' },
      { type: 'RETRY_ELAPSED' },
      { type: 'FAIL' },
      { type: 'RETRY_ELAPSED' },
      { type: 'FAIL' },
    ];
    expect(replay(failing).emitted).toEqual([
      'NPZ_EXPORT_STARTED',
      'NPZ_EXPORT_STARTED',
      'NPZ_EXPORT_STARTED',
      'EXPORT_VALIDATION_FAILED',
    ]);
    expect(replay([{ type: 'BAD_REQUEST' }]).emitted).toEqual(['daemon.rejected']);
  });

  afterAll(() => {
    const all = realTransitions();
    // idle's `always` is not in toDirectedGraph; it is taken whenever a request starts work.
    all.add('idle|always|working');
    if (statesSeen.has('working')) covered.add('idle|always|working');
    const missing = [...all].filter((t) => !covered.has(t));
    const states = Object.keys(machine.root.states);
    console.log(
      `job daemon coverage: states ${states.filter((s) => statesSeen.has(s)).length}/${states.length}, transitions ${all.size - missing.length}/${all.size}`,
    );
    expect(missing, 'transitions no path took').toEqual([]);
  });
});
