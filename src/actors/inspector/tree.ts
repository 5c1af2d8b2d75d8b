/**
 * How both feeds (a runtime's own, and the SQLite file's) name and shape the tree's nodes, so
 * that the page reads one tree whichever fed it: `runtime:<id>` -> `supervisor:<id>` ->
 * `<id>/<DAEMON>` -> `<id>/<DAEMON>/<child>`.
 */
import type { ActorNode, InspectorModel, NodePatch } from './model.js';

export const runtimeNode = (runtimeId: string) => `runtime:${runtimeId}`;
export const supervisorNode = (runtimeId: string) => `supervisor:${runtimeId}`;
export const daemonNode = (runtimeId: string, type: string) => `${runtimeId}/${type}`;

/** A runtime and its supervisor. */
export function addRuntime(model: InspectorModel, runtimeId: string, label: string, host: string) {
  model.update(runtimeNode(runtimeId), { kind: 'runtime', label, host });
  model.update(supervisorNode(runtimeId), {
    kind: 'supervisor',
    parent: runtimeNode(runtimeId),
    label: 'supervisor',
  });
}

/** A worker a daemon runs (an invoked job actor), before its first progress report. */
export function workerNode(
  daemonId: string,
  kind: string,
  host: string,
): NodePatch & Pick<ActorNode, 'kind'> {
  return {
    kind: 'worker',
    parent: daemonId,
    label: `${kind} job`,
    job: kind,
    progress: null,
    host,
  };
}
