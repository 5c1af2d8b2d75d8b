/**
 * Model-based testing of a daemon machine: an abstract model (a small XState machine over the
 * few facts that matter) is explored with xstate/graph; every shortest path, extended by every
 * event, is replayed on the real machine, and after each step what the model predicts must be
 * what the real actor shows. Coverage is measured on the real machine by transition identity
 * (XState's microstep inspection names the transition definitions it took), so a guarded branch
 * counts only when that branch ran.
 */

import { afterAll, describe, expect, it } from 'vitest';
import {
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type InspectionEvent,
  SimulatedClock,
} from 'xstate';
import { getShortestPaths } from 'xstate/graph';

type TransitionDef = {
  readonly source: { readonly id: string };
  readonly eventType: string;
  readonly target?: readonly { readonly id: string }[];
};
type StateNodeLike = {
  readonly id: string;
  readonly path: readonly string[];
  readonly states: Record<string, StateNodeLike>;
  readonly transitions: Map<string, TransitionDef[]>;
  readonly always?: TransitionDef[];
};

/** The transitions and states of one real machine that any replay took. */
export class MachineCoverage {
  private readonly transitions = new Map<TransitionDef, string>();
  private readonly taken = new Set<TransitionDef>();
  private readonly states: StateNodeLike[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly name: string,
    private readonly machine: AnyStateMachine,
  ) {
    const walk = (node: StateNodeLike) => {
      if (node.path.length > 0) this.states.push(node);
      const lists = [...node.transitions.values(), node.always ?? []];
      for (const list of lists) {
        list.forEach((t, i) => {
          const targets = t.target?.map((s) => s.id).join(',') ?? '(stays)';
          const branch = list.length > 1 ? `[${i + 1}/${list.length}]` : '';
          this.transitions.set(
            t,
            `${t.source.id} --${t.eventType || 'always'}${branch}--> ${targets}`,
          );
        });
      }
      for (const child of Object.values(node.states)) walk(child);
    };
    walk(machine.root as unknown as StateNodeLike);
  }

  /** The inspect callback to give every actor of this machine. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.microstep') return;
    for (const t of event._transitions as unknown as TransitionDef[]) {
      if (this.transitions.has(t)) this.taken.add(t);
    }
    this.see(event.snapshot as AnyMachineSnapshot);
  };

  see(snapshot: AnyMachineSnapshot): void {
    for (const node of this.states) {
      if (snapshot.matches(node.path.join('.') as never)) this.seen.add(node.id);
    }
  }

  missingTransitions(): string[] {
    return [...this.transitions].filter(([t]) => !this.taken.has(t)).map(([, label]) => label);
  }

  missingStates(): string[] {
    return this.states.filter((s) => !this.seen.has(s.id)).map((s) => s.id);
  }

  summary(): string {
    const states = this.states.length;
    const transitions = this.transitions.size;
    return `${this.name} coverage: states ${states - this.missingStates().length}/${states}, transitions ${transitions - this.missingTransitions().length}/${transitions}`;
  }

  /** Same machine object as the one the actors run? Coverage is by identity. */
  covers(machine: AnyStateMachine): boolean {
    return machine === this.machine;
  }
}

export type Emitted = { readonly type: string; readonly [key: string]: unknown };

/** The real actor under test, with what it emitted since the last step. */
export interface Sut {
  readonly actor: AnyActorRef;
  readonly clock: SimulatedClock;
  /** Events the actor emitted (`emit`) since the last call. */
  takeEmitted(): Emitted[];
}

export interface ModelBasedSpec<ME extends { type: string }> {
  readonly model: AnyStateMachine;
  readonly events: readonly ME[];
  readonly machine: AnyStateMachine;
  readonly input?: unknown;
  /** Applies a model event to the real actor (or does nothing when it does not apply now). */
  apply(event: ME, sut: Sut): void;
  /** What of the real actor the model predicts, after each step. */
  observe(sut: Sut): unknown;
  /** The same, read from the model's snapshot. */
  predict(model: AnyMachineSnapshot): unknown;
  /** Called before each replay (e.g. to reset a faked worker). */
  reset?(): void;
}

/** Replays one sequence of model events on a fresh real actor; the observations after each step. */
export function replay<ME extends { type: string }>(
  spec: ModelBasedSpec<ME>,
  coverage: MachineCoverage,
  events: readonly ME[],
): unknown[] {
  spec.reset?.();
  const clock = new SimulatedClock();
  const actor = createActor(spec.machine, { clock, input: spec.input, inspect: coverage.inspect });
  let emitted: Emitted[] = [];
  actor.on('*', (e) => void emitted.push(e as Emitted));
  actor.start();
  const sut: Sut = {
    actor,
    clock,
    takeEmitted: () => {
      const out = emitted;
      emitted = [];
      return out;
    },
  };
  sut.takeEmitted();
  const observed = events.map((e) => {
    spec.apply(e, sut);
    return spec.observe(sut);
  });
  actor.stop();
  return observed;
}

/**
 * Runs every shortest path of the model, each extended by every event, on the real machine and
 * returns how many sequences were compared. `check(expected, actual, label)` asserts.
 */
export function exploreModel<ME extends { type: string }>(
  spec: ModelBasedSpec<ME>,
  coverage: MachineCoverage,
  check: (actual: unknown[], expected: unknown[], label: string) => void,
): number {
  if (!coverage.covers(spec.machine)) throw new Error('coverage is for another machine object');
  const paths = getShortestPaths(spec.model, { events: spec.events as never });
  let compared = 0;
  for (const path of paths) {
    const prefix = path.steps
      .map((s) => s.event as unknown as ME)
      .filter((e) => e.type !== 'xstate.init');
    for (const next of spec.events) {
      const events = [...prefix, next];
      const model = createActor(spec.model).start();
      const expected = events.map((e) => {
        model.send(e as never);
        return spec.predict(model.getSnapshot());
      });
      model.stop();
      check(replay(spec, coverage, events), expected, events.map((e) => e.type).join(' '));
      compared++;
    }
  }
  return compared;
}

/**
 * The suite of one machine: every path agrees with the model (at least `minCompared` sequences),
 * `more` adds the machine's own tests, and at the end the coverage is printed and must be whole.
 */
export function describeModelBased<ME extends { type: string }>(
  name: string,
  spec: ModelBasedSpec<ME>,
  minCompared: number,
  more?: (coverage: MachineCoverage) => void,
): void {
  describe(`${name} (model-based)`, () => {
    const coverage = new MachineCoverage(name, spec.machine);
    it('agrees with the model on every path', () => {
      const compared = exploreModel(spec, coverage, (actual, expected, label) =>
        expect(actual, label).toEqual(expected),
      );
      expect(compared).toBeGreaterThanOrEqual(minCompared);
    });
    more?.(coverage);
    afterAll(() => {
      console.log(coverage.summary());
      expect(coverage.missingStates(), `${name}: states no path reached`).toEqual([]);
      expect(coverage.missingTransitions(), `${name}: transitions no path took`).toEqual([]);
    });
  });
}
