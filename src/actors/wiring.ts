/**
 * Checks declared event wiring (who says it subscribes to and emits what) against the catalog
 * and against the subscriptions that really exist. A pure function of its inputs, so the CLI's
 * `wiring check` and the router's `validateWiring` give the same answer.
 */
import { resolveEventType } from '../events/aliases.js';
import type { EventName } from '../events/catalog/index.js';

/** Component name -> the event types it declares. Any accepted spelling of a type is fine. */
export type DeclaredWiring = Readonly<
  Record<string, { readonly subscribes?: readonly string[]; readonly emits?: readonly string[] }>
>;

export interface WiringReport {
  /** False when a declared type is unknown or a declared subscription does not exist. */
  readonly ok: boolean;
  readonly unknownTypes: readonly { component: string; type: string; message: string }[];
  /** Declared subscriptions with no live subscription behind them. */
  readonly notSubscribed: readonly { component: string; type: EventName }[];
  /** Subscribed types no component declares it emits (warning: maybe emitted elsewhere). */
  readonly noEmitter: readonly EventName[];
  /** Emitted types nobody subscribes to, declared or live (warning). */
  readonly noSubscriber: readonly EventName[];
  /** One line per problem, errors first. */
  readonly problems: readonly string[];
}

export function checkWiring(
  declared: DeclaredWiring,
  livePatterns: ReadonlySet<string>,
): WiringReport {
  const unknownTypes: { component: string; type: string; message: string }[] = [];
  const notSubscribed: { component: string; type: EventName }[] = [];
  const subscribed = new Set<EventName>();
  const emitted = new Set<EventName>();
  const resolve = (component: string, type: string): EventName | null => {
    try {
      return resolveEventType(type).name;
    } catch (error) {
      unknownTypes.push({ component, type, message: (error as Error).message });
      return null;
    }
  };
  for (const [component, decl] of Object.entries(declared)) {
    for (const type of decl.subscribes ?? []) {
      const name = resolve(component, type);
      if (!name) continue;
      subscribed.add(name);
      if (!livePatterns.has(name) && !livePatterns.has('*'))
        notSubscribed.push({ component, type: name });
    }
    for (const type of decl.emits ?? []) {
      const name = resolve(component, type);
      if (name) emitted.add(name);
    }
  }
  const noEmitter = [...subscribed].filter((t) => !emitted.has(t)).sort();
  const noSubscriber = [...emitted]
    .filter((t) => !subscribed.has(t) && !livePatterns.has(t) && !livePatterns.has('*'))
    .sort();
  const problems = [
    ...unknownTypes.map((u) => `${u.component}: ${u.message}`),
    ...notSubscribed.map(
      (n) => `${n.component} declares a subscription to ${n.type} that does not exist`,
    ),
    ...noEmitter.map((t) => `${t} is subscribed to but no declared component emits it`),
    ...noSubscriber.map((t) => `${t} is emitted but nobody subscribes to it`),
  ];
  return {
    ok: unknownTypes.length === 0 && notSubscribed.length === 0,
    unknownTypes,
    notSubscribed,
    noEmitter,
    noSubscriber,
    problems,
  };
}
