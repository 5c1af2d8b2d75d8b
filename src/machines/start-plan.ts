/**
 * The start plan: a topological order of a profile's daemons by hard dependency (lesson 15: the
 * original's critical-first reordering was a partition, not a topological order, and started one
 * daemon before its own dependency). Ties go to the guide's critical order, then the original's
 * startup order, then the name. Soft dependencies order a daemon after them when they can without
 * a cycle; one that cannot (AUTO_SYNC soft-depends on nothing, but DATA_PIPELINE soft-depends on
 * AUTO_SYNC, which hard-depends on DATA_PIPELINE) is reported, and not waited for.
 */
import { DependencyCycleError } from '../errors.js';

/** The guide's critical order: events must have subscribers before their emitters start. */
export const CRITICAL_ORDER: readonly string[] = [
  'EVENT_ROUTER',
  'FEEDBACK_LOOP',
  'DATA_PIPELINE',
  'AUTO_SYNC',
];

export interface PlanInput {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly softDependsOn: readonly string[];
  readonly startupOrder: number | null;
}

export interface StartPlan {
  readonly order: readonly string[];
  /** Soft dependencies that start later than the daemon wanting them (would form a cycle). */
  readonly softAfter: readonly { readonly daemon: string; readonly softDependency: string }[];
}

/**
 * @throws {DependencyCycleError} naming the daemons of a hard-dependency cycle.
 * Dependencies outside `daemons` are ignored here (the registry validates that they exist; the
 * profile decides whether they run).
 */
export function planStart(daemons: readonly PlanInput[]): StartPlan {
  const byName = new Map(daemons.map((d) => [d.name, d]));
  const edges = new Map<string, Set<string>>(daemons.map((d) => [d.name, new Set<string>()]));
  for (const d of daemons)
    for (const dep of d.dependsOn) if (byName.has(dep)) edges.get(d.name)?.add(dep);
  const cycle = findCycle(edges);
  if (cycle) throw new DependencyCycleError(cycle);
  const softAfter: { daemon: string; softDependency: string }[] = [];
  for (const d of daemons) {
    for (const soft of d.softDependsOn) {
      if (!byName.has(soft) || soft === d.name) continue;
      edges.get(d.name)?.add(soft);
      if (findCycle(edges)) {
        edges.get(d.name)?.delete(soft);
        softAfter.push({ daemon: d.name, softDependency: soft });
      }
    }
  }
  const rank = (name: string): [number, number, string] => {
    const critical = CRITICAL_ORDER.indexOf(name);
    return [
      critical === -1 ? CRITICAL_ORDER.length : critical,
      byName.get(name)?.startupOrder ?? 1e9,
      name,
    ];
  };
  const before = (a: string, b: string) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2].localeCompare(rb[2]);
  };
  const remaining = new Map([...edges].map(([n, deps]) => [n, new Set(deps)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining]
      .filter(([, deps]) => deps.size === 0)
      .map(([n]) => n)
      .sort(before);
    const next = ready[0] as string; // never empty: there is no cycle
    order.push(next);
    remaining.delete(next);
    for (const deps of remaining.values()) deps.delete(next);
  }
  return { order, softAfter };
}

/** A cycle in `edges` (daemon -> its dependencies), first daemon repeated at the end, or null. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of edges.get(node) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...edges.keys()].sort()) {
    const found = visit(node);
    if (found) return found;
  }
  return null;
}
