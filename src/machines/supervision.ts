/**
 * The supervisor's decisions, as small pure functions in OTP's words, readable as tables. The
 * supervisor machine and its host call these; tests drive them directly.
 */

/** OTP restart types: permanent always, transient after an abnormal exit, temporary never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** Why a daemon's actor ended. `normal`: it reached its final state by itself. */
export type ExitReason = 'normal' | 'shutdown' | 'error';

export type Strategy = 'one_for_one' | 'rest_for_one';

/**
 * | restart type | normal | shutdown | error   |
 * |--------------|--------|----------|---------|
 * | permanent    | restart| ignore   | restart |
 * | transient    | ignore | ignore   | restart |
 * | temporary    | ignore | ignore   | ignore  |
 *
 * `shutdown` is an exit the supervisor asked for; it is never restarted.
 */
export function decideRestart(restartType: RestartType, exit: ExitReason): 'restart' | 'ignore' {
  if (exit === 'shutdown' || restartType === 'temporary') return 'ignore';
  if (restartType === 'transient') return exit === 'error' ? 'restart' : 'ignore';
  return 'restart';
}

export interface Intensity {
  /** More restarts than this within `periodMs` and the daemon is FAILED. OTP's MaxR; 5. */
  readonly maxRestarts: number;
  /** OTP's MaxT; 10 minutes. */
  readonly periodMs: number;
}

/**
 * Records a restart at `now` and tells whether the intensity is exceeded (OTP's add_restart):
 * restarts older than the period are forgotten.
 */
export function addRestart(
  restarts: readonly number[],
  now: number,
  intensity: Intensity,
): { readonly restarts: readonly number[]; readonly exceeded: boolean } {
  const recent = [...restarts.filter((t) => now - t < intensity.periodMs), now];
  return { restarts: recent, exceeded: recent.length > intensity.maxRestarts };
}

export interface Backoff {
  /** First delay; 1 s. */
  readonly initialMs: number;
  /** Cap; 60 s. */
  readonly maxMs: number;
  /** +/- this fraction of the delay, so that daemons failing together do not restart together; 0.2. */
  readonly jitter: number;
  /** After this long running, the next failure starts from `initialMs` again; 5 min. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = {
  initialMs: 1_000,
  maxMs: 60_000,
  jitter: 0.2,
  resetAfterMs: 300_000,
};
export const DEFAULT_INTENSITY: Intensity = { maxRestarts: 5, periodMs: 600_000 };

/**
 * Delay before restart number `attempt` (1 = first restart after a failure): `initialMs`
 * doubling to `maxMs`, with jitter. `random` is injected so that tests are deterministic.
 */
export function backoffDelay(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const base = Math.min(backoff.initialMs * 2 ** Math.max(0, attempt - 1), backoff.maxMs);
  const spread = base * backoff.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/**
 * Which daemons restart when `child` does, in start order: itself (one_for_one), or itself and
 * every daemon that depends on it, directly or not (rest_for_one).
 */
export function restartSet(
  strategy: Strategy,
  child: string,
  startOrder: readonly string[],
  dependsOn: (daemon: string) => readonly string[],
): string[] {
  if (strategy === 'one_for_one') return [child];
  const affected = new Set([child]);
  for (const daemon of startOrder) {
    if (dependsOn(daemon).some((d) => affected.has(d))) affected.add(daemon);
  }
  return startOrder.filter((d) => affected.has(d));
}
