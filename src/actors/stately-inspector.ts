/**
 * `inspect: 'stately'`: the Stately inspector for a runtime, on this machine. A small bridge
 * server (an HTTP page and a WebSocket relay, as `@statelyai/inspect/server` has) bound to the
 * loopback interface only: the inspection stream shows every event and context, so it must not
 * be reachable from the network, and the library's own server listens on every interface and
 * takes no host. A WebSocket inspector from `@statelyai/inspect` feeds it; `stop()` closes both.
 * The page embeds the inspector UI from stately.ai, so the browser (not this process) needs the
 * internet. Development only: the inspector buffers heavily (about 228 MB of heap per 100k events).
 */
import { createServer, type Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import type { InspectionEvent } from 'xstate';

export interface StatelyInspector {
  /** Open this in a browser. */
  readonly url: string;
  /** The address the server listens on: loopback only. */
  readonly host: string;
  readonly observe: (event: InspectionEvent) => void;
  stop(): void;
}

const HOST = '127.0.0.1';
/** Messages kept for a browser that connects late (the library's server keeps as many). */
const REPLAY = 200;

export async function startStatelyInspector(port = 8080): Promise<StatelyInspector> {
  const server = await startBridge(port);
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({ url: `ws://${HOST}:${port}` });
  const observer = inspector.inspect as
    | ((event: InspectionEvent) => void)
    | { next?: (event: InspectionEvent) => void };
  return {
    url: `http://${HOST}:${port}`,
    host: HOST,
    observe: (event) => (typeof observer === 'function' ? observer(event) : observer.next?.(event)),
    stop() {
      inspector.stop();
      server.stop();
    },
  };
}

/** Resolves once listening; rejects when the port is taken (EADDRINUSE names it). */
function startBridge(port: number): Promise<{ stop(): void }> {
  const http: Server = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(bridgePage(port));
  });
  const wss = new WebSocketServer({ server: http });
  const replay: string[] = [];
  // What one client (this process's inspector) sends goes to every other (the browser pages).
  wss.on('connection', (ws) => {
    for (const message of replay) ws.send(message);
    ws.on('message', (data) => {
      const message = data.toString();
      replay.push(message);
      if (replay.length > REPLAY) replay.shift();
      for (const client of wss.clients)
        if (client !== ws && client.readyState === WebSocket.OPEN) client.send(message);
    });
  });
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, HOST, () => {
      http.off('error', reject);
      resolve({
        stop() {
          for (const client of wss.clients) client.terminate();
          wss.close();
          http.close();
        },
      });
    });
  });
}

/** The page of `@statelyai/inspect/server` (0.7): the inspector UI in a frame, fed from the relay. */
function bridgePage(port: number): string {
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
        buffer.forEach((event) => iframe.contentWindow.postMessage(event, '*'));
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://${HOST}:${port}');
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}
