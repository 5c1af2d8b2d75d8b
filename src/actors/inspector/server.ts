/**
 * The local inspector's HTTP server: the page and its assets (all from this package and its
 * dependencies: nothing from a CDN), a Server-Sent Events feed of the model, time travel and,
 * when allowed, sending an event. Loopback only, every request checked (`loopback.ts`).
 *
 * One timer serves every page: each tick it lets the feed catch up (`tick`), then sends each
 * page what changed since that page's cursor: the tree when it changed, new events, new
 * deliveries. A page that falls behind by more than the model keeps gets the newest
 * `MAX_EVENTS_PER_TICK` and a count of those it missed.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { CoordinationError } from '../../errors.js';
import type { Logger } from '../logger.js';
import { allowedRequest, LOOPBACK, listenLoopback, newToken } from './loopback.js';
import type { InspectorModel } from './model.js';

export interface InspectorServerOptions {
  readonly model: InspectorModel;
  /** Mermaid source of each daemon type's statechart. */
  readonly charts: Readonly<Record<string, string>>;
  /** Shown in the page's header: what is inspected. */
  readonly title: string;
  /** 8080 by default; 0 picks a free one. */
  readonly port?: number;
  /** The option that sets the port, named when it is taken. */
  readonly portOption?: string;
  /** The catalog's event types, for the send form. */
  readonly eventTypes: readonly string[];
  /** Publishes an event from the page (validated by the catalog); absent: sending is refused. */
  readonly send?: (type: string, payload: Record<string, unknown>) => string;
  /** Called before each tick's updates: the feed catches up (supervisor state, the event log). */
  readonly tick?: () => void;
  readonly tickMs?: number;
  readonly logger: Logger;
}

export interface InspectorServer {
  /** Open this in a browser: it carries the token. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

export const MAX_EVENTS_PER_TICK = 2_000;
const MAX_BODY = 64 * 1024;

const PAGE_DIR = new URL('../../../inspector-page/', import.meta.url);
const ASSETS: Readonly<Record<string, { readonly file: URL | string; readonly type: string }>> = {
  'inspector.js': { file: new URL('inspector.js', PAGE_DIR), type: 'text/javascript' },
  'inspector.css': { file: new URL('inspector.css', PAGE_DIR), type: 'text/css' },
  'mermaid.min.js': {
    file: createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js'),
    type: 'text/javascript',
  },
};

/** The page may load only what this server serves; Mermaid writes inline styles into its SVG. */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

interface Client {
  readonly res: ServerResponse;
  cursor: number;
  version: number;
}

export async function startInspectorServer(
  options: InspectorServerOptions,
): Promise<InspectorServer> {
  const token = newToken();
  const { model } = options;
  const clients = new Set<Client>();
  const cache = new Map<string, Buffer>();
  let port = options.port ?? 8080;

  const asset = (name: string): Buffer => {
    let body = cache.get(name);
    if (!body) {
      const entry = ASSETS[name];
      if (!entry) throw new Error(`no asset ${name}`);
      body = readFileSync(entry.file);
      cache.set(name, body);
    }
    return body;
  };

  const page = readFileSync(new URL('index.html', PAGE_DIR), 'utf8')
    .replaceAll('{{TOKEN}}', token)
    .replaceAll('{{TITLE}}', escapeHtml(options.title));

  const push = (client: Client, initial: boolean) => {
    const message: Record<string, unknown> = { seq: model.lastSeq };
    if (initial || client.version !== model.version) {
      message.nodes = model.nodes();
      client.version = model.version;
    }
    let events = model.eventsAfter(client.cursor);
    if (events.length > MAX_EVENTS_PER_TICK) {
      message.missed = events.length - MAX_EVENTS_PER_TICK;
      events = events.slice(-MAX_EVENTS_PER_TICK);
    }
    if (events.length > 0) message.events = events;
    const deliveries = model.deliveriesAfter(client.cursor);
    if (deliveries.length > 0)
      message.deliveries = deliveries.map((d) => [d.eventId, d.daemon, d.how, d.host]);
    client.cursor = model.lastSeq;
    if (initial || message.nodes || events.length > 0 || deliveries.length > 0)
      client.res.write(`data: ${JSON.stringify(message)}\n\n`);
  };

  const timer = setInterval(() => {
    options.tick?.();
    for (const client of clients) push(client, false);
  }, options.tickMs ?? 250);
  timer.unref();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => void> = {
    'GET /': (_req, res) => {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page);
    },
    'GET /api/charts': (_req, res) => json(res, 200, options.charts),
    'GET /api/hello': (_req, res) =>
      json(res, 200, {
        title: options.title,
        allowSend: options.send !== undefined,
        eventTypes: options.eventTypes,
        limits: model.limits,
      }),
    'GET /api/at': (_req, res, url) => {
      const moment = model.at(url.searchParams.get('event') ?? '');
      if (moment) json(res, 200, moment);
      else json(res, 404, { error: 'that event is no longer kept (or never was)' });
    },
    'GET /api/feed': (req, res) => {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/event-stream',
        Connection: 'keep-alive',
      });
      const client: Client = { res, cursor: 0, version: -1 };
      clients.add(client);
      req.on('close', () => clients.delete(client));
      push(client, true);
    },
    'POST /api/send': (req, res) => {
      const send = options.send;
      if (!send) {
        json(res, 403, { error: 'sending is off: start with --inspect-allow-send to allow it' });
        return;
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        json(res, 415, { error: 'send JSON: {"type": "...", "payload": {...}}' });
        return;
      }
      readBody(req, MAX_BODY).then(
        (body) => {
          let parsed: { type?: unknown; payload?: unknown };
          try {
            parsed = JSON.parse(body) as { type?: unknown; payload?: unknown };
          } catch (error) {
            json(res, 400, { error: `not JSON: ${(error as Error).message}` });
            return;
          }
          if (typeof parsed.type !== 'string') {
            json(res, 400, { error: "'type' must be an event type of the catalog" });
            return;
          }
          const payload = parsed.payload ?? {};
          if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
            json(res, 400, { error: "'payload' must be a JSON object" });
            return;
          }
          try {
            json(res, 200, { id: send(parsed.type, payload as Record<string, unknown>) });
          } catch (error) {
            // The catalog's verdict (unknown type, a payload that fails its schema) is the
            // sender's to read; anything else is ours, logged and reported as such.
            if (error instanceof CoordinationError) json(res, 400, { error: error.message });
            else {
              options.logger.error({ err: error }, 'inspector: sending an event failed');
              json(res, 500, { error: `failed: ${(error as Error).message}` });
            }
          }
        },
        (error: Error) => json(res, 413, { error: error.message }),
      );
    },
  };

  const server = createServer((req, res) => {
    if (!allowedRequest(req, port, token)) {
      res.writeHead(403, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' });
      res.end('forbidden: open the URL the inspector printed (it carries the token)\n');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`);
    const route = routes[`${req.method} ${url.pathname}`];
    if (route) return route(req, res, url);
    const name = url.pathname.startsWith('/assets/') ? url.pathname.slice(8) : '';
    const entry = req.method === 'GET' ? ASSETS[name] : undefined;
    if (!entry) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': entry.type });
    res.end(asset(name));
  });
  port = await listenLoopback(server, port, options.portOption ?? '--inspect-port (inspectPort)');

  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    host: LOOPBACK,
    port,
    stop() {
      clearInterval(timer);
      for (const client of clients) client.res.end();
      clients.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Answered, then the rest is read and dropped: destroying the request would lose the answer.
        reject(new Error(`the body is over ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
