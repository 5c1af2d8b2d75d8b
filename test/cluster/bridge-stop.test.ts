/**
 * A runtime that stops while its own cross-host events are still coming back from the stream
 * ends by itself. It did not always: a closed bridge with messages left in its inbound buffer
 * re-scheduled its flush with setImmediate for ever, so `run` never exited after SIGTERM.
 * Nor did a bridge closed while its inbound loop was still starting: the loop went on to read a
 * consumer that no one closed, and the close waited for it for ever. Nor a stop whose server
 * stopped answering: the NATS drain waited for a PONG that did not come.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterBridge } from '../../src/cluster/bridge.js';
import { resolveCluster } from '../../src/cluster/options.js';
import { ensureResources } from '../../src/cluster/stream.js';
import { openEventLog } from '../../src/index.js';
import { memoryLogger } from '../support/memory-logger.js';
import { natsUnavailable, startNats, tempDir } from '../support/nats.js';
import { startFixture } from '../support/processes.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { bridgeRuntime, eventually } from './support.js';

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

  it('stopped while still joining the cluster, at ten moments of the start: the process exits on its own each time', async () => {
    const nats = await startNats();
    try {
      for (const delay of [0, 5, 10, 20, 40, 60, 90, 130, 200, 400]) {
        const p = startFixture('cluster-stop-during-start', [
          nats.url,
          join(dir, `start-${delay}.db`),
          `s${delay}`,
          String(delay),
        ]);
        await p.waitFor(/^STOPPED$/, 30_000);
        const exited = await Promise.race([
          p.exited,
          new Promise((resolve) =>
            setTimeout(() => resolve('still running 10 s after stop'), 10_000),
          ),
        ]);
        if (exited !== 0) p.child.kill('SIGKILL');
        expect(exited, `stopped ${delay} ms after the start; stderr: ${p.stderr()}`).toBe(0);
      }
    } finally {
      await nats.dispose();
    }
  }, 180_000);

  it('closed at once after attach, while its inbound consumer is still being made: the close ends, every time of five', async () => {
    const nats = await startNats();
    const logger = pino({ level: 'silent' });
    const cluster = resolveCluster({ servers: [nats.url], host: 'h' });
    const nc = await connect({ servers: nats.url });
    try {
      const resources = await ensureResources(nc, cluster);
      for (let round = 0; round < 5; round++) {
        const log = openEventLog({ path: join(dir, `attach-${round}.db`), logger });
        const bridge = new ClusterBridge(cluster, log, logger);
        await bridge.attach(nc, resources);
        // Nothing is published: a loop left reading would wait for ever.
        const closed = await Promise.race([
          bridge.close().then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still closing after 5 s'), 5_000)),
        ]);
        expect(closed, `round ${round}`).toBe('closed');
        await log.close();
      }
    } finally {
      await nc.close();
      await nats.dispose();
    }
  }, 60_000);

  it('a server that stops answering during the stop: the stop ends within the bounds of its steps, the drain that overran named in a warning', async () => {
    const nats = await startNats();
    const proxy = await startTcpProxy(nats.port);
    const log = memoryLogger('debug');
    const runtime = bridgeRuntime(join(dir, 'mute.db'), proxy.url, 'mute', log.logger);
    try {
      await runtime.start();
      await eventually(() => runtime.status().cluster?.state === 'ok', 10_000, 'cluster ok');
      // The server gets every byte and none of its answers come back.
      proxy.holdToClients();
      const started = Date.now();
      const stopped = await Promise.race([
        runtime.stop().then(() => 'stopped'),
        new Promise((resolve) => setTimeout(() => resolve('still stopping after 30 s'), 30_000)),
      ]);
      expect(stopped).toBe('stopped');
      // The presence key's delete gives up after 3 s; the drain after 5 s, then it closes.
      // Before the bound, the drain waited about 12 s here (the client's own timers), and on a
      // real server that went quiet it would wait for the ping timer, minutes.
      expect(Date.now() - started).toBeLessThan(12_000);
      const warned = log.atLeast(40).map((r) => r.msg);
      expect(warned).toContain('NATS connection closed without draining it');
      expect(log.records.at(-1)?.msg).toBe('left the cluster');
    } finally {
      proxy.release();
      await proxy.close();
      await nats.dispose();
    }
  }, 60_000);
});
