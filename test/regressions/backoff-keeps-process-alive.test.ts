// Found by bench/runtime: the real clock's timers were unreferenced, so a process whose only
// pending work was a daemon's restart backoff exited in the middle of it (code 13).
import { expect, it } from 'vitest';
import { startFixture } from '../support/processes.js';

it('keeps the process alive while a daemon waits for its restart', async () => {
  const fixture = startFixture('backoff-process');
  await fixture.waitFor(/^RESTARTED$/, 10_000);
  expect(await fixture.exited).toBe(0);
});
