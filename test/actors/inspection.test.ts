import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { InspectionEvent } from 'xstate';
import { createRuntime, InspectorPortError } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { externalAddresses, rawGet, takenPort } from '../support/http.js';
import { until } from '../support/log.js';
import { freePort } from '../support/nats.js';

/** A one-daemon runtime with the Stately inspector on `port`. */
const statelyRuntime = (port: number) =>
  createRuntime({
    profile: ['A'],
    daemons: [testDaemon('A')],
    dbPath: false,
    logger: pino({ level: 'silent' }),
    inspect: 'stately',
    inspectPort: port,
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
    // The daemons, their lifecycles, and the effects the lifecycles invoke (start, watch, stop).
    expect([...actors].sort()).toEqual([
      'A',
      'B',
      'lifecycle:A',
      'lifecycle:B',
      'start',
      'stop',
      'watch',
    ]);
  });

  it("'stately' starts the inspector server on the loopback interface only and stops it with the runtime", async () => {
    const port = await freePort();
    const runtime = statelyRuntime(port);
    await runtime.start();
    const url = runtime.inspectorUrl as string;
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[0-9a-f]{32}$`));
    const token = new URL(url).searchParams.get('token') as string;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`ws://127.0.0.1:${port}/?token=${token}`);
    // Not from the network: every other address of this machine is refused.
    const external = externalAddresses();
    for (const address of external)
      await expect(fetch(`http://${address}:${port}/?token=${token}`)).rejects.toThrow();
    // A page on the machine: the stream of a runtime's own inspector reaches it, late too.
    const page1 = new WebSocket(`ws://127.0.0.1:${port}/?token=${token}`, {
      origin: `http://127.0.0.1:${port}`,
    });
    const received: string[] = [];
    page1.on('message', (d) => received.push(d.toString()));
    await new Promise((r) => page1.once('open', r));
    await until(() => received.some((m) => m.includes('"@xstate.actor"')));
    // What a page (or anyone holding only the printed token) sends is relayed to nobody.
    const other = new WebSocket(`ws://127.0.0.1:${port}/?token=${token}`);
    await new Promise((r) => other.once('open', r));
    other.send('{"type":"@xstate.event","forged":true}');
    const late = new WebSocket(`ws://127.0.0.1:${port}/?token=${token}`);
    const replayed: string[] = [];
    late.on('message', (d) => replayed.push(d.toString()));
    await until(() => replayed.some((m) => m.includes('"@xstate.actor"')));
    await new Promise((r) => setTimeout(r, 100));
    expect([...received, ...replayed].some((m) => m.includes('forged'))).toBe(false);
    for (const ws of [page1, other, late]) ws.close();
    await until(() => runtime.status().daemons[0]?.ready === true);
    await runtime.stop();
    await expect(fetch(url)).rejects.toThrow();
  });

  it("'stately' refuses a wrong token, a foreign Origin and a foreign Host (DNS rebinding)", async () => {
    const port = await freePort();
    const runtime = statelyRuntime(port);
    await runtime.start();
    const token = new URL(runtime.inspectorUrl as string).searchParams.get('token') as string;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(403);
      expect((await fetch(`http://127.0.0.1:${port}/?token=wrong`)).status).toBe(403);
      const rebound = await rawGet(port, `/?token=${token}`, { Host: `evil.example:${port}` });
      expect(rebound).toMatch(/^HTTP\/1\.1 403/);
      const refused = (options: { path: string; origin?: string }) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}${options.path}`, {
            origin: options.origin,
          });
          ws.on('open', () => {
            ws.close();
            resolve('opened');
          });
          ws.on('unexpected-response', (_, res) => resolve(`refused ${res.statusCode}`));
          ws.on('error', () => resolve('refused'));
        });
      // Cross-site WebSocket hijacking: a page of another site that knows nothing, or even the token.
      expect(await refused({ path: `/?token=${token}`, origin: 'https://evil.example' })).toMatch(
        /^refused/,
      );
      expect(await refused({ path: '/', origin: `http://127.0.0.1:${port}` })).toMatch(/^refused/);
      expect(await refused({ path: '/?token=nope' })).toMatch(/^refused/);
      expect(await refused({ path: `/?token=${token}`, origin: `http://localhost:${port}` })).toBe(
        'opened',
      );
    } finally {
      await runtime.stop();
    }
  });

  it("'stately' on a port that is taken: a typed error naming the port, and the runtime released", async () => {
    const { port, close } = await takenPort();
    try {
      const runtime = statelyRuntime(port);
      await expect(runtime.start()).rejects.toThrow(
        new InspectorPortError('127.0.0.1', port, 'EADDRINUSE'),
      );
      expect(runtime.router.isClosed).toBe(true);
    } finally {
      close();
    }
  });
});

/** A GET with headers fetch() will not send (it sets Host itself). */
