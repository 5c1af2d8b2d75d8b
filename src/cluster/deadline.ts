/**
 * A bound on a NATS call. The client's own request timeouts do not cover every call (a KV `get`
 * was seen to wait for ever after peers were killed), and a presence sweep or a lease renewal that
 * never returns would stall presence or leadership for good: each call gets a deadline, and a
 * call past it counts as failed.
 */
export class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  // The late answer of a call given up on must not become an unhandled rejection.
  promise.catch(() => {});
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
