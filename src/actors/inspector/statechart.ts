/**
 * A machine's statechart as Mermaid source, drawn from its definition: the diagrams under
 * `diagrams/` and the local inspector's statechart view both come from here, so what the page
 * highlights is the diagram that is committed.
 */
import type { AnyStateMachine } from 'xstate';
import { toDirectedGraph } from 'xstate/graph';

type Graph = ReturnType<typeof toDirectedGraph>;

/** A Mermaid state diagram of a machine's top-level states and transitions. */
export function stateDiagram(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const root = machine.root;
  const initial = String(root.initial?.target?.[0]?.key ?? Object.keys(root.states)[0]);
  lines.push(`  [*] --> ${initial}`);
  const seen = new Set<string>();
  const graph = toDirectedGraph(machine);
  // Transitions of the machine itself (handled in every state) have no state to start from:
  // drawn as a note, not as a state of the machine's name that nothing else connects to.
  const everywhere: string[] = [];
  const walk = (node: Graph) => {
    for (const edge of node.edges) {
      const label = edge.label.text.startsWith('xstate.after') ? 'after delay' : edge.label.text;
      if (edge.source === graph.stateNode) {
        if (!everywhere.includes(label)) everywhere.push(label);
        continue;
      }
      const line = `  ${edge.source.key} --> ${edge.target.key}: ${label}`;
      if (!seen.has(line)) {
        seen.add(line);
        lines.push(line);
      }
    }
    for (const child of node.children) walk(child);
  };
  walk(graph);
  for (const [key, state] of Object.entries(root.states)) {
    for (const t of state.always ?? []) {
      for (const target of t.target ?? []) {
        const line = `  ${key} --> ${target.key}: (always)`;
        if (!seen.has(line)) {
          seen.add(line);
          lines.push(line);
        }
      }
    }
    if (state.type === 'final') lines.push(`  ${key} --> [*]`);
  }
  if (everywhere.length > 0)
    lines.push(`  note right of ${initial} : in every state, handles ${everywhere.join(', ')}`);
  return lines.join('\n');
}
