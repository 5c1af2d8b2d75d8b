/**
 * A runtime's membership of the cluster: the NATS connection, the JetStream resources, and, on
 * the one runtime per host that holds the file's bridge lease, the bridge, presence, the leader
 * campaign and the leader's work tracker. Other runtimes of the host stand by and take the lease
 * over when its holder dies (same rule as a durable consumer's: PID and process identity).
 *
 * A NATS outage degrades the member, never the runtime: local work goes on, cross-host events wait
 * in the file, health says `degraded` with why, and after the reconnect everything is set up
 * again (the consume loop and the KV handles do not survive a server restart reliably).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../actors/logger.js';
import type { Router } from '../actors/router.js';
import type { Supervisor } from '../actors/supervisor.js';
import {
  ClusterAuthError,
  ClusterOutboxFullError,
  type CoordinationError,
  HostTakenError,
} from '../errors.js';
import type { Envelope } from '../events/envelope.js';
import { CANCELLED } from '../persistence/database.js';
import { holdsLease } from '../persistence/durable-consumer.js';
import type { SqliteEventLog } from '../persistence/event-log.js';
import { OWN_IDENTITY } from '../persistence/process-identity.js';
import { LAST_EVENT_ID_SQL } from '../persistence/row-codec.js';
import { type BridgeStats, ClusterBridge } from './bridge.js';
import type { BridgeState } from './bridge-row.js';
import { ClusterConnection, type ConnectionHealth } from './connection.js';
import { DeadlineError, within } from './deadline.js';
import { LeaderLease, type LeaderRecord } from './leadership.js';
import { describeCluster, type ResolvedCluster } from './options.js';
import { Presence, type PresenceEvent, type PresenceRecord, type PresentHost } from './presence.js';
import { type ClusterResources, ensureResources } from './stream.js';
import { isWorkRequest, type WorkStats, WorkTracker } from './work.js';

/**
 * Daemons that run only on the cluster's leader: a standby holds them, a takeover starts them
 * (from their snapshots where this runtime has some), a leader that sees another leader stops
 * them. Only the MasterLoop: promotion and distribution planning act only on the chains of their
 * own host, which only the leader's MasterLoop starts (a standby's file never receives another
 * leader's training answers: they are screened by job), so on a standby they have nothing to do;
 * holding them too would make them miss the HOST_ONLINE events they keep their targets from.
 */
export const LEADER_SCOPED_DAEMONS: readonly string[] = ['MASTER_LOOP'];

/** What a cluster member publishes on its host (derived from the presence and leader buckets). */
export const CLUSTER_EMITS = ['HOST_ONLINE', 'HOST_OFFLINE', 'NODE_RECOVERED', 'LEADER_ELECTED'];

const BRIDGE_HEARTBEAT_MS = 3_000;
const BRIDGE_LEASE_MS = 15_000;
/**
 * How long one step of leaving the cluster may take before the stop goes on without it: a server
 * that stops answering must not hold a stopping process (what a step did not finish is safe to
 * leave: the presence key expires, the outbox is sent again from the saved cursor, unacknowledged
 * inbound messages are delivered again, each stored once).
 */
const STOP_STEP_MS = 5_000;

export interface ClusterMemberOptions {
  readonly cluster: ResolvedCluster;
  readonly eventLog: SqliteEventLog;
  readonly router: Router;
  readonly supervisor: Supervisor;
  readonly runtimeId: string;
  readonly profile: string;
  readonly daemons: readonly string[];
  readonly logger: Logger;
  /** How long `start()` waits for a first connection before going on degraded; 3 s. */
  readonly connectWaitMs?: number;
}

export interface ClusterHealth {
  readonly state: 'ok' | 'degraded' | 'standby';
  readonly reason: string | null;
  readonly host: string;
  readonly cluster: string;
  readonly connection: ConnectionHealth;
  /** Whether this runtime runs its host's bridge (else another process of the host does). */
  readonly bridge: boolean;
  readonly outbox: number;
  readonly bridgeStats: BridgeStats | null;
  readonly leader: LeaderRecord | null;
  readonly leading: boolean;
  readonly hosts: readonly PresenceRecord[];
  readonly work: WorkStats | null;
}

/** An answer of the cluster that waiting will not change. */
function isRefusal(error: Error): boolean {
  return (
    error instanceof HostTakenError ||
    /permission|authorization|not authorized/i.test(error.message)
  );
}

export class ClusterMember {
  readonly connection: ClusterConnection;
  private readonly cluster: ResolvedCluster;
  private readonly logger: Logger;
  private readonly incarnation = randomBytes(6).toString('hex');
  private readonly startedAt = Date.now() / 1000;
  private fileId = '';
  private holdsBridge = false;
  private bridge: ClusterBridge | null = null;
  private presence: Presence | null = null;
  private lease: LeaderLease | null = null;
  private work: WorkTracker | null = null;
  private leader: LeaderRecord | null = null;
  private resources: ClusterResources | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stopped = false;
  private active = false;
  /** Why the last setup after a (re)connection failed; null once it succeeded. */
  private setupError: string | null = null;
  private connectedOnce = false;
  private setupRunning: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private fatalListener: ((error: CoordinationError) => void) | null = null;

  constructor(private readonly options: ClusterMemberOptions) {
    this.cluster = options.cluster;
    this.logger = options.logger.child({ component: 'cluster', host: options.cluster.host });
    this.connection = new ClusterConnection(this.cluster, options.runtimeId, this.logger);
  }

  /** Told once when the cluster refuses this runtime after it started (a host name taken). */
  onFatal(listener: (error: CoordinationError) => void): void {
    this.fatalListener = listener;
  }

  /**
   * Connects (waiting up to `connectWaitMs`), sets up the stream and buckets, checks the host
   * name and takes the bridge lease when free. An unreachable server is not an error: the member
   * runs degraded and finishes on the first connection. Bridge, presence and campaign begin at
   * `activate()`, once the daemons listen.
   * @throws {ClusterSetupError} {HostTakenError} when the cluster is reachable and refuses.
   */
  async start(): Promise<void> {
    this.logger.info(describeCluster(this.cluster), 'joining the cluster');
    await this.takeBridgeLease();
    this.heartbeat = setInterval(() => void this.beat(), BRIDGE_HEARTBEAT_MS);
    this.connection.onChange((state) => {
      if (state === 'connected' && this.connectedOnce && !this.stopped) this.setUpUntilDone(true);
    });
    const connected = this.connection.open().then(() => 'connected' as const);
    // A refusal after the wait (credentials) ends the runtime through onFatal.
    connected.catch((error: CoordinationError) => {
      if (error instanceof ClusterAuthError && this.active) this.fatalListener?.(error);
    });
    const waited = await Promise.race([
      connected,
      new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), this.options.connectWaitMs ?? 3_000).unref(),
      ),
    ]);
    if (waited === 'connected') {
      await this.prepare();
      return;
    }
    connected.then(
      () => this.setUpUntilDone(false),
      () => {}, // a refusal: told to onFatal above; a close before connecting: nothing to do
    );
  }

  /**
   * Sets up after a (re)connection, retrying every 2 s while the cluster cannot answer (a server
   * restarting, a stream electing its leader): degraded meanwhile, never a crash. Only a refusal
   * (the host name taken, no permission) ends the runtime, through `onFatal`.
   */
  private setUpUntilDone(afterOutage: boolean): void {
    let warned = false;
    const attempt = () => {
      if (this.stopped || !this.connection.connected) return;
      this.setUp(afterOutage).then(
        () => {
          if (warned) this.logger.info('cluster set up again');
        },
        (error: CoordinationError) => {
          if (isRefusal(error)) {
            this.fatalListener?.(error);
            return;
          }
          if (!warned) {
            warned = true;
            this.logger.warn(
              { err: error.message },
              'cluster not set up yet after connecting; retrying (degraded meanwhile)',
            );
          }
          this.setupError = error.message;
          setTimeout(attempt, 2_000).unref();
        },
      );
    };
    attempt();
  }

  /** Resources and the host-name check, before any daemon starts. */
  private async prepare(): Promise<void> {
    const nc = this.connection.connection;
    if (!nc) return;
    this.resources = await ensureResources(nc, this.cluster);
    if (this.holdsBridge) await this.makePresence(this.resources).claim();
  }

  /**
   * Starts the bridge, presence and the campaign (when connected; else on the first connection).
   * Called once the daemons are up, so that the HOST_ONLINE events reach them.
   */
  async activate(): Promise<void> {
    this.active = true;
    if (this.connection.connected) await this.setUp(false);
  }

  private setUp(afterOutage: boolean): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.setupRunning) return this.setupRunning;
    this.setupRunning = this.doSetUp(afterOutage)
      .then(() => {
        this.setupError = null;
      })
      .finally(() => {
        this.setupRunning = null;
      });
    return this.setupRunning;
  }

  private async doSetUp(afterOutage: boolean): Promise<void> {
    const nc = this.connection.connection;
    if (!nc || this.stopped) return;
    this.connectedOnce = true;
    this.resources = await ensureResources(nc, this.cluster);
    if (!this.holdsBridge) return;
    await this.startRoles(afterOutage);
  }

  private async startRoles(afterOutage: boolean): Promise<void> {
    const resources = this.resources;
    const nc = this.connection.connection;
    if (!resources || !nc || this.stopped) return;
    const claimed = this.presence !== null; // claimed at start when the lease was ours then
    const presence = this.makePresence(resources);
    if (!claimed) await presence.claim();
    if (!this.bridge) {
      this.bridge = new ClusterBridge(
        this.cluster,
        this.options.eventLog,
        this.logger,
        (envelope) => this.screen(envelope),
        (envelope) => this.options.router.deliverRemote(envelope),
      );
      this.options.router.setCrossHostGuard(() => {
        const bridge = this.bridge;
        if (!bridge) return;
        if (bridge.outboxDepth >= this.cluster.maxOutbox)
          throw new ClusterOutboxFullError(
            this.cluster.maxOutbox,
            this.connection.health().reason ?? 'JetStream does not acknowledge',
          );
        bridge.noteAccepted();
      });
    }
    if (!this.lease) {
      const eligible = LEADER_SCOPED_DAEMONS.some((d) => this.options.daemons.includes(d));
      this.lease = new LeaderLease(
        resources.leader,
        { host: this.cluster.host, runtimeId: this.options.runtimeId },
        eligible,
        this.cluster.leaseTtlMs,
        {
          elected: () => this.onElected(),
          lost: (reason) => this.onLost(reason),
          observed: (leader) => this.onLeaderObserved(leader),
        },
        this.logger,
      );
      this.work = new WorkTracker(
        () => this.presence?.hosts() ?? [],
        (type, payload, cause) =>
          this.options.router.publish(type, payload, { source: 'cluster-leader', causedBy: cause }),
        () => this.lease?.currentToken ?? null,
        this.logger,
      );
      this.unsubscribe = this.options.router.subscribe(
        'TRAINING_THRESHOLD_REACHED',
        (envelope) => {
          if (envelope.origin.host === this.cluster.host) this.work?.request(envelope);
        },
        { name: 'cluster-work-tracker' },
      );
    }
    await this.bridge.attach(nc, resources);
    await presence.start(resources.presence, afterOutage);
    await this.lease.start(resources.leader);
  }

  private makePresence(resources: ClusterResources): Presence {
    this.presence ??= new Presence(
      this.cluster,
      resources.presence,
      () => this.presenceRecord(),
      (event) => this.onPresence(event),
      this.logger,
    );
    return this.presence;
  }

  private presenceRecord(): PresenceRecord {
    return {
      host: this.cluster.host,
      runtime_id: this.options.runtimeId,
      incarnation: this.incarnation,
      file_id: this.fileId,
      profile: this.options.profile,
      daemons: [...this.options.daemons],
      gpus: this.cluster.gpus,
      free_slots: this.cluster.slots,
      started_at: this.startedAt,
      outbox: this.bridge?.outboxDepth ?? 0,
    };
  }

  private publish(type: string, payload: Record<string, unknown>): void {
    try {
      this.options.router.publish(type, payload, { source: 'cluster' });
    } catch (error) {
      // A full outbox or a closing router: the event is derived again on the next change.
      this.logger.warn({ err: (error as Error).message, type }, 'cluster event not published');
    }
  }

  private onPresence(event: PresenceEvent): void {
    switch (event.type) {
      case 'HOST_ONLINE': {
        const r = event.record;
        this.publish('HOST_ONLINE', {
          host: r.host,
          capabilities: [`gpus:${r.gpus}`, `slots:${r.free_slots}`],
          incarnation: r.incarnation,
          profile: r.profile,
          daemons: [...r.daemons],
          gpus: r.gpus,
          free_slots: r.free_slots,
        });
        this.work?.hostOnline();
        break;
      }
      case 'HOST_OFFLINE':
        this.publish('HOST_OFFLINE', {
          host: event.host,
          reason: event.reason,
          last_seen: event.lastSeen,
          incarnation: event.incarnation,
        });
        this.work?.hostOffline(event.host);
        break;
      case 'NODE_RECOVERED':
        this.publish('NODE_RECOVERED', {
          node_id: event.record.host,
          recovery_time_seconds: event.offlineSeconds,
          incarnation: event.record.incarnation,
          previous_incarnation: event.previousIncarnation,
        });
        break;
    }
  }

  private onElected(): void {
    for (const name of LEADER_SCOPED_DAEMONS)
      if (this.options.daemons.includes(name)) this.options.supervisor.release(name);
    // Jobs asked for while this runtime could not prove its lead are assigned now.
    this.work?.hostOnline();
  }

  /**
   * The lease is lost: from now on this runtime assigns nothing (its token is stale). Its
   * leader-scoped daemons go on until another leader is seen: a lease lost to an outage of NATS,
   * with no other coordinator, is won back by the same runtime, which then carries on where it
   * was (stopping its MasterLoop would lose the answers of the chains in flight).
   */
  private onLost(reason: string): void {
    this.logger.warn({ reason }, 'not the cluster leader any more; assigning no work');
  }

  /** Another runtime leads: this one's leader-scoped daemons stop, its jobs are the new leader's. */
  private yieldTo(leader: LeaderRecord): void {
    this.work?.clear();
    const mine = LEADER_SCOPED_DAEMONS.filter((d) => this.options.daemons.includes(d)).reverse();
    this.logger.warn(
      { daemons: mine, leader: leader.host, token: leader.token },
      'leader-scoped daemons stopped: another runtime leads',
    );
    // One after the other, in reverse start order.
    void (async () => {
      for (const name of mine) await this.options.supervisor.hold(name);
    })();
  }

  private onLeaderObserved(leader: LeaderRecord): void {
    const previous = this.leader;
    this.leader = leader;
    if (
      leader.runtime_id !== this.options.runtimeId &&
      previous?.runtime_id === this.options.runtimeId
    )
      this.yieldTo(leader);
    this.publish('LEADER_ELECTED', {
      leader_id: leader.host,
      term: leader.token,
      runtime_id: leader.runtime_id,
    });
  }

  /** Why an inbound event is not for this host (null: write it). */
  private screen(envelope: Envelope): string | null {
    if (isWorkRequest(envelope.type)) {
      const p = envelope.payload as { target_host?: unknown; leader_token?: unknown };
      if (p.target_host !== this.cluster.host) return 'work addressed to another host';
      // Stale: an older token than the current leader's, from another runtime (a leader that won
      // its own lease back keeps its earlier requests valid).
      const leader = this.leader;
      if (
        leader &&
        typeof p.leader_token === 'number' &&
        p.leader_token < leader.token &&
        envelope.origin.runtimeId !== leader.runtime_id
      )
        return 'request from a former leader (stale fencing token)';
      return null;
    }
    if (!this.work) return 'answer to a job this host did not assign';
    return this.work.screenAnswer(envelope);
  }

  // ------------------------------------------------------------------ the host's bridge lease

  private async takeBridgeLease(): Promise<void> {
    const db = this.options.eventLog.db;
    const result = await db.persist('cluster-bridge', 'take the bridge lease', (d) => {
      // A file's first cluster start: its cursor starts at the file's last row. What the host did
      // before it joined a cluster stays on the host (other hosts would act on a stale past: a
      // week-old TRAINING_COMPLETED starting an evaluation); what it writes from now on crosses,
      // also while the bridge is down.
      const joined = d
        .prepare(
          `INSERT OR IGNORE INTO cluster_bridge (id, file_id, out_cursor) VALUES (1, ?, (${LAST_EVENT_ID_SQL}))`,
        )
        .run(randomBytes(8).toString('hex')).changes;
      const r = d.prepare('SELECT * FROM cluster_bridge WHERE id = 1').get() as {
        file_id: string;
        owner_runtime: string | null;
        owner_pid: number | null;
        owner_start: string | null;
        heartbeat_at: number | null;
        out_cursor: number;
      };
      const now = Date.now() / 1000;
      // The durable consumers' rule: a fresh heartbeat from a process that is still the one that
      // took it. One file is one machine, so the holder is always on this host.
      const held =
        r.owner_runtime !== this.options.runtimeId &&
        holdsLease(
          {
            owner: r.owner_runtime,
            owner_host: hostname(),
            owner_pid: r.owner_pid,
            owner_start: r.owner_start,
            heartbeat_at: r.heartbeat_at ?? 0,
          },
          now,
          BRIDGE_LEASE_MS,
        );
      if (!held)
        d.prepare(
          'UPDATE cluster_bridge SET host = ?, owner_runtime = ?, owner_pid = ?, owner_start = ?, heartbeat_at = ? WHERE id = 1',
        ).run(this.cluster.host, this.options.runtimeId, process.pid, OWN_IDENTITY, now);
      return { fileId: r.file_id, taken: !held, joinedAt: joined ? r.out_cursor : null };
    });
    if (result === CANCELLED) return;
    this.fileId = result.fileId;
    if (result.joinedAt !== null)
      this.logger.info(
        { outCursor: result.joinedAt },
        result.joinedAt > 0
          ? `this file joins a cluster for the first time: its events up to event_id ${result.joinedAt} stay on this host`
          : 'this file joins a cluster for the first time',
      );
    if (result.taken && !this.holdsBridge) {
      this.holdsBridge = true;
      this.logger.info("this runtime runs the host's cluster bridge");
    }
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const db = this.options.eventLog.db;
    if (db.isClosed) return;
    if (!this.holdsBridge) {
      await this.takeBridgeLease().catch((error: Error) =>
        this.logger.warn({ err: error.message }, 'bridge lease check failed'),
      );
      if (this.holdsBridge && this.connection.connected) await this.startRoles(false);
      return;
    }
    try {
      db.tryWrite('bridge heartbeat', (d) =>
        d
          .prepare(
            'UPDATE cluster_bridge SET heartbeat_at = ?, state = ? WHERE id = 1 AND owner_runtime = ?',
          )
          .run(Date.now() / 1000, JSON.stringify(this.bridgeState()), this.options.runtimeId),
      );
    } catch (error) {
      // A refused write (full, locked): the event log's monitor reports the file; beat again later.
      this.logger.debug({ err: (error as Error).message }, 'bridge heartbeat skipped');
    }
  }

  // ------------------------------------------------------------------ health and stop

  private bridgeState(): BridgeState {
    const h = this.health();
    return {
      connection: h.connection.state,
      server: h.connection.server,
      reason: h.reason,
      leader: h.leader?.host ?? null,
      token: h.leader?.token ?? null,
      leading: h.leading,
      hosts: h.hosts.map((r) => r.host).sort(),
      cluster: h.cluster,
    };
  }

  health(): ClusterHealth {
    const connection = this.connection.health();
    const bridgeStats = this.bridge?.stats() ?? null;
    const reason =
      connection.state !== 'connected'
        ? `NATS ${connection.state}${connection.reason ? `: ${connection.reason}` : ''}`
        : (this.setupError ?? bridgeStats?.lastError ?? null);
    return {
      state: !this.holdsBridge ? 'standby' : reason ? 'degraded' : 'ok',
      reason,
      host: this.cluster.host,
      cluster: this.cluster.name,
      connection,
      bridge: this.holdsBridge,
      outbox: bridgeStats?.backlog ?? 0,
      bridgeStats,
      leader: this.leader,
      leading: this.lease?.isLeader ?? false,
      hosts: (this.presence?.hosts() ?? []).map((h: PresentHost) => h.record),
      work: this.work?.stats() ?? null,
    };
  }

  /**
   * Leaves the cluster: gives up leadership (the lease expires), removes the presence key (the
   * others see HOST_OFFLINE at once), stops the bridge, releases the bridge lease, closes NATS.
   * Called after the daemons stopped and before the event log closes.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    // A setup still running (the start, or after an outage) would go on to start presence and the
    // lease after this stop stopped them, and their timers would keep the process alive.
    await this.stopStep(
      'waiting for the cluster setup in progress',
      this.setupRunning?.catch(() => {}),
    );
    this.unsubscribe?.();
    this.lease?.stop();
    await this.stopStep('removing the presence key', this.presence?.stop());
    await this.stopStep('closing the bridge', this.bridge?.close());
    this.options.router.setCrossHostGuard(null);
    if (this.holdsBridge && !this.options.eventLog.isClosed) {
      try {
        this.options.eventLog.db.tryWrite('release the bridge lease', (d) =>
          d
            .prepare(
              'UPDATE cluster_bridge SET owner_runtime = NULL WHERE id = 1 AND owner_runtime = ?',
            )
            .run(this.options.runtimeId),
        );
      } catch (error) {
        this.logger.debug(
          { err: (error as Error).message },
          'bridge lease not released (it expires)',
        );
      }
    }
    // Bounded by itself: past STOP_STEP_MS it closes without draining.
    await this.connection.close(STOP_STEP_MS);
    // The last step of a stop: a process that does not exit after this line is held by
    // something other than the cluster.
    this.logger.info('left the cluster');
  }

  /** Waits for one step of the stop, for up to STOP_STEP_MS; past it, says so and goes on. */
  private async stopStep(what: string, step: Promise<void> | undefined): Promise<void> {
    if (!step) return;
    const started = performance.now();
    try {
      await within(step, STOP_STEP_MS, what);
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      this.logger.warn(
        { step: what },
        `cluster stop: ${what} did not end within ${STOP_STEP_MS} ms; going on without it`,
      );
      return;
    }
    this.logger.debug(
      { ms: Math.round(performance.now() - started) },
      `cluster stop: ${what} done`,
    );
  }
}
