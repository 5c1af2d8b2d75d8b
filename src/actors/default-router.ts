/**
 * The process-wide router behind `getRouter()` and the module-level `publish` / `subscribe`,
 * for code that, like the original guide's, does not pass a router around.
 *
 * One per process (lesson 4: the original had three buses and three subscriber populations):
 * while a runtime runs, its router is the process router, so a host program that follows the
 * guide's Quick Start next to `createRuntime` publishes where the daemons hear. A second router
 * in a process exists only on explicit request (`createRouter`, `isolatedRouter: true`).
 */
import { ProcessRouterTakenError } from '../errors.js';
import type { EventName, PayloadInput } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import {
  createRouter,
  type Handler,
  type PublishOptions,
  type Router,
  type RouterOptions,
  type SubscribeOptions,
  type Unsubscribe,
} from './router.js';

let singleton: Router | null = null;
/** The runtime whose router is the process router, while it runs. */
let owner: string | null = null;

/**
 * The process singleton, created on first use (with `options`, if given then).
 * A closed singleton is replaced by a fresh one.
 * @example
 * getRouter().subscribe('TRAINING_COMPLETED', onTrainingCompleted);
 */
export function getRouter(options?: RouterOptions): Router {
  if (!singleton || singleton.isClosed) {
    owner = null;
    singleton = createRouter({ name: 'default', ...options });
  }
  return singleton;
}

/**
 * Makes a runtime's router the process router until `release()`. A default router that nobody
 * used yet is replaced; one with subscriptions or events, or another runtime's, is not: its
 * subscribers would silently stop hearing anything.
 * @throws {ProcessRouterTakenError}
 */
export function adoptProcessRouter(router: Router, runtimeId: string): () => void {
  if (singleton && !singleton.isClosed && singleton !== router) {
    const used =
      Object.keys(singleton.getSubscriptionCounts()).length > 0 ||
      singleton.getStats().published > 0;
    if (owner !== null || used)
      throw new ProcessRouterTakenError(runtimeId, owner, singleton.getSubscriptionCounts());
    void singleton.close();
  }
  singleton = router;
  owner = runtimeId;
  return () => {
    if (singleton !== router) return;
    singleton = null;
    owner = null;
  };
}

/** Closes and forgets the singleton (tests, shutdown). */
export async function resetRouter(): Promise<void> {
  const router = singleton;
  singleton = null;
  owner = null;
  if (router) await router.close();
}

/**
 * `getRouter().publish(...)`.
 * @example
 * publish('TRAINING_COMPLETED', { config_key: 'hex8_2p', success: true, duration: 812 }, { source: 'training_daemon' });
 */
export function publish<T extends EventName>(
  type: T,
  payload?: PayloadInput<T>,
  options?: PublishOptions,
): Envelope<T>;
export function publish(
  type: string,
  payload?: Record<string, unknown>,
  options?: PublishOptions,
): Envelope;
export function publish(
  type: string,
  payload?: Record<string, unknown>,
  options?: PublishOptions,
): Envelope {
  return getRouter().publish(type, payload, options);
}

/**
 * `getRouter().subscribe(...)`.
 * @example
 * const off = subscribe('MODEL_PROMOTED', (e) => distribute(e.payload.model_id));
 */
export function subscribe<T extends EventName>(
  type: T,
  handler: Handler<Envelope<T>>,
  options?: SubscribeOptions,
): Unsubscribe;
export function subscribe(
  type: string,
  handler: Handler<Envelope>,
  options?: SubscribeOptions,
): Unsubscribe;
export function subscribe(
  type: string,
  handler: Handler<Envelope>,
  options?: SubscribeOptions,
): Unsubscribe {
  return getRouter().subscribe(type, handler, options);
}
