/**
 * The daemon-machine protocol, in one place.
 *
 * What a daemon's machine receives: the catalog events its spec subscribes to, each as
 * `{ type, payload: PayloadOf<type>, envelope }` (derived from the catalog, so a machine reads
 * only fields the catalog's schema checked), and the host's own `daemon.*` events, declared here
 * once. What it emits is `Emitted` (`emitted.ts`): catalog events whose payloads the compiler
 * checks, rejections and failed attempts.
 *
 * A machine and its spec share one list of subscriptions (`subscriptions(...)`): the machine's
 * event type is derived from it and the spec's `subscribes` is it. XState does not refuse a
 * transition on an event outside the machine's event type (its `on` accepts any key), so
 * `handledEvents()` lists what a machine really handles and a test checks it against the list.
 */
import type { AnyStateMachine } from 'xstate';
import type { EventName, PayloadOf } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';

/** Sent by the host to a machine restored from a snapshot: `after` timers re-enter on it. */
export const RESTORED_EVENT = 'daemon.restored';
/** Sent by the host to ask a machine to finish (reach a final state); one that ignores it is stopped. */
export const STOP_EVENT = 'daemon.stop';

/** The events a daemon's host sends its machine besides catalog events. */
export type HostEvent =
  | { readonly type: typeof RESTORED_EVENT }
  | { readonly type: typeof STOP_EVENT };

/** A catalog event as a daemon machine receives it. */
export interface CatalogEvent<T extends EventName> {
  readonly type: T;
  readonly payload: PayloadOf<T>;
  readonly envelope: Envelope<T>;
}

/** One `CatalogEvent` per subscribed type (a union the machine narrows by `type`). */
export type SubscribedEvent<S extends readonly EventName[]> = {
  [K in S[number]]: CatalogEvent<K>;
}[S[number]];

/**
 * Everything a daemon machine with subscriptions `S` can receive; `Own` adds the events of its
 * own children (a worker's `job.*` feedback).
 */
export type DaemonMachineEvent<
  S extends readonly EventName[],
  Own extends { readonly type: string } = never,
> = SubscribedEvent<S> | HostEvent | Own;

/** A daemon's subscriptions, as a tuple the types are derived from. */
export function subscriptions<const S extends readonly EventName[]>(...types: S): S {
  return types;
}

/**
 * Every event type some state of `machine` has a transition for (its `on` keys, the machine's
 * own included), except XState's internal ones (`xstate.*`: delays, done and error events).
 */
export function handledEvents(machine: AnyStateMachine): string[] {
  const handled = new Set<string>();
  const walk = (node: AnyStateMachine['root']) => {
    for (const type of node.transitions.keys()) if (!type.startsWith('xstate.')) handled.add(type);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return [...handled].sort();
}
