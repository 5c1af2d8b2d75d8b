import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAEMON_TYPES, PROFILES } from '../../src/actors/daemon-types.js';
import { DependencyCycleError } from '../../src/errors.js';
import { planStart } from '../../src/machines/start-plan.js';
import {
  addRestart,
  backoffDelay,
  DEFAULT_BACKOFF,
  DEFAULT_INTENSITY,
  decideRestart,
  restartSet,
} from '../../src/machines/supervision.js';

describe('decideRestart()', () => {
  it('follows the OTP restart-type x exit-reason table', () => {
    const table = (['permanent', 'transient', 'temporary'] as const).map((type) =>
      (['normal', 'shutdown', 'error'] as const).map((exit) => decideRestart(type, exit)),
    );
    expect(table).toEqual([
      ['restart', 'ignore', 'restart'],
      ['ignore', 'ignore', 'restart'],
      ['ignore', 'ignore', 'ignore'],
    ]);
  });
});

describe('addRestart()', () => {
  it('is exceeded by the sixth restart within ten minutes, and forgets older ones', () => {
    let restarts: readonly number[] = [];
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const r = addRestart(restarts, i * 60_000, DEFAULT_INTENSITY);
      restarts = r.restarts;
      results.push(r.exceeded);
    }
    expect(results).toEqual([false, false, false, false, false, true]);
    // Eleven minutes after the first, the first two no longer count.
    expect(addRestart(restarts, 11 * 60_000, DEFAULT_INTENSITY)).toMatchObject({ exceeded: false });
  });
});

describe('backoffDelay()', () => {
  it('doubles from 1 s to 60 s, with bounded jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(800);
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 0.999999)).toBe(1_200);
  });
});

describe('restartSet()', () => {
  const deps: Record<string, string[]> = { A: [], B: ['A'], C: ['B'], D: ['A'], E: [] };
  const order = ['A', 'B', 'C', 'D', 'E'];
  it('one_for_one restarts the child alone', () => {
    expect(restartSet('one_for_one', 'A', order, (d) => deps[d] ?? [])).toEqual(['A']);
  });
  it('rest_for_one restarts the child and its dependents, in start order', () => {
    expect(restartSet('rest_for_one', 'A', order, (d) => deps[d] ?? [])).toEqual([
      'A',
      'B',
      'C',
      'D',
    ]);
    expect(restartSet('rest_for_one', 'B', order, (d) => deps[d] ?? [])).toEqual(['B', 'C']);
  });
});

describe('planStart()', () => {
  const registry = (names: readonly string[]) =>
    names.map((name) => {
      const info = DAEMON_TYPES[name as keyof typeof DAEMON_TYPES];
      return {
        name,
        dependsOn: info.dependsOn,
        softDependsOn: info.softDependsOn,
        startupOrder: info.startupOrder,
      };
    });

  it("starts the guide's critical daemons in the guide's order, each after its dependencies", () => {
    const plan = planStart(
      registry(['AUTO_SYNC', 'DATA_PIPELINE', 'FEEDBACK_LOOP', 'EVENT_ROUTER']),
    );
    expect(plan.order).toEqual(['EVENT_ROUTER', 'FEEDBACK_LOOP', 'DATA_PIPELINE', 'AUTO_SYNC']);
    // DATA_PIPELINE soft-depends on AUTO_SYNC, which hard-depends on it: reported, not a deadlock.
    expect(plan.softAfter).toEqual([{ daemon: 'DATA_PIPELINE', softDependency: 'AUTO_SYNC' }]);
  });

  it('orders every profile of the original topologically (lesson 15)', () => {
    for (const [profile, members] of Object.entries(PROFILES)) {
      const names = members === 'all' ? Object.keys(DAEMON_TYPES) : members;
      const plan = planStart(registry(names));
      const position = new Map(plan.order.map((n, i) => [n, i]));
      for (const name of names) {
        for (const dep of DAEMON_TYPES[name as keyof typeof DAEMON_TYPES].dependsOn) {
          if (position.has(dep))
            expect(position.get(dep), `${profile}: ${dep} before ${name}`).toBeLessThan(
              position.get(name) ?? -1,
            );
        }
      }
      expect(plan.order).toHaveLength(new Set(names).size);
    }
  });

  it('names the daemons of a cycle', () => {
    const input = [
      { name: 'A', dependsOn: ['C'], softDependsOn: [], startupOrder: null },
      { name: 'B', dependsOn: ['A'], softDependsOn: [], startupOrder: null },
      { name: 'C', dependsOn: ['B'], softDependsOn: [], startupOrder: null },
    ];
    expect(() => planStart(input)).toThrow(DependencyCycleError);
    expect(() => planStart(input)).toThrow('daemon dependencies form a cycle: A -> C -> B -> A');
  });

  it('puts every daemon after its dependencies for random DAGs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 25 }),
        (raw) => {
          // Daemon i may only depend on daemons with a smaller index: a DAG by construction.
          const input = raw.map((deps, i) => ({
            name: `D${i}`,
            dependsOn: i === 0 ? [] : [...new Set(deps.map((d) => `D${d % i}`))],
            softDependsOn: [],
            startupOrder: null,
          }));
          const order = planStart(input).order;
          const position = new Map(order.map((n, i) => [n, i]));
          for (const d of input)
            for (const dep of d.dependsOn)
              expect(position.get(dep)).toBeLessThan(position.get(d.name) ?? -1);
        },
      ),
    );
  });
});
