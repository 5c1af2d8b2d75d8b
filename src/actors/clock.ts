/**
 * Time as the runtime sees it. XState's `SimulatedClock` satisfies this interface, so handler
 * timeouts, backoff and machines can share one fake clock in tests.
 */
export interface Clock {
  /** Milliseconds; only differences matter. */
  now(): number;
  setTimeout(fn: (...args: unknown[]) => void, timeoutMs: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * Wall-clock time and Node's timers. They keep the process alive, as pending work should (a
 * daemon's backoff, a machine's `after`); bookkeeping timers are unreferenced with `unrefTimer`.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/** Lets a timer of any clock not keep the process alive (a no-op for simulated clocks). */
export function unrefTimer(id: unknown): unknown {
  (id as { unref?: () => void } | null)?.unref?.();
  return id;
}
