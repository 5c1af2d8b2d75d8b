/** Runs a runtime on XState's SimulatedClock: time moves only when a test says so. */
import { SimulatedClock } from 'xstate';

export interface SimulatedTime {
  readonly clock: SimulatedClock;
  /** Lets promises and I/O run and fires the simulated timers that are due now. */
  settle(): Promise<void>;
  /** Moves time on by `ms`, in steps of `stepMs`, settling after each step. */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** Advances in steps until `check()` holds; returns the simulated time it took. */
  advanceUntil(check: () => boolean, limitMs?: number, stepMs?: number): Promise<number>;
}

export function simulatedTime(): SimulatedTime {
  const clock = new SimulatedClock();
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      clock.increment(0);
      await new Promise((r) => setImmediate(r));
    }
  };
  return {
    clock,
    settle,
    async advance(ms, stepMs = 100) {
      for (let t = 0; t < ms; t += stepMs) {
        clock.increment(Math.min(stepMs, ms - t));
        await settle();
      }
    },
    async advanceUntil(check, limitMs = 600_000, stepMs = 100) {
      let waited = 0;
      await settle();
      while (!check()) {
        if (waited >= limitMs)
          throw new Error(`condition not reached within ${limitMs} simulated ms`);
        clock.increment(stepMs);
        waited += stepMs;
        await settle();
      }
      return waited;
    },
  };
}
