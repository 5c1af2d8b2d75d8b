/**
 * A runtime that stops while its own cross-host events are still coming back from the stream
 * ends by itself. It did not always: a closed bridge with messages left in its inbound buffer
 * re-scheduled its flush with setImmediate for ever, so `run` never exited after SIGTERM.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { natsUnavailable, startNats, tempDir } from '../support/nats.js';
import { startFixture } from '../support/processes.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`bridge stop test not run: ${unavailable}`);

describe.skipIf(unavailable !== null)('bridge stop (real nats-server)', () => {
  const dir = tempDir('ringrift-bridge-stop-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stopping mid-stream: the process exits on its own, every time of five', async () => {
    const nats = await startNats();
    try {
      for (let round = 0; round < 5; round++) {
        const p = startFixture('cluster-stop-process', [
          nats.url,
          join(dir, `h${round}.db`),
          `h${round}`,
        ]);
        await p.waitFor(/^STOPPED$/, 30_000);
        const exited = await Promise.race([
          p.exited,
          new Promise((resolve) =>
            setTimeout(() => resolve('still running 10 s after stop'), 10_000),
          ),
        ]);
        if (exited !== 0) p.child.kill('SIGKILL');
        expect(exited, `round ${round}`).toBe(0);
      }
    } finally {
      await nats.dispose();
    }
  }, 120_000);
});
