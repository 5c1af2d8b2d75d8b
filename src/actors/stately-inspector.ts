/**
 * `inspect: 'stately'`: the Stately inspector for a runtime, on this machine. Starts
 * `@statelyai/inspect`'s inspector server (browser auto-open off) and a WebSocket inspector
 * connected to it; stops both on `stop()`. The page it serves embeds the inspector UI from
 * stately.ai, so the browser (not this process) needs the internet. Development only: the
 * inspector buffers heavily (about 228 MB of heap per 100k events).
 */
import type { InspectionEvent } from 'xstate';

export interface StatelyInspector {
  /** Open this in a browser. */
  readonly url: string;
  readonly observe: (event: InspectionEvent) => void;
  stop(): void;
}

export async function startStatelyInspector(port = 8080): Promise<StatelyInspector> {
  const [{ createInspectorServer }, { createWebSocketInspector }] = await Promise.all([
    import('@statelyai/inspect/server'),
    import('@statelyai/inspect'),
  ]);
  // The server first: without one, the WebSocket inspector retries forever and keeps the process alive.
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
  const observer = inspector.inspect as
    | ((event: InspectionEvent) => void)
    | { next?: (event: InspectionEvent) => void };
  return {
    url: `http://localhost:${port}`,
    observe: (event) => (typeof observer === 'function' ? observer(event) : observer.next?.(event)),
    stop() {
      inspector.stop();
      server.stop();
    },
  };
}
