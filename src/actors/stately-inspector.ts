/**
 * `inspect: 'stately'`: the Stately inspector for a runtime, on this machine. A small bridge
 * server (an HTTP page and a WebSocket relay, as `@statelyai/inspect/server` has) bound to the
 * loopback interface only: the inspection stream shows every event and context, so it must not
 * be reachable from the network, and the library's own server listens on every interface and
 * takes no host. A WebSocket inspector from `@statelyai/inspect` feeds it; `stop()` closes both.
 * The page embeds the inspector UI from stately.ai, so the browser (not this process) needs the
 * internet. Development only: the inspector buffers heavily (about 228 MB of heap per 100k events).
 *
 * Every request passes the checks of `inspector/loopback.ts`; a WebSocket without an `Origin` is
 * the runtime's own inspector, which also holds a second, unprinted, source token. Only that
 * source's messages are relayed; what a page sends goes nowhere.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import type { InspectionEvent } from 'xstate';
import {
  allowedRequest,
  LOOPBACK as HOST,
  listenLoopback,
  newToken,
} from './inspector/loopback.js';

export interface StatelyInspector {
  /** Open this in a browser (it carries the token). */
  readonly url: string;
  /** The address the server listens on: loopback only. */
  readonly host: string;
  readonly port: number;
  readonly observe: (event: InspectionEvent) => void;
  stop(): void;
}

/** Messages kept for a browser that connects late (the library's server keeps as many). */
const REPLAY = 200;

export async function startStatelyInspector(port = 8080): Promise<StatelyInspector> {
  const token = newToken();
  const sourceToken = newToken();
  const server = await startBridge(port, token, sourceToken);
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({
    url: `ws://${HOST}:${port}/?token=${token}&source=${sourceToken}`,
  });
  const observer = inspector.inspect as
    | ((event: InspectionEvent) => void)
    | { next?: (event: InspectionEvent) => void };
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    host: HOST,
    port,
    observe: (event) => (typeof observer === 'function' ? observer(event) : observer.next?.(event)),
    stop() {
      inspector.stop();
      server.stop();
    },
  };
}

/** Resolves once listening; rejects with InspectorPortError when the port is taken. */
function startBridge(port: number, token: string, sourceToken: string): Promise<{ stop(): void }> {
  const http: Server = createServer((req, res) => {
    if (!allowedRequest(req, port, token)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('forbidden: open the URL the runtime printed (it carries the token)\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/html',
      // The page may be framed by nobody, and may only talk to this server and stately.ai.
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(bridgePage(port, token));
  });
  return listenLoopback(http, port, '--inspect-port (inspectPort)').then(() => {
    // Attached once listening: ws re-emits the server's errors, and a taken port is ours to report.
    const wss = relay(http, port, token, sourceToken);
    return {
      stop() {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close();
      },
    };
  });
}

/** The WebSocket relay: the runtime's inspector (the source) to every page. */
function relay(http: Server, port: number, token: string, sourceToken: string): WebSocketServer {
  const wss = new WebSocketServer({
    server: http,
    verifyClient: ({ req }: { req: IncomingMessage }) => allowedRequest(req, port, token),
  });
  const replay: string[] = [];
  const sources = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const isSource = url.searchParams.get('source') === sourceToken;
    if (isSource) sources.add(ws);
    else for (const message of replay) ws.send(message);
    ws.on('close', () => sources.delete(ws));
    ws.on('message', (data) => {
      // A page's messages are not relayed: only the runtime's inspector speaks.
      if (!isSource) return;
      const message = data.toString();
      replay.push(message);
      if (replay.length > REPLAY) replay.shift();
      for (const client of wss.clients)
        if (!sources.has(client) && client.readyState === WebSocket.OPEN) client.send(message);
    });
  });
  return wss;
}

/** The page of `@statelyai/inspect/server` (0.7): the inspector UI in a frame, fed from the relay. */
function bridgePage(port: number, token: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <title>Stately Inspector</title>
  <style>
    * { margin: 0; padding: 0; }
    html, body { height: 100%; }
    iframe { width: 100%; height: 100%; border: none; }
  </style>
</head>
<body>
  <iframe id="inspector" src="https://stately.ai/inspect"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        buffer.forEach((event) => iframe.contentWindow.postMessage(event, 'https://stately.ai'));
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://${HOST}:${port}/?token=${token}');
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, 'https://stately.ai');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}
