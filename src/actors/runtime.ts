/**
 * `createRuntime()`: router, event log, snapshot store, registry and supervisor put together for
 * a host program (the master loop).
 */
import { hostname } from 'node:os';
import type { InspectionEvent, Observer } from 'xstate';
import { LocalPresence, type LocalPresenceOptions } from '../cluster/local-presence.js';
import { type ClusterHealth, ClusterMember, LEADER_SCOPED_DAEMONS } from '../cluster/member.js';
import { type ClusterOptions, resolveCluster } from '../cluster/options.js';
import { type CoordinationError, type EventLogError, InvalidOptionError } from '../errors.js';
import { newRuntimeId } from '../events/envelope.js';
import type { DaemonSpec } from '../machines/daemon-spec.js';
import type { Strategy } from '../machines/supervision.js';
import {
  type EventLogOptions,
  openEventLog,
  type SqliteEventLog,
} from '../persistence/event-log.js';
import { defaultDbPath } from '../persistence/paths.js';
import { type RetentionOptions, scheduleRetention } from '../persistence/retention.js';
import { registerRuntime } from '../persistence/runtimes.js';
import { SnapshotStore } from '../persistence/snapshots.js';
import type { StorageHealth } from '../persistence/storage-health.js';
import { type AlertCommand, AlertSink, type RaisedAlertRecord } from './alerts.js';
import { type Clock, realClock } from './clock.js';
import { adoptProcessRouter } from './default-router.js';
import {
  type LocalInspector,
  type PreparedInspector,
  prepareLocalInspector,
} from './inspector/local.js';
import { createLogger, type Logger } from './logger.js';
import { DaemonRegistry } from './registry.js';
import { createRouter, type Router } from './router.js';
import { type StatelyInspector, startStatelyInspector } from './stately-inspector.js';
import { type DaemonStatus, Supervisor } from './supervisor.js';

export interface RuntimeOptions {
  /** A profile name of the original (`coordinator`, `training_node`, ...) or a list of daemon types. */
  readonly profile: string | readonly string[];
  /** Names a profile given as a list (in ALL_CRITICAL_DAEMONS_READY and logs); 'custom'. */
  readonly profileName?: string;
  readonly daemons: readonly DaemonSpec[];
  /** The SQLite file; `false` runs without one (no cross-process events, no snapshots, no durable daemons). */
  readonly dbPath?: string | false;
  /** The event log's bounds and timeouts (`maxQueuedEvents`, `maxBytes`, `lockWaitMs`, ...). */
  readonly eventLog?: Omit<EventLogOptions, 'path' | 'logger'>;
  readonly logger?: Logger;
  /**
   * Any XState inspection observer, passed to every actor; `'local'` to serve the local inspector
   * (README "See it": everything from this package, no internet) or `'stately'` for the Stately
   * inspector (its page needs the internet), on `inspectPort` (8080; 0 picks one) of 127.0.0.1.
   * Off by default: watching every actor costs throughput.
   */
  readonly inspect?:
    | Observer<InspectionEvent>
    | ((event: InspectionEvent) => void)
    | 'stately'
    | 'local';
  readonly inspectPort?: number;
  /** Lets the local inspector's page send events (checked by the catalog). Off by default. */
  readonly inspectAllowSend?: boolean;
  readonly clock?: Clock;
  readonly strategy?: Strategy;
  /** Names this runtime's snapshots: keep it stable across restarts of the same process role. */
  readonly runtimeId?: string;
  readonly softDependencyTimeoutMs?: number;
  readonly random?: () => number;
  /**
   * By default the runtime's router is the process router while it runs (`getRouter()`, the
   * module-level `publish` / `subscribe` and the emit helpers reach it). `true` keeps it apart:
   * a second router in the process, on purpose (tests, two runtimes in one process).
   */
  readonly isolatedRouter?: boolean;
  /**
   * Joins a cluster on NATS JetStream: cross-host events, presence, leadership and work across
   * hosts (README "Across hosts"). Needs a dbPath: the host's file is the cluster's outbox.
   */
  readonly cluster?: ClusterOptions;
  /**
   * Without a cluster: this runtime is the cluster's one host and its leader (its own HOST_ONLINE
   * and LEADER_ELECTED at start), with optional seeded simulated hosts that come and go
   * (`LocalPresence`). Ignored with `cluster`, whose member derives presence from NATS.
   */
  readonly localPresence?: LocalPresenceOptions;
  /**
   * Run for every alert a daemon raises (ALERT_MANAGER): an argv, never a shell; the alert as JSON
   * on stdin and in `RINGRIFT_ALERT`. Alerts are logged at error with or without it.
   */
  readonly alertCommand?: AlertCommand;
  /** Retention of the event log (every 10 min by default); `false` leaves it to the host. */
  readonly retention?: (RetentionOptions & { readonly intervalMs?: number }) | false;
}

export interface Runtime {
  readonly runtimeId: string;
  readonly router: Router;
  readonly supervisor: Supervisor;
  readonly eventLog: SqliteEventLog | null;
  /** The inspector's page (with its token), when `inspect` is `'local'` or `'stately'` and started. */
  readonly inspectorUrl: string | null;
  start(): Promise<void>;
  /** Resolves when every critical daemon of the profile is ready. */
  whenReady(): Promise<void>;
  /** Stops the daemons in reverse order, then closes the router and the event log. Always resolves. */
  stop(): Promise<void>;
  status(): RuntimeStatus;
  /**
   * Called once if the event log's file turns out to be damaged mid-run. The runtime has then
   * begun to stop by itself (nothing more can be written); `stop()` resolves when it is done.
   */
  onFatal(listener: (error: EventLogError | CoordinationError) => void): void;
  /** The cluster member, when `cluster` was given. */
  readonly cluster: ClusterMember | null;
  /** The last 50 alerts daemons raised, oldest first. */
  alerts(): readonly RaisedAlertRecord[];
}

export interface RuntimeStatus {
  /** False while a critical daemon is FAILED, the router is unhealthy or the file refuses writes. */
  readonly healthy: boolean;
  readonly daemons: readonly DaemonStatus[];
  /** The event log's file: `degraded` (with why, since when, what waits) or `failed`; null without one. */
  readonly storage: StorageHealth | null;
  /** The cluster membership (connection, bridge, outbox, leader, hosts); null without a cluster. */
  readonly cluster: ClusterHealth | null;
}

/**
 * @example
 * const runtime = createRuntime({ profile: ['EVENT_ROUTER', 'FEEDBACK_LOOP'], daemons, dbPath: '/tmp/events.db' });
 * await runtime.start();
 * await runtime.whenReady();
 * // ...
 * await runtime.stop();
 */
export function createRuntime(options: RuntimeOptions): Runtime {
  const registry = new DaemonRegistry(options.daemons);
  const members = registry.members(options.profile);
  const logger = options.logger ?? createLogger();
  const clock = options.clock ?? realClock;
  const runtimeId = options.runtimeId ?? newRuntimeId();
  const cluster = options.cluster ? resolveCluster(options.cluster) : null;
  if (cluster && options.dbPath === false)
    throw new InvalidOptionError(
      'dbPath',
      'a SQLite file when joining a cluster (it is the outbox)',
      false,
    );
  const eventLog =
    options.dbPath === false
      ? null
      : openEventLog({ ...options.eventLog, path: options.dbPath ?? defaultDbPath(), logger });
  const snapshots = eventLog ? new SnapshotStore(eventLog, logger) : undefined;
  if (eventLog && options.retention !== false)
    scheduleRetention(eventLog, { logger, ...options.retention });
  const router = createRouter({
    name: 'runtime',
    logger,
    clock,
    runtimeId,
    eventLog: eventLog ?? undefined,
    originHost: cluster?.host,
  });
  let release: () => void = () => {};
  if (!options.isolatedRouter) {
    try {
      release = adoptProcessRouter(router, runtimeId);
    } catch (error) {
      void router.close(); // closes the event log it was given
      throw error;
    }
  }
  const profileName =
    typeof options.profile === 'string' ? options.profile : (options.profileName ?? 'custom');
  // Actors are created before start(); the Stately inspector only exists after it, so they get a
  // forwarding observer.
  let stately: StatelyInspector | null = null;
  let local: LocalInspector | null = null;
  let supervisorBuilt = false;
  let memberBuilt = false;
  const localFeed: PreparedInspector | null =
    options.inspect === 'local'
      ? prepareLocalInspector({
          router,
          runtimeId,
          host: cluster?.host ?? hostname(),
          profile: profileName,
          daemons: members,
          specs: options.daemons,
          // Lifecycle actors report while the supervisor is being built: nothing to read yet.
          status: (): readonly DaemonStatus[] => (supervisorBuilt ? supervisor.status() : []),
          cluster: (): ClusterHealth | null => (memberBuilt ? (member?.health() ?? null) : null),
        })
      : null;
  const inspect =
    options.inspect === 'stately'
      ? (event: InspectionEvent) => stately?.observe(event)
      : options.inspect === 'local'
        ? localFeed?.observe
        : options.inspect;
  const alerts = new AlertSink(logger, options.alertCommand);
  const supervisor = new Supervisor({
    alerts,
    registry,
    members,
    profileName,
    router,
    runtimeId,
    logger,
    clock,
    snapshots,
    eventLog: eventLog ?? undefined,
    strategy: options.strategy,
    inspect,
    softDependencyTimeoutMs: options.softDependencyTimeoutMs,
    random: options.random,
    // In a cluster the leader-scoped daemons run only on the leader: held until elected.
    held: cluster ? LEADER_SCOPED_DAEMONS.filter((d) => members.includes(d)) : [],
  });
  supervisorBuilt = true;
  const member =
    cluster && eventLog
      ? new ClusterMember({
          cluster,
          eventLog,
          router,
          supervisor,
          runtimeId,
          profile: profileName,
          daemons: members,
          logger,
        })
      : null;
  memberBuilt = true;
  const localPresence =
    !member && options.localPresence
      ? new LocalPresence(
          router,
          {
            host: options.localPresence.host ?? hostname(),
            runtimeId,
            profile: profileName,
            daemons: members,
          },
          options.localPresence,
          logger,
        )
      : null;
  let stopped: Promise<void> | null = null;
  const registration = eventLog ? registerRuntime(eventLog, runtimeId, profileName) : null;
  const fatalListeners: ((error: EventLogError | CoordinationError) => void)[] = [];
  let stopReason = 'stopped';
  let fatal: EventLogError | CoordinationError | null = null;
  const runtime: Runtime = {
    runtimeId,
    router,
    supervisor,
    eventLog,
    cluster: member,
    get inspectorUrl() {
      return stately?.url ?? local?.url ?? null;
    },
    async start() {
      if (options.inspect === 'stately' && !stately) {
        try {
          stately = await startStatelyInspector(options.inspectPort);
        } catch (error) {
          // Nothing has started yet: release the file and the router before saying why.
          await runtime.stop();
          throw error;
        }
        logger.info({ url: stately.url }, 'Stately inspector server started');
      }
      if (localFeed && !local) {
        try {
          const served = await localFeed.serve({
            port: options.inspectPort,
            allowSend: options.inspectAllowSend ?? false,
            logger,
          });
          local = served;
          logger.info({ url: served.url }, 'local inspector started');
        } catch (error) {
          await runtime.stop();
          throw error;
        }
      }
      if (member) {
        try {
          await member.start();
        } catch (error) {
          await runtime.stop();
          throw error;
        }
      }
      supervisor.start();
      if (member) {
        // The cluster's first events (HOST_ONLINE of every host present, LEADER_ELECTED) must
        // find the daemons listening: the bridge, presence and campaign begin once they run.
        await supervisor.whenSettled();
        if (!stopped) await member.activate();
      }
      if (localPresence) {
        // Like the member's: the first presence events must find the daemons listening.
        await supervisor.whenSettled();
        if (!stopped) localPresence.activate();
      }
    },
    whenReady: () => supervisor.whenReady(),
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        localPresence?.stop();
        await supervisor.stop();
        await alerts.drain();
        await member?.stop();
        await registration?.stop(stopReason);
        await snapshots
          ?.flush()
          .catch((error: Error) => logger.error({ err: error }, 'final snapshots not written'));
        await router.close(); // closes the event log after writing what is queued
        release();
        stately?.stop();
        localFeed?.stop();
        await local?.stop();
      })();
      return stopped;
    },
    alerts: () => alerts.list(),
    status() {
      const daemons = supervisor.status();
      const storage = eventLog?.health() ?? null;
      const clusterHealth = member?.health() ?? null;
      return {
        healthy:
          supervisor.health().healthy &&
          router.health().healthy &&
          (storage?.state ?? 'ok') === 'ok' &&
          clusterHealth?.state !== 'degraded',
        daemons,
        storage,
        cluster: clusterHealth,
      };
    },
    onFatal(listener) {
      if (fatal) listener(fatal);
      else fatalListeners.push(listener);
    },
  };
  // A damaged file cannot be written again: stop cleanly and tell the host, who decides what then.
  eventLog?.onFatal((error) => {
    fatal = error;
    stopReason = `event log damaged: ${error.message}`;
    void runtime.stop();
    for (const listener of fatalListeners) listener(error);
  });
  // The cluster refused this runtime after a degraded start (its host name is taken).
  member?.onFatal((error) => {
    fatal = error;
    stopReason = error.message;
    void runtime.stop();
    for (const listener of fatalListeners) listener(error);
  });
  return runtime;
}
