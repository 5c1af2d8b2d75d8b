/**
 * Issue 9.5: every await of a durable consumer's catch-up resolved as a microtask, so over a
 * 20,000-event backlog a 1 ms interval fired once in 2.4 s: heartbeats (and so the lease),
 * signal handlers and stdin waited for the whole backlog. The loop now yields at a bound.
 */
import { afterEach, expect, it } from 'vitest';
import { subscribeDurable } from '../../src/index.js';
import { type LogFixture, logFixture, until } from '../support/log.js';

let f: LogFixture;
afterEach(() => f?.close());

it('a durable consumer catching up on 20,000 events lets timers run throughout', async () => {
  f = logFixture();
  const batch = 1_000;
  for (let i = 0; i < 20_000; i += batch) {
    for (let j = 0; j < batch; j++)
      f.otherRouter.publish('TRAINING_COMPLETED', {
        config_key: `c${(i + j) % 7}`,
        success: true,
        duration: 1,
      });
    await f.otherRouter.flush();
  }
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  let handled = 0;
  const started = performance.now();
  const sub = await subscribeDurable(
    f.log,
    'catch-up',
    ['TRAINING_COMPLETED'],
    () => {
      handled++;
    },
    { startAt: 'earliest' },
  );
  try {
    await until(() => handled === 20_000, 120_000, 'the backlog');
  } finally {
    clearInterval(interval);
  }
  const ms = performance.now() - started;
  console.log(
    `caught up on 20,000 events in ${ms.toFixed(0)} ms; a 1 ms interval fired ${ticks} times`,
  );
  // Yielding at least every 20 ms (or 200 events): the interval gets a turn that often.
  expect(ticks).toBeGreaterThanOrEqual(Math.floor(ms / 100));
  expect(ticks).toBeGreaterThan(10);
  await sub.stop();
}, 180_000);
