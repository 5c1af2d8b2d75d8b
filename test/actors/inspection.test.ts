import { createServer } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
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

  it("'stately' starts the inspector server on localhost and stops it with the runtime", async () => {
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
    expect(runtime.inspectorUrl).toBe(`http://localhost:${port}`);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('ws://localhost');
    await until(() => runtime.status().daemons[0]?.ready === true);
    await runtime.stop();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
