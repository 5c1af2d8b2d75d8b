/**
 * Hosts one daemon: its subscriptions, its XState actor, what it emits, its snapshots.
 *
 * Order of start (lesson 14): subscriptions first, then the actor, restored from its snapshot
 * when the machine version matches. Events that arrive before the machine is ready are held, in
 * order, and handed to it once it is: a booting machine would drop them. Ready means a state
 * tagged 'ready' is active, with the subscriptions in place; a start timeout turns "never ready"
 * into a start failure. Any error of the actor becomes an exit with
 * reason 'error' (lesson 17): it never escapes into the process, and the supervisor decides.
 */
import type { Actor, AnyStateMachine, InspectionEvent, Observer } from 'xstate';
import { createActor } from 'xstate';
import { CoordinationError, DaemonStartTimeoutError, InvalidDaemonSpecError } from '../errors.js';
import type { EventName } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import { RESTORED_EVENT, STOP_EVENT } from '../machines/daemon-spec.js';
import type { Alert, AttemptFailed } from '../machines/emitted.js';
import type { ExitReason } from '../machines/supervision.js';
import { type DurableSubscription, subscribeDurable } from '../persistence/durable-consumer.js';
import type { SqliteEventLog } from '../persistence/event-log.js';
import type { SnapshotStore } from '../persistence/snapshots.js';
import type { AlertSink } from './alerts.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { RegisteredDaemon } from './registry.js';
import type { Router, Unsubscribe } from './router.js';

export interface DaemonHostOptions {
  readonly router: Router;
  readonly runtimeId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly snapshots?: SnapshotStore;
  readonly eventLog?: SqliteEventLog;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Where the machine's alerts go (`daemon.alert`); without it they are only logged. */
  readonly alerts?: AlertSink;
}

export interface DaemonExit {
  readonly reason: ExitReason;
  readonly error?: string;
}

export class DaemonHost {
  readonly type: string;
  private actor: Actor<AnyStateMachine> | null = null;
  private readonly unsubscribes: Unsubscribe[] = [];
  private durable: DurableSubscription | null = null;
  /** Events that arrived before the machine was ready; null once it is. */
  private buffer: { envelope: Envelope; delivered: () => void }[] | null = [];
  /** The envelope being handled: what the machine emits now was caused by it. */
  private current: Envelope | null = null;
  private exited = false;
  /** Requests the machine rejected (emitted `daemon.rejected`). */
  rejections = 0;
  private stopping = false;
  private exitListener: (exit: DaemonExit) => void = () => {};
  private readonly logger: Logger;

  constructor(
    private readonly daemon: RegisteredDaemon,
    private readonly options: DaemonHostOptions,
  ) {
    this.type = daemon.type;
    this.logger = options.logger.child({ daemon: daemon.type });
  }

  /**
   * Called once, when the daemon ends by itself or fails (not when stopped); at once when that
   * already happened before the listener was set.
   */
  onExit(listener: (exit: DaemonExit) => void): void {
    this.exitListener = listener;
    if (this.exitedWith) listener(this.exitedWith);
  }

  /** How it ended by itself, once its teardown is done; null while it runs or when stopped. */
  private exitedWith: DaemonExit | null = null;

  /** Resolves when the machine is ready; rejects (and cleans up) on failure or timeout. */
  async start(): Promise<void> {
    const { spec } = this.daemon;
    await this.subscribe();
    const restored = this.loadSnapshot();
    const actor = createActor(spec.machine, {
      id: this.type,
      input: spec.input,
      snapshot: restored,
      inspect: this.options.inspect,
      clock: this.options.clock as never,
    } as never) as Actor<AnyStateMachine>;
    this.actor = actor;
    actor.on('*', (emitted: { type: string; payload?: Record<string, unknown> }) =>
      this.publish(emitted),
    );
    const ready = new Promise<void>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        reject(new DaemonStartTimeoutError(this.type, spec.startTimeoutMs ?? 10_000));
      }, spec.startTimeoutMs ?? 10_000);
      let isReady = false;
      actor.subscribe({
        next: (snapshot) => {
          // Only a running machine is worth resuming: a done, failed or stopped one would end
          // again at once after every restart.
          if (snapshot.status === 'active') {
            this.options.snapshots?.saveSnapshot(
              this.options.runtimeId,
              this.type,
              spec.machineVersion,
              actor.getPersistedSnapshot(),
            );
          }
          this.checkChildren(snapshot);
          if (!isReady && snapshot.status === 'active' && snapshot.hasTag('ready')) {
            isReady = true;
            this.options.clock.clearTimeout(timer);
            resolve();
          }
          if (snapshot.status === 'done') {
            const output = snapshot.output as { error?: unknown } | undefined;
            const error = output?.error === undefined ? undefined : String(output.error);
            this.options.clock.clearTimeout(timer);
            if (!isReady)
              reject(
                new Error(`reached a final state before it was ready${error ? `: ${error}` : ''}`),
              );
            this.exit({ reason: error ? 'error' : 'normal', error });
          }
        },
        error: (error) => {
          // Subscribing `error` on the root actor is what keeps an actor error from killing the process.
          this.options.clock.clearTimeout(timer);
          const message = error instanceof Error ? error.message : String(error);
          if (!isReady) reject(error instanceof Error ? error : new Error(message));
          this.exit({ reason: 'error', error: message });
        },
      });
    });
    try {
      actor.start();
      if (restored) actor.send({ type: RESTORED_EVENT });
      await ready;
      const held = this.buffer ?? [];
      this.buffer = null;
      for (const { envelope, delivered } of held) {
        this.deliver(envelope);
        delivered();
      }
    } catch (error) {
      await this.teardown();
      throw error;
    }
  }

  /**
   * Asks the machine to finish (a `daemon.stop` event, when it handles one), waits up to the
   * shutdown timeout, then stops it by force. Always resolves.
   */
  async stop(): Promise<'stopped' | 'forced'> {
    this.stopping = true;
    const actor = this.actor;
    let result: 'stopped' | 'forced' = 'stopped';
    if (
      actor &&
      actor.getSnapshot().status === 'active' &&
      actor.getSnapshot().can({ type: STOP_EVENT })
    ) {
      const timeoutMs = this.daemon.spec.shutdownTimeoutMs ?? 5_000;
      const finished = await new Promise<boolean>((resolve) => {
        const timer = this.options.clock.setTimeout(() => resolve(false), timeoutMs);
        const sub = actor.subscribe({
          next: (s) => {
            if (s.status !== 'active') {
              this.options.clock.clearTimeout(timer);
              sub.unsubscribe();
              resolve(true);
            }
          },
          error: () => {
            this.options.clock.clearTimeout(timer);
            resolve(true);
          },
        });
        actor.send({ type: STOP_EVENT });
      });
      if (!finished) {
        result = 'forced';
        this.logger.warn(
          { shutdown_timeout_ms: timeoutMs },
          'daemon did not stop in time; stopped by force',
        );
      }
    }
    await this.teardown();
    return result;
  }

  getSnapshot() {
    return this.actor?.getSnapshot();
  }

  private async subscribe(): Promise<void> {
    const { spec, subscribes } = this.daemon;
    if (spec.durable) {
      if (!this.options.eventLog) {
        throw new InvalidDaemonSpecError(
          this.type,
          'is durable, but the runtime has no event log (dbPath)',
        );
      }
      const durable = await subscribeDurable(
        this.options.eventLog,
        this.type,
        subscribes,
        (envelope) => this.deliver(envelope),
        {
          logger: this.logger,
        },
      );
      this.durable = durable;
      // A consumer that ends by itself (the file is damaged, or another process took it over)
      // leaves the machine deaf: that is a fault of the daemon, for the supervisor to handle.
      const ended = (why: string) => {
        if (this.durable === durable && !this.stopping)
          this.exit({ reason: 'error', error: `its durable consumer stopped: ${why}` });
      };
      durable.done.then(
        () => ended('taken over by another process'),
        (error: Error) => ended(error.message),
      );
      return;
    }
    for (const type of subscribes) {
      this.unsubscribes.push(
        this.options.router.subscribe(type, (envelope: Envelope) => this.deliver(envelope), {
          name: this.type,
        }),
      );
    }
  }

  /**
   * Hands an event to the machine. Before the machine is ready the event is held and the returned
   * promise resolves once it was handed over, so that a durable subscription acknowledges it only
   * then, and a router mailbox keeps the daemon's later events behind it.
   */
  private deliver(envelope: Envelope): Promise<void> | undefined {
    if (
      this.daemon.localOnly.has(envelope.type) &&
      envelope.origin.runtimeId !== this.options.router.origin.runtimeId
    ) {
      return undefined;
    }
    if (this.buffer) {
      const buffer = this.buffer;
      return new Promise((resolve) => buffer.push({ envelope, delivered: resolve }));
    }
    const actor = this.actor;
    if (!actor || this.exited || actor.getSnapshot().status !== 'active') return undefined;
    this.current = envelope;
    try {
      actor.send({ type: envelope.type, payload: envelope.payload, envelope });
    } finally {
      this.current = null;
    }
    this.checkChildren(actor.getSnapshot());
    return undefined;
  }

  /**
   * XState drops the error of an invoked or spawned actor that the machine does not handle
   * (no onError) and keeps the dead child: such a child is a fault of the daemon. Checked at each
   * snapshot and after each event, so it is noticed no later than the daemon's next step.
   */
  private checkChildren(snapshot: { children?: Record<string, unknown> }): void {
    if (this.exited) return;
    for (const [id, child] of Object.entries(snapshot.children ?? {})) {
      const childSnapshot = (
        child as { getSnapshot?: () => { status: string; error?: unknown } }
      ).getSnapshot?.();
      if (childSnapshot?.status === 'error') {
        const error =
          childSnapshot.error instanceof Error
            ? childSnapshot.error.message
            : String(childSnapshot.error);
        this.exit({
          reason: 'error',
          error: `invoked actor '${id}' failed and the machine does not handle it: ${error}`,
        });
        return;
      }
    }
  }

  private publish(emitted: {
    type: string;
    payload?: Record<string, unknown>;
    reason?: string;
    event?: string;
  }): void {
    if (emitted.type === 'daemon.attempt_failed') {
      const a = emitted as unknown as AttemptFailed;
      this.logger.warn(
        { job: a.job, attempt: a.attempt, error: a.error, retrying: a.retrying },
        `${a.job} job attempt ${a.attempt} failed: ${a.error}${a.retrying ? '; retrying' : '; giving up'}`,
      );
      return;
    }
    if (emitted.type === 'daemon.alert') {
      const alert = emitted as unknown as Alert;
      const at = this.current?.timestamp ?? this.options.clock.now() / 1000;
      if (this.options.alerts) this.options.alerts.raise(this.type, alert, at);
      else
        this.logger.error(
          { alert: alert.alert, cause: alert.cause },
          `ALERT (${alert.severity}) ${alert.message}`,
        );
      return;
    }
    if (emitted.type === 'daemon.rejected') {
      // A request the machine could not act on (a missing model path, say): logged and counted,
      // never dropped silently (the original blocked promotions for weeks on one missing key).
      this.rejections++;
      this.logger.warn(
        { reason: emitted.reason, event: emitted.event },
        `daemon rejected ${emitted.event}: ${emitted.reason}`,
      );
      return;
    }
    if (!this.daemon.emits.includes(emitted.type as EventName)) {
      // Undeclared: a wiring bug, surfaced as a fault rather than an event nobody expects.
      this.logger.error(
        { type: emitted.type },
        `daemon emitted '${emitted.type}', which its spec does not declare`,
      );
      this.exit({ reason: 'error', error: `emitted undeclared event '${emitted.type}'` });
      return;
    }
    try {
      // The cause: the envelope being handled now, or the one a job daemon carried through its work.
      const cause = (emitted as { causedBy?: Envelope }).causedBy ?? this.current;
      const correlationId = (emitted as { correlationId?: string }).correlationId;
      this.options.router.publish(emitted.type, emitted.payload ?? {}, {
        source: this.type,
        ...(cause ? { causedBy: cause } : {}),
        ...(correlationId ? { correlationId } : {}),
      });
    } catch (error) {
      if (!(error instanceof CoordinationError)) throw error;
      this.logger.error(
        { type: emitted.type, err: error },
        'daemon emitted an event the router refused',
      );
      this.exit({ reason: 'error', error: error.message });
    }
  }

  private exit(exit: DaemonExit): void {
    if (this.exited) return;
    this.exited = true;
    if (this.stopping) return;
    if (exit.reason === 'error') this.logger.error({ error: exit.error }, 'daemon failed');
    void this.teardown().then(() => {
      this.exitedWith = exit;
      this.exitListener(exit);
    });
  }

  private loadSnapshot() {
    const store = this.options.snapshots;
    if (!store) return undefined;
    const loaded = store.loadSnapshot(
      this.options.runtimeId,
      this.type,
      this.daemon.spec.machineVersion,
    );
    if (!loaded) return undefined;
    if (loaded.status === 'version-mismatch') {
      this.logger.info(
        { stored_version: loaded.machineVersion, machine_version: loaded.expectedVersion },
        'snapshot is of another machine version; starting fresh',
      );
      return undefined;
    }
    if ((loaded.snapshot as { status?: string } | null)?.status !== 'active') {
      this.logger.info(
        { status: (loaded.snapshot as { status?: string } | null)?.status },
        'snapshot is not of a running machine; starting fresh',
      );
      return undefined;
    }
    this.logger.info({ saved_at: loaded.savedAt }, 'resuming from snapshot');
    return loaded.snapshot as never;
  }

  private async teardown(): Promise<void> {
    for (const off of this.unsubscribes.splice(0)) off();
    // A durable subscription stops first, abandoning a held event unacknowledged: it is
    // delivered again to the next instance. Router mailboxes holding an event then move on.
    const durable = this.durable;
    this.durable = null;
    if (durable) await durable.stop({ abandonAfterMs: 0 });
    const held = this.buffer ?? [];
    this.buffer = null;
    for (const { delivered } of held) delivered();
    this.actor?.stop();
  }
}
