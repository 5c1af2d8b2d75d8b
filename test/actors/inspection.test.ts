import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { InspectionEvent } from 'xstate';
import { createRuntime } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('inspection', () => {
  it('passes an inspection observer to every actor (daemons and their lifecycles)', async () => {
    const actors = new Set<string>();
    const runtime = createRuntime({
      profile: ['A', 'B'],
      daemons: [testDaemon('A'), testDaemon('B', { dependsOn: ['A'] })],
      dbPath: false,
      logger: pino({ level: 'silent' }),
      inspect: (event: InspectionEvent) => {
        if (event.type === '@xstate.actor')
          actors.add((event.actorRef as unknown as { id: string }).id);
      },
    });
    await runtime.start();
    await until(() => runtime.status().daemons.every((d) => d.ready));
    await runtime.stop();
    expect([...actors].sort()).toEqual(['A', 'B', 'lifecycle:A', 'lifecycle:B']);
  });

  it("'stately' starts the inspector server on the loopback interface only and stops it with the runtime", async () => {
    const port = await freePort();
    const runtime = createRuntime({
      profile: ['A'],
      daemons: [testDaemon('A')],
      dbPath: false,
      logger: pino({ level: 'silent' }),
      inspect: 'stately',
      inspectPort: port,
    });
    await runtime.start();
    expect(runtime.inspectorUrl).toBe(`http://127.0.0.1:${port}`);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`ws://127.0.0.1:${port}`);
    // Not from the network: every other address of this machine is refused.
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a?.address as string);
    console.log(
      `inspector refused on: ${external.join(', ') || '(no external IPv4 address here)'}`,
    );
    for (const address of external)
      await expect(fetch(`http://${address}:${port}/`)).rejects.toThrow();
    // The relay: what a client sends reaches a page that connected before, and one that comes late.
    const page1 = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: string[] = [];
    page1.on('message', (d) => received.push(d.toString()));
    await new Promise((r) => page1.once('open', r));
    const sender = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r) => sender.once('open', r));
    sender.send('{"type":"@xstate.event"}');
    await until(() => received.includes('{"type":"@xstate.event"}'));
    // The runtime's own inspector streams through the same relay.
    expect(received.some((m) => m.includes('"@xstate.actor"'))).toBe(true);
    const late = new WebSocket(`ws://127.0.0.1:${port}`);
    const replayed: string[] = [];
    late.on('message', (d) => replayed.push(d.toString()));
    await until(() => replayed.includes('{"type":"@xstate.event"}'));
    for (const ws of [page1, sender, late]) ws.close();
    await until(() => runtime.status().daemons[0]?.ready === true);
    await runtime.stop();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
