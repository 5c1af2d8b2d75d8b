/**
 * `ringrift-coord inspect`: the local inspector's page for the runtimes that share a SQLite file,
 * from another process (they need no flag): fed by the event log and the actor snapshots.
 */
import {
  chartsOf,
  createLogger,
  createRouter,
  EVENT_NAMES,
  InspectorModel,
  InvalidOptionError,
  isCrossProcess,
  openEventLog,
  type Router,
  resolveEventType,
  startInspectorServer,
  startLogFeed,
} from '../index.js';
import { referenceSpecs } from './inspect-commands.js';

export interface ServeInspectorOptions {
  readonly dbPath: string;
  readonly port?: number;
  readonly allowSend: boolean;
  readonly out: (line: string) => void;
  /** Aborted: the server stops and the file is closed. */
  readonly signal: AbortSignal;
}

export async function serveInspector(options: ServeInspectorOptions): Promise<void> {
  const specs = referenceSpecs();
  const model = new InspectorModel();
  const feed = startLogFeed({ model, dbPath: options.dbPath, specs });
  let router: Router | null = null;
  try {
    feed.tick();
    if (options.allowSend)
      router = createRouter({
        name: 'inspector',
        eventLog: openEventLog({ path: options.dbPath }),
      });
    const sender = router;
    const server = await startInspectorServer({
      model,
      charts: chartsOf(
        specs,
        specs.map((s) => s.type),
      ),
      title: options.dbPath,
      port: options.port,
      portOption: '--port',
      // Only what crosses processes reaches the runtimes through the file (as `events publish`).
      eventTypes: EVENT_NAMES.filter(isCrossProcess),
      send: sender
        ? (type, payload) => {
            const name = resolveEventType(type).name;
            if (!isCrossProcess(name))
              throw new InvalidOptionError(
                'type',
                'an event that crosses processes: others would reach nobody through the file',
                name,
              );
            return sender.publish(name, payload, { source: 'inspector' }).id;
          }
        : undefined,
      tick: () => feed.tick(),
      logger: createLogger(),
    });
    options.out(`inspector for ${options.dbPath}: ${server.url}`);
    if (!options.signal.aborted)
      await new Promise<void>((resolve) =>
        options.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    await server.stop();
  } finally {
    await router?.close();
    feed.stop();
  }
}
