/**
 * The supervisor host: one daemon lifecycle actor (src/machines/daemon-lifecycle.ts) per daemon
 * of the profile, driven through the start plan. Each lifecycle machine decides everything about
 * its daemon and invokes the effects this host provides it (start a daemon host, watch it, stop
 * it); the host only coordinates between daemons (dependencies, rest_for_one, readiness of the
 * critical ones) and turns state changes into lifecycle events. Nothing here mirrors a state:
 * it is read from the lifecycle actor.
 *
 * - A daemon starts only when its hard dependencies are running; soft dependencies that start
 *   before it are waited for up to `softDependencyTimeoutMs`, then it starts degraded (logged).
 * - Restarts: backoff and intensity in the lifecycle machine; rest_for_one restarts dependents.
 * - ALL_CRITICAL_DAEMONS_READY once per start, when every critical daemon of the profile runs.
 * - stop(): reverse start order, each daemon given its shutdown timeout; always resolves.
 */
import { hostname } from 'node:os';
import type { InspectionEvent, Observer } from 'xstate';
import { type Actor, createActor, fromCallback } from 'xstate';
import { CoordinationError, DaemonFailedError, InvalidDaemonSpecError } from '../errors.js';
import {
  daemonLifecycleMachine,
  type LifecycleEvent,
  type LifecycleState,
  STATUS_OF_STATE,
} from '../machines/daemon-lifecycle.js';
import {
  DEFAULT_BACKOFF,
  DEFAULT_INTENSITY,
  restartSet,
  type Strategy,
} from '../machines/supervision.js';
import type { SqliteEventLog } from '../persistence/event-log.js';
import type { SnapshotStore } from '../persistence/snapshots.js';
import type { AlertSink } from './alerts.js';
import type { Clock } from './clock.js';
import { type DaemonExit, DaemonHost } from './daemon-host.js';
import type { Logger } from './logger.js';
import type { DaemonRegistry, RegisteredDaemon } from './registry.js';
import type { Router } from './router.js';

export interface SupervisorOptions {
  readonly registry: DaemonRegistry;
  readonly members: readonly string[];
  readonly profileName: string;
  readonly router: Router;
  readonly runtimeId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly snapshots?: SnapshotStore;
  readonly eventLog?: SqliteEventLog;
  readonly strategy?: Strategy;
  readonly softDependencyTimeoutMs?: number;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Where daemons' alerts go. */
  readonly alerts?: AlertSink;
  /** Randomness for backoff jitter; injected so that tests are deterministic. */
  readonly random?: () => number;
  /**
   * Daemons that do not start with the others but when `release()`d (leader-scoped daemons in a
   * cluster: they run only on the leader). Until then they count as neither ready nor missing.
   */
  readonly held?: readonly string[];
}

/** What the supervisor publishes (it plays the guide's DaemonManager as an emitter). */
export const SUPERVISOR_EMITS = [
  'ALL_CRITICAL_DAEMONS_READY',
  'DAEMON_STARTED',
  'DAEMON_STOPPED',
  'DAEMON_STATUS_CHANGED',
  'DAEMON_CRASH_LOOP_DETECTED',
  'DAEMON_PERMANENTLY_FAILED',
] as const;

export interface DaemonStatus {
  readonly daemon: string;
  readonly state: (typeof STATUS_OF_STATE)[LifecycleState];
  readonly ready: boolean;
  readonly critical: boolean;
  readonly restarts: number;
  readonly lastError: string | null;
  /** Milliseconds since it became ready; null when not running. */
  readonly uptimeMs: number | null;
  readonly degraded: readonly string[];
  /** Requests the daemon rejected (logged each) since it last started. */
  readonly rejections: number;
}

/** The resource a child's lifecycle effects share: the daemon host of its current incarnation. */
interface HostSlot {
  host: DaemonHost | null;
}

interface Child {
  readonly daemon: RegisteredDaemon;
  readonly lifecycle: Actor<typeof daemonLifecycleMachine>;
  readonly slot: HostSlot;
  degraded: string[];
  softTimer: unknown;
}

const stateOf = (child: Child) => child.lifecycle.getSnapshot().value as LifecycleState;

export class Supervisor {
  readonly order: readonly string[];
  private readonly children = new Map<string, Child>();
  private readonly logger: Logger;
  private readonly host = hostname();
  private readonly strategy: Strategy;
  private readonly random: () => number;
  private readonly softAfter: Set<string>;
  private startedAt = 0;
  private allCriticalAnnounced = false;
  private stopping = false;
  private criticalWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private failedCritical: string[] = [];
  private readonly held: Set<string>;
  private settledWaiters: (() => void)[] = [];

  constructor(private readonly options: SupervisorOptions) {
    this.logger = options.logger.child({ component: 'supervisor' });
    this.strategy = options.strategy ?? 'one_for_one';
    this.held = new Set(options.held ?? []);
    this.random = options.random ?? Math.random;
    const plan = options.registry.plan(options.members);
    this.order = plan.order;
    this.softAfter = new Set(plan.softAfter.map((s) => `${s.daemon}>${s.softDependency}`));
    for (const s of plan.softAfter) {
      this.logger.info(
        { daemon: s.daemon, soft_dependency: s.softDependency },
        'soft dependency starts later (it depends on this daemon); not waited for',
      );
    }
    for (const name of this.order) {
      const daemon = options.registry.get(name) as RegisteredDaemon;
      const spec = daemon.spec;
      const slot: HostSlot = { host: null };
      const lifecycle = createActor(
        daemonLifecycleMachine.provide({ actors: this.effects(daemon, slot) }),
        {
          id: `lifecycle:${name}`,
          clock: options.clock as never,
          inspect: options.inspect,
          input: {
            daemon: name,
            restartType: spec.restart ?? 'permanent',
            backoff: { ...DEFAULT_BACKOFF, ...spec.backoff },
            intensity: { ...DEFAULT_INTENSITY, ...spec.intensity },
          },
        },
      );
      const child: Child = { daemon, lifecycle, slot, degraded: [], softTimer: null };
      let previous: LifecycleState = 'idle';
      lifecycle.subscribe({
        next: (snapshot) => {
          const state = snapshot.value as LifecycleState;
          if (state === previous) return;
          const was = previous;
          previous = state;
          this.onTransition(child, was, state);
        },
        error: (error) => this.logger.error({ daemon: name, err: error }, 'lifecycle actor failed'),
      });
      this.children.set(name, child);
    }
  }

  /**
   * The effects a child's lifecycle machine invokes. Each answers with lifecycle events, so the
   * machine alone decides what a start that failed, an exit or a finished stop means.
   */
  private effects(daemon: RegisteredDaemon, slot: HostSlot) {
    const now = () => this.options.clock.now();
    const startDaemon = fromCallback<LifecycleEvent, void>(({ sendBack }) => {
      const host = new DaemonHost(daemon, {
        router: this.options.router,
        runtimeId: this.options.runtimeId,
        logger: this.options.logger,
        clock: this.options.clock,
        snapshots: this.options.snapshots,
        eventLog: this.options.eventLog,
        inspect: this.options.inspect,
        alerts: this.options.alerts,
      });
      slot.host = host;
      let current = true;
      host.start().then(
        () => {
          if (current) sendBack({ type: 'child.ready', at: now() });
        },
        (error: unknown) => {
          if (!current) return;
          const message = error instanceof Error ? error.message : String(error);
          this.logger.error(
            {
              supervisor: this.options.profileName,
              context: 'start_error',
              offender: { id: daemon.type },
              reason: message,
            },
            'daemon failed to start',
          );
          if (slot.host === host) slot.host = null;
          sendBack({
            type: 'child.start_failed',
            at: now(),
            error: message,
            random: this.random(),
          });
        },
      );
      // Left before an answer (a stop request): the stop effect stops the host.
      return () => {
        current = false;
      };
    });
    const watchDaemon = fromCallback<LifecycleEvent, void>(({ sendBack }) => {
      const host = slot.host;
      if (!host) return () => {};
      const onExit = (exit: DaemonExit) => {
        if (slot.host === host) slot.host = null;
        sendBack({
          type: 'child.exited',
          at: now(),
          reason: exit.reason,
          error: exit.error,
          random: this.random(),
        });
      };
      host.onExit(onExit);
      return () => {
        host.onExit(() => {});
      };
    });
    const stopDaemon = fromCallback<LifecycleEvent, void>(({ sendBack }) => {
      const host = slot.host;
      slot.host = null;
      void (async () => {
        if (host && (await host.stop()) === 'forced') {
          this.logger.warn(
            {
              supervisor: this.options.profileName,
              context: 'shutdown_error',
              offender: { id: daemon.type },
              reason: 'timeout',
            },
            'daemon killed after its shutdown timeout',
          );
        }
        sendBack({ type: 'child.stopped' });
      })();
    });
    return { startDaemon, watchDaemon, stopDaemon };
  }

  /** Starts every daemon of the profile, in plan order as dependencies become ready. */
  start(): void {
    this.startedAt = this.options.clock.now();
    this.allCriticalAnnounced = false;
    for (const name of this.order) {
      const child = this.children.get(name) as Child;
      child.lifecycle.start();
      if (!this.held.has(name)) child.lifecycle.send({ type: 'child.start' });
    }
    this.checkCriticalReady();
  }

  /**
   * Starts a held daemon (this runtime became the cluster's leader). ALL_CRITICAL_DAEMONS_READY
   * is announced again once it runs, so that a MasterLoop started now begins its iterations.
   */
  release(name: string): void {
    if (!this.held.delete(name) || this.stopping) return;
    if (this.startedAt === 0) return; // not started yet: start() starts it with the others
    this.allCriticalAnnounced = false;
    this.child(name).lifecycle.send({ type: 'child.start' });
  }

  /**
   * Resolves once every daemon not held has come to rest after start: running, failed or stopped
   * (a cluster member waits for it, so that the hosts it announces reach every daemon).
   */
  whenSettled(): Promise<void> {
    if (this.settled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private settled(): boolean {
    return [...this.children.values()].every(
      (c) => this.held.has(c.daemon.type) || ['running', 'failed', 'stopped'].includes(stateOf(c)),
    );
  }

  /** Stops a daemon and holds it until the next `release()` (leadership lost). */
  async hold(name: string): Promise<void> {
    if (this.held.has(name)) return;
    this.held.add(name);
    await this.stopAndWait(name);
  }

  /**
   * Resolves when every critical daemon of the profile is running (at once when there is none).
   * @throws {DaemonFailedError} as soon as a critical daemon is FAILED, naming it and its last error.
   */
  whenReady(): Promise<void> {
    if (this.allCriticalReady()) return Promise.resolve();
    const failed = this.failedCritical[0];
    if (failed) return Promise.reject(this.failedError(failed));
    return new Promise((resolve, reject) => this.criticalWaiters.push({ resolve, reject }));
  }

  private failedError(name: string): DaemonFailedError {
    const ctx = this.child(name).lifecycle.getSnapshot().context;
    return new DaemonFailedError(name, ctx.lastError, ctx.reason, this.criticalBlockedBy(name));
  }

  /** The critical daemons that `name` being FAILED keeps from starting: itself, its dependents. */
  private criticalBlockedBy(name: string): string[] {
    const blocked = new Set([name]);
    for (const other of this.order) {
      const deps = this.children.get(other)?.daemon.dependsOn ?? [];
      if (deps.some((d) => blocked.has(d))) blocked.add(other);
    }
    return this.order.filter((n) => blocked.has(n) && this.children.get(n)?.daemon.critical);
  }

  /**
   * Stops every daemon in the reverse of the start plan (so dependents always before what they
   * depend on), one at a time; resolves when all are stopped. Never rejects.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const name of [...this.order].reverse()) await this.stopAndWait(name);
    for (const child of this.children.values()) child.lifecycle.stop();
  }

  // ------------------------------------------------------------------ admin API

  startDaemon(name: string): void {
    this.child(name).lifecycle.send({ type: 'child.start' });
  }

  stopDaemon(name: string): Promise<void> {
    return this.stopAndWait(name);
  }

  /** Restarts a daemon; the only way out of FAILED. */
  restartDaemon(name: string): void {
    this.child(name).lifecycle.send({ type: 'child.restart' });
  }

  status(): DaemonStatus[] {
    const now = this.options.clock.now();
    return this.order.map((name) => {
      const child = this.children.get(name) as Child;
      const ctx = child.lifecycle.getSnapshot().context;
      const state = stateOf(child);
      return {
        daemon: name,
        state: STATUS_OF_STATE[state],
        ready: state === 'running',
        critical: child.daemon.critical,
        restarts: ctx.totalRestarts,
        lastError: ctx.lastError,
        uptimeMs: state === 'running' && ctx.startedAt !== null ? now - ctx.startedAt : null,
        degraded: [...child.degraded],
        rejections: child.slot.host?.rejections ?? 0,
      };
    });
  }

  /** The daemon actor's current snapshot (state and context), or undefined when it is not running. */
  getDaemonSnapshot(name: string) {
    return this.child(name).slot.host?.getSnapshot();
  }

  /** Unhealthy when a critical daemon is FAILED. */
  health(): { healthy: boolean; failedCritical: readonly string[] } {
    return { healthy: this.failedCritical.length === 0, failedCritical: [...this.failedCritical] };
  }

  // ------------------------------------------------------------------ effects of transitions

  private onTransition(child: Child, previous: LifecycleState, state: LifecycleState): void {
    const name = child.daemon.type;
    const ctx = child.lifecycle.getSnapshot().context;
    this.emit('DAEMON_STATUS_CHANGED', {
      daemon_name: name,
      hostname: this.host,
      old_status: STATUS_OF_STATE[previous],
      new_status: STATUS_OF_STATE[state],
      reason: ctx.reason,
      error: ctx.lastError,
    });
    switch (state) {
      case 'waiting':
        this.tryStart(child);
        break;
      case 'running':
        this.emit('DAEMON_STARTED', { daemon_name: name, hostname: this.host, pid: process.pid });
        for (const other of this.children.values())
          if (stateOf(other) === 'waiting') this.tryStart(other);
        this.checkCriticalReady();
        break;
      case 'backingOff':
        if (previous === 'running') this.restartDependents(child);
        if (ctx.restarts.length >= Math.ceil(ctx.intensity.maxRestarts / 2)) {
          this.emit('DAEMON_CRASH_LOOP_DETECTED', {
            daemon_name: name,
            hostname: this.host,
            restart_count: ctx.restarts.length,
            window_minutes: Math.round(ctx.intensity.periodMs / 60_000),
            max_restarts: ctx.intensity.maxRestarts,
            severity: 'warning',
            message: `${name} restarted ${ctx.restarts.length} times; FAILED after ${ctx.intensity.maxRestarts}`,
          });
        }
        break;
      case 'failed':
        this.logger.error(
          {
            supervisor: this.options.profileName,
            context: 'child_terminated',
            reason: ctx.reason,
            offender: {
              id: name,
              restart_type: ctx.restartType,
              shutdown_ms: child.daemon.spec.shutdownTimeoutMs ?? 5_000,
            },
            last_error: ctx.lastError,
          },
          'daemon FAILED: restart intensity exceeded; an operator must restart it',
        );
        this.emit('DAEMON_PERMANENTLY_FAILED', {
          daemon_name: name,
          hostname: this.host,
          restart_count: ctx.totalRestarts,
          requires_intervention: true,
        });
        // Unhealthy when it, or a critical daemon that cannot start without it, will not run.
        if (this.criticalBlockedBy(name).length > 0 && !this.failedCritical.includes(name)) {
          this.failedCritical.push(name);
          // Nobody waits for a readiness that cannot come by itself any more.
          for (const waiter of this.criticalWaiters.splice(0))
            waiter.reject(this.failedError(name));
        }
        break;
      case 'stopped':
        if (previous !== 'waiting') {
          this.emit('DAEMON_STOPPED', {
            daemon_name: name,
            hostname: this.host,
            reason: ctx.reason,
          });
        }
        break;
      default:
        break;
    }
    if (previous === 'failed') this.failedCritical = this.failedCritical.filter((n) => n !== name);
    if (this.settledWaiters.length > 0 && this.settled())
      for (const resolve of this.settledWaiters.splice(0)) resolve();
  }

  private tryStart(child: Child): void {
    if (this.stopping || stateOf(child) !== 'waiting') return;
    const running = (name: string) => {
      const other = this.children.get(name);
      return other !== undefined && stateOf(other) === 'running';
    };
    const hardReady = child.daemon.dependsOn.every(running);
    if (!hardReady) return;
    const softPending = child.daemon.softDependsOn.filter(
      (dep) =>
        this.children.has(dep) &&
        !this.softAfter.has(`${child.daemon.type}>${dep}`) &&
        !running(dep),
    );
    if (softPending.length === 0) {
      this.options.clock.clearTimeout(child.softTimer);
      child.lifecycle.send({ type: 'child.dependencies_ready' });
      return;
    }
    if (child.softTimer !== null) return;
    child.softTimer = this.options.clock.setTimeout(() => {
      child.softTimer = null;
      if (stateOf(child) !== 'waiting') return;
      const missing = child.daemon.softDependsOn.filter((d) => !running(d));
      child.degraded = missing;
      this.logger.warn(
        { daemon: child.daemon.type, missing },
        'starting without soft dependencies (degraded)',
      );
      child.lifecycle.send({ type: 'child.dependencies_ready' });
    }, this.options.softDependencyTimeoutMs ?? 30_000);
  }

  private restartDependents(child: Child): void {
    if (this.strategy !== 'rest_for_one') return;
    const set = restartSet(
      'rest_for_one',
      child.daemon.type,
      this.order,
      (d) => this.children.get(d)?.daemon.dependsOn ?? [],
    );
    for (const name of set) {
      if (name === child.daemon.type) continue;
      const dependent = this.children.get(name) as Child;
      if (stateOf(dependent) === 'running' || stateOf(dependent) === 'starting') {
        this.logger.info(
          { daemon: name, because: child.daemon.type },
          'restarting dependent (rest_for_one)',
        );
        dependent.lifecycle.send({ type: 'child.restart' });
      }
    }
  }

  private stopAndWait(name: string): Promise<void> {
    const child = this.child(name);
    return new Promise((resolve) => {
      const done = () => ['stopped', 'failed', 'idle'].includes(stateOf(child));
      if (done()) return resolve();
      const sub = child.lifecycle.subscribe((s) => {
        if (['stopped', 'failed', 'idle'].includes(s.value as string)) {
          sub.unsubscribe();
          resolve();
        }
      });
      child.lifecycle.send({ type: 'child.stop' });
      if (done()) {
        sub.unsubscribe();
        resolve();
      }
    });
  }

  private allCriticalReady(): boolean {
    return [...this.children.values()].every(
      (c) => !c.daemon.critical || this.held.has(c.daemon.type) || stateOf(c) === 'running',
    );
  }

  private checkCriticalReady(): void {
    if (this.allCriticalAnnounced || !this.allCriticalReady()) return;
    this.allCriticalAnnounced = true;
    const critical = [...this.children.values()]
      .filter((c) => c.daemon.critical)
      .map((c) => c.daemon.type);
    this.emit('ALL_CRITICAL_DAEMONS_READY', {
      profile: this.options.profileName,
      daemons: critical,
      hostname: this.host,
      startup_ms: this.options.clock.now() - this.startedAt,
    });
    for (const waiter of this.criticalWaiters.splice(0)) waiter.resolve();
  }

  private child(name: string): Child {
    const child = this.children.get(name);
    if (!child)
      throw new InvalidDaemonSpecError(
        name,
        `is not part of profile '${this.options.profileName}'`,
      );
    return child;
  }

  private emit(type: string, payload: Record<string, unknown>): void {
    if (this.options.router.isClosed) return;
    try {
      this.options.router.publish(type, payload, { source: 'supervisor' });
    } catch (error) {
      if (!(error instanceof CoordinationError)) throw error;
      // A damaged event log refuses every cross-process event; it said so once, loudly.
      if (this.options.router.health().storage === 'failed') return;
      this.logger.error({ type, err: error }, 'lifecycle event refused');
    }
  }
}
