/**
 * `ringrift-coord inspect`: the local inspector's page for the runtimes that share a SQLite file,
 * from another process (they need no flag): fed by the event log and the actor snapshots.
 */

import { ClusterUnreachableError, readClusterStatus } from '../cluster/status.js';
import {
  chartsOf,
  createLogger,
  createRouter,
  EVENT_NAMES,
  InspectorModel,
  isCrossProcess,
  type Logger,
  openEventLog,
  type ResolvedCluster,
  type Router,
  showCluster,
  startInspectorServer,
  startLogFeed,
} from '../index.js';
import { crossProcessEvent, referenceSpecs } from './inspect-commands.js';

export interface ServeInspectorOptions {
  readonly dbPath: string;
  readonly port?: number;
  readonly allowSend: boolean;
  /** Read the cluster's hosts and leader from NATS every few seconds. */
  readonly cluster?: ResolvedCluster;
  readonly out: (line: string) => void;
  /** Aborted: the server stops and the file is closed. */
  readonly signal: AbortSignal;
}

export async function serveInspector(options: ServeInspectorOptions): Promise<void> {
  const specs = referenceSpecs();
  const logger = createLogger();
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
        ? (type, payload) =>
            sender.publish(crossProcessEvent('type', type), payload, { source: 'inspector' }).id
        : undefined,
      tick: () => feed.tick(),
      logger,
    });
    const stopWatching = options.cluster ? watchCluster(model, options.cluster, logger) : () => {};
    options.out(`inspector for ${options.dbPath}: ${server.url}`);
    if (!options.signal.aborted)
      await new Promise<void>((resolve) =>
        options.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    stopWatching();
    await server.stop();
  } finally {
    await router?.close();
    feed.stop();
  }
}

/** How often the cluster is read: presence itself is refreshed every 3 s. */
const CLUSTER_READ_MS = 3_000;

/**
 * Reads the cluster's state from NATS into the tree, one read at a time; an unreachable cluster
 * is shown as such (and retried), never a failure of the page.
 */
function watchCluster(model: InspectorModel, cluster: ResolvedCluster, logger: Logger): () => void {
  const shown = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const read = async () => {
    try {
      const status = await readClusterStatus(cluster);
      showCluster(
        model,
        {
          cluster: status.cluster,
          state: 'ok',
          reason: null,
          connection: `connected (${status.server})`,
          outbox: null,
          leader: status.leader,
          hosts: status.hosts,
          lag: new Map(status.consumers.map((c) => [c.name.replace(/^host_/, ''), c.lag])),
        },
        shown,
      );
    } catch (error) {
      if (!(error instanceof ClusterUnreachableError)) throw error;
      showCluster(
        model,
        {
          cluster: cluster.name,
          state: 'unreachable',
          reason: error.message,
          connection: 'unreachable',
          outbox: null,
          leader: null,
          hosts: [],
        },
        shown,
      );
    }
  };
  const loop = () => {
    read().then(
      () => {
        if (!stopped) timer = setTimeout(loop, CLUSTER_READ_MS);
      },
      (error: Error) => logger.error({ err: error }, 'inspector: reading the cluster failed'),
    );
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
