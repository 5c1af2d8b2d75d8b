/**
 * Feeds the inspector's model from inside a runtime: XState's inspection stream for the daemons'
 * states, their workers and which daemon handled which event; the router for every event
 * (published here, or arriving from another process or host); the supervisor for each daemon's
 * lifecycle. Everything here runs on the actors' hot path, so it only copies a few fields.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ClusterHealth } from '../../cluster/member.js';
import type { Envelope } from '../../events/envelope.js';
import type { Router, Unsubscribe } from '../router.js';
import { statePath } from '../state-path.js';
import type { DaemonStatus } from '../supervisor.js';
import { showCluster } from './cluster-view.js';
import { type InspectorModel, PAYLOAD_CHARS } from './model.js';
import { addRuntime, daemonNode as daemonNodeOf, supervisorNode, workerNode } from './tree.js';

export interface LiveFeedOptions {
  readonly model: InspectorModel;
  readonly router: Router;
  readonly runtimeId: string;
  readonly host: string;
  readonly profile: string;
  readonly daemons: readonly string[];
  /** The supervisor's view of each daemon (status, ready, restarts). */
  readonly status: () => readonly DaemonStatus[];
  /** The cluster membership, when the runtime has one: the other hosts and the leader. */
  readonly cluster?: () => ClusterHealth | null;
}

export interface LiveFeed {
  readonly observe: (event: InspectionEvent) => void;
  /** Reads the supervisor's and the cluster's view again (the server calls it on each tick). */
  refresh(): void;
  stop(): void;
}

const LIFECYCLE = 'lifecycle:';

export function envelopeRecord(envelope: Envelope, remote: boolean) {
  const json = JSON.stringify(envelope.payload) ?? 'null';
  return {
    id: envelope.id,
    type: envelope.type,
    source: envelope.source,
    at: Math.round(envelope.timestamp * 1000),
    host: envelope.origin.host,
    runtimeId: envelope.origin.runtimeId,
    pid: envelope.origin.pid,
    traceId: envelope.traceId,
    correlationId: envelope.correlationId,
    parentId: envelope.parentId,
    payload: json.length > PAYLOAD_CHARS ? `${json.slice(0, PAYLOAD_CHARS)}…` : json,
    remote,
  };
}

export function startLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { model, runtimeId, host } = options;
  const daemons = new Set(options.daemons);
  const daemonNode = (type: string) => daemonNodeOf(runtimeId, type);
  const incarnations = new Map<string, number>();
  /** Worker node ids per daemon, to drop those the daemon no longer runs. */
  const workers = new Map<string, Set<string>>();

  addRuntime(model, runtimeId, `runtime ${runtimeId} (${options.profile})`, host);
  for (const type of options.daemons)
    model.update(daemonNode(type), {
      kind: 'daemon',
      parent: supervisorNode(runtimeId),
      label: type,
      host,
      status: 'starting',
      ready: false,
      restarts: 0,
      incarnation: 0,
    });

  const hostsShown = new Set<string>();
  const refreshCluster = () => {
    const health = options.cluster?.();
    if (!health) return;
    showCluster(
      model,
      {
        cluster: health.cluster,
        state: health.state,
        reason: health.reason,
        connection: health.connection.state,
        outbox: health.outbox,
        leader: health.leader,
        hosts: health.hosts,
        self: host,
      },
      hostsShown,
    );
  };

  const refresh = (cause?: string | null) => {
    for (const s of options.status())
      if (daemons.has(s.daemon))
        model.update(
          daemonNode(s.daemon),
          { kind: 'daemon', status: s.state, ready: s.ready, restarts: s.restarts },
          cause,
        );
  };

  const record = (envelope: Envelope) =>
    model.addEvent(envelopeRecord(envelope, envelope.origin.runtimeId !== runtimeId));

  const isDaemon = (ref: AnyActorRef) => !ref._parent && daemons.has(ref.id);

  const observe = (event: InspectionEvent) => {
    // Typed as ActorRefLike by the library; every actor of a runtime is a full ActorRef.
    const ref = event.actorRef as AnyActorRef;
    switch (event.type) {
      case '@xstate.snapshot': {
        if (ref.id.startsWith(LIFECYCLE)) {
          refresh();
          return;
        }
        const snapshot = event.snapshot as {
          value?: unknown;
          input?: { kind?: string };
          children?: Record<string, unknown>;
        };
        const cause = (event.event as { envelope?: Envelope }).envelope?.id ?? null;
        if (isDaemon(ref)) {
          model.update(
            daemonNode(ref.id),
            { kind: 'daemon', state: statePath(snapshot.value) },
            cause,
          );
          const running = workers.get(ref.id);
          if (running)
            for (const id of running)
              if (!(id in (snapshot.children ?? {}))) {
                running.delete(id);
                model.remove(`${daemonNode(ref.id)}/${id}`, cause);
              }
          return;
        }
        const parent = ref._parent;
        if (parent && isDaemon(parent) && typeof snapshot.input?.kind === 'string') {
          const running = workers.get(parent.id) ?? new Set<string>();
          workers.set(parent.id, running);
          if (running.has(ref.id)) return;
          running.add(ref.id);
          model.update(
            `${daemonNode(parent.id)}/${ref.id}`,
            workerNode(daemonNode(parent.id), snapshot.input.kind, host),
          );
        }
        return;
      }
      case '@xstate.actor': {
        if (!isDaemon(ref)) return;
        const n = (incarnations.get(ref.id) ?? 0) + 1;
        incarnations.set(ref.id, n);
        model.update(daemonNode(ref.id), { kind: 'daemon', incarnation: n });
        return;
      }
      case '@xstate.event': {
        const received = event.event as {
          type: string;
          envelope?: Envelope;
          progress?: { fraction?: number; message?: string };
        };
        if (isDaemon(ref) && received.envelope) {
          // A daemon's mailbox may be drained before the inspector's: whoever sees it first records it.
          record(received.envelope);
          model.handled(received.envelope.id, ref.id, host);
          return;
        }
        const source = event.sourceRef as AnyActorRef | undefined;
        const worker = source && `${daemonNode(ref.id)}/${source.id}`;
        if (received.type === 'job.progress' && worker && isDaemon(ref) && model.node(worker))
          model.update(worker, {
            kind: 'worker',
            progress: received.progress?.fraction ?? null,
            message: received.progress?.message,
          });
        return;
      }
      default:
        return;
    }
  };

  const unsubscribe: Unsubscribe = options.router.subscribe('*', (e: Envelope) => record(e), {
    name: 'inspector',
  });

  return {
    observe,
    refresh: () => {
      refresh();
      refreshCluster();
    },
    stop: unsubscribe,
  };
}
