/**
 * `inspect: 'local'`: the local inspector of a runtime. Prepared before the actors exist (they
 * get its inspection observer when created), served once the runtime starts.
 */
import type { ClusterHealth } from '../../cluster/member.js';
import { EVENT_NAMES } from '../../events/catalog/index.js';
import type { DaemonSpec } from '../../machines/daemon-spec.js';
import type { Logger } from '../logger.js';
import type { Router } from '../router.js';
import type { DaemonStatus } from '../supervisor.js';
import { type LiveFeed, startLiveFeed } from './live-feed.js';
import { InspectorModel } from './model.js';
import { type InspectorServer, startInspectorServer } from './server.js';
import { stateDiagram } from './statechart.js';

export type LocalInspector = InspectorServer;

export interface LocalInspectorOptions {
  readonly router: Router;
  readonly runtimeId: string;
  readonly host: string;
  readonly profile: string;
  readonly daemons: readonly string[];
  readonly specs: readonly DaemonSpec[];
  readonly status: () => readonly DaemonStatus[];
  readonly cluster?: () => ClusterHealth | null;
}

export interface PreparedInspector {
  readonly observe: LiveFeed['observe'];
  readonly model: InspectorModel;
  serve(options: { port?: number; allowSend: boolean; logger: Logger }): Promise<LocalInspector>;
  stop(): void;
}

/** Mermaid statecharts of the given daemon types, by type. */
export function chartsOf(specs: readonly DaemonSpec[], types: readonly string[]) {
  const charts: Record<string, string> = {};
  for (const spec of specs)
    if (types.includes(spec.type)) charts[spec.type] = stateDiagram(spec.machine);
  return charts;
}

export function prepareLocalInspector(options: LocalInspectorOptions): PreparedInspector {
  const model = new InspectorModel();
  const feed = startLiveFeed({ ...options, model });
  return {
    observe: feed.observe,
    model,
    serve: ({ port, allowSend, logger }) =>
      startInspectorServer({
        model,
        charts: chartsOf(options.specs, options.daemons),
        title: `${options.profile} on ${options.host}`,
        port,
        eventTypes: EVENT_NAMES,
        send: allowSend
          ? (type, payload) => options.router.publish(type, payload, { source: 'inspector' }).id
          : undefined,
        tick: () => feed.refresh(),
        logger,
      }),
    stop: () => feed.stop(),
  };
}
