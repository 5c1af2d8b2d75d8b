/**
 * The local inspector's server without a browser: what it refuses (token, Host, Origin, sending
 * when not allowed, bad input) and what it serves (the page with its policy, the feed).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  InspectorModel,
  InspectorPortError,
  type InspectorServer,
  InvalidOptionError,
  startInspectorServer,
} from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { externalAddresses, rawGet, takenPort } from '../support/http.js';

const logger = pino({ level: 'silent' });
let server: InspectorServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function serve(send?: (type: string, payload: Record<string, unknown>) => string) {
  const model = new InspectorModel();
  model.update('runtime:r', { kind: 'runtime', label: 'runtime r' });
  server = await startInspectorServer({
    model,
    charts: { A: 'stateDiagram-v2\n  [*] --> idle' },
    title: 'test <title>',
    port: 0,
    eventTypes: ['TRAINING_COMPLETED'],
    send,
    tickMs: 50,
    logger,
  });
  const token = new URL(server.url).searchParams.get('token') as string;
  const base = `http://127.0.0.1:${server.port}`;
  return { model, token, base, server };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });

describe('the local inspector server', () => {
  it('serves the page with its token and a policy that allows nothing but itself', async () => {
    const { token, base } = await serve();
    const page = await fetch(`${base}/?token=${token}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain(`content="${token}"`);
    expect(html).toContain('test &lt;title&gt;');
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['inspector.js', 'inspector.css', 'mermaid.min.js']) {
      const response = await fetch(`${base}/assets/${asset}?token=${token}`);
      expect(response.status, asset).toBe(200);
    }
    expect((await fetch(`${base}/assets/../package.json?token=${token}`)).status).toBe(404);
    expect((await fetch(`${base}/nothing?token=${token}`)).status).toBe(404);
  });

  it('refuses a missing or wrong token, a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    const { token, base, server } = await serve();
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(403);
    expect((await fetch(`${base}/api/feed?token=wrong`)).status).toBe(403);
    const rebound = await rawGet(server.port, `/?token=${token}`, {
      Host: `evil.example:${server.port}`,
    });
    expect(rebound).toMatch(/^HTTP\/1\.1 403/);
    const foreign = await rawGet(server.port, `/api/hello?token=${token}`, {
      Host: `127.0.0.1:${server.port}`,
      Origin: 'https://evil.example',
    });
    expect(foreign).toMatch(/^HTTP\/1\.1 403/);
    const own = await rawGet(server.port, `/api/hello?token=${token}`, {
      Host: `localhost:${server.port}`,
      Origin: `http://localhost:${server.port}`,
    });
    expect(own).toMatch(/^HTTP\/1\.1 200/);
  });

  it('listens on the loopback interface only', async () => {
    const { token, server } = await serve();
    const external = externalAddresses();
    for (const address of external)
      await expect(fetch(`http://${address}:${server.port}/?token=${token}`)).rejects.toThrow();
  });

  it('refuses to send when not allowed', async () => {
    const { token, base } = await serve();
    const response = await post(`${base}/api/send?token=${token}`, '{"type":"X"}');
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toMatch(/--inspect-allow-send/);
    const hello = (await (await fetch(`${base}/api/hello?token=${token}`)).json()) as {
      allowSend: boolean;
    };
    expect(hello.allowSend).toBe(false);
  });

  it('when allowed, sends what the catalog accepts and names what was wrong otherwise', async () => {
    const sent: unknown[] = [];
    const { token, base } = await serve((type, payload) => {
      if (type !== 'TRAINING_COMPLETED')
        throw new InvalidOptionError('type', 'an event of the catalog', type);
      sent.push(payload);
      return 'id-1';
    });
    const url = `${base}/api/send?token=${token}`;
    const ok = await post(url, '{"type":"TRAINING_COMPLETED","payload":{"a":1}}');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 'id-1' });
    expect(sent).toEqual([{ a: 1 }]);
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ['{"type":"NOPE"}', {}, 400, /NOPE/],
      ['not json', {}, 400, /not JSON/],
      ['{"payload":{}}', {}, 400, /'type'/],
      ['{"type":"TRAINING_COMPLETED","payload":[1]}', {}, 400, /'payload' must be a JSON object/],
      ['{"type":"TRAINING_COMPLETED"}', { 'Content-Type': 'text/plain' }, 415, /send JSON/],
      [`{"type":"${'x'.repeat(70_000)}"}`, {}, 413, /over 65536 bytes/],
    ];
    for (const [body, headers, status, error] of cases) {
      const response = await post(url, body, headers);
      expect(response.status, body.slice(0, 40)).toBe(status);
      expect(((await response.json()) as { error: string }).error).toMatch(error);
    }
    // A form posted from another site carries its Origin: refused before anything is read.
    const forged = await post(url, '{"type":"TRAINING_COMPLETED"}', {
      Origin: 'https://evil.example',
    });
    expect(forged.status).toBe(403);
    expect(sent).toHaveLength(1);
  });

  it('feeds the tree and new events as Server-Sent Events', async () => {
    const { model, token, base } = await serve();
    const response = await fetch(`${base}/api/feed?token=${token}`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const messages: Record<string, unknown>[] = [];
    let buffer = '';
    const next = async () => {
      while (!buffer.includes('\n\n'))
        buffer += new TextDecoder().decode((await reader.read()).value);
      const [message, ...rest] = buffer.split('\n\n');
      buffer = rest.join('\n\n');
      messages.push(JSON.parse((message as string).replace(/^data: /, '')));
      return messages.at(-1) as Record<string, unknown>;
    };
    const first = await next();
    expect(first.nodes).toEqual([expect.objectContaining({ id: 'runtime:r', kind: 'runtime' })]);
    model.addEvent({
      id: 'e1',
      type: 'TRAINING_COMPLETED',
      source: 'T',
      at: 1,
      host: 'h',
      runtimeId: 'r',
      pid: 1,
      traceId: 'e1',
      correlationId: null,
      parentId: null,
      payload: '{}',
      remote: false,
    });
    model.handled('e1', 'A', 'h');
    const second = await next();
    expect(second.nodes).toBeUndefined(); // the tree did not change
    expect(second.events).toEqual([expect.objectContaining({ id: 'e1' })]);
    expect(second.deliveries).toEqual([['e1', 'A', 'handled', 'h']]);
    await reader.cancel();
  });

  it("a taken port is a typed error naming the option; the runtime's local inspector releases everything", async () => {
    const { port, close } = await takenPort();
    try {
      await expect(
        startInspectorServer({
          model: new InspectorModel(),
          charts: {},
          title: 't',
          port,
          portOption: '--port',
          eventTypes: [],
          logger,
        }),
      ).rejects.toThrow(new InspectorPortError('127.0.0.1', port, 'EADDRINUSE', '--port'));
      const runtime = createRuntime({
        profile: ['A'],
        daemons: [testDaemon('A')],
        dbPath: false,
        logger,
        isolatedRouter: true,
        inspect: 'local',
        inspectPort: port,
      });
      await expect(runtime.start()).rejects.toThrow(/--inspect-port/);
      expect(runtime.router.isClosed).toBe(true);
    } finally {
      close();
    }
  });
});
