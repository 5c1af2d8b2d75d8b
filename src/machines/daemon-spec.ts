/**
 * A daemon = a pure XState machine + this spec. The machine's events are catalog events
 * (`{ type: 'TRAINING_COMPLETED', payload, envelope }`), what it emits (XState `emit`) is published
 * with the daemon as source, and it is ready once a state tagged `'ready'` is active. Reaching a
 * top-level final state ends the daemon: normally, or abnormally when the machine's `output`
 * (the machine-level `output`, not a final state's) has an `error`.
 */
import type { AnyStateMachine } from 'xstate';
import type { Envelope } from '../events/envelope.js';
import { RESTORED_EVENT, STOP_EVENT } from './protocol.js';
import type { Backoff, Intensity, RestartType } from './supervision.js';

export interface DaemonSpec {
  /** A daemon type of the original registry (`DAEMON_TYPES`), or a host program's own name. */
  readonly type: string;
  readonly machine: AnyStateMachine;
  /** Stored with each snapshot; a snapshot of another version is not restored. */
  readonly machineVersion: string;
  /** Input of the machine. */
  readonly input?: unknown;
  readonly subscribes: readonly string[];
  readonly emits: readonly string[];
  /**
   * Only for a host's own daemon types: the original's types take theirs from the one registry
   * table, so that there is no second source of truth (lesson 15).
   */
  readonly dependsOn?: readonly string[];
  readonly softDependsOn?: readonly string[];
  readonly critical?: boolean;
  /** OTP restart type; permanent. */
  readonly restart?: RestartType;
  readonly backoff?: Partial<Backoff>;
  readonly intensity?: Partial<Intensity>;
  /** How long a stop may take before the actor is stopped by force; 5 s. */
  readonly shutdownTimeoutMs?: number;
  /** How long the machine may take to reach its ready state; 10 s. */
  readonly startTimeoutMs?: number;
  /** Read subscriptions from the SQLite event log with the daemon's own cursor. */
  readonly durable?: boolean;
  /**
   * Subscribed types this daemon handles only when its own runtime published them, e.g. the
   * MasterLoop's ALL_CRITICAL_DAEMONS_READY, which every runtime sharing the event log publishes.
   */
  readonly localOnly?: readonly string[];
}

/** The event a daemon machine receives for a catalog event (`CatalogEvent` for a typed one). */
export interface DaemonEvent<E extends Envelope = Envelope> {
  readonly type: E['type'];
  readonly payload: E['payload'];
  readonly envelope: E;
}

export { RESTORED_EVENT, STOP_EVENT };

/**
 * The transition that re-arms a state's `after` timers after a restore (XState does not restore
 * delayed events).
 * @example
 * backingOff: { after: { 5000: 'idle' }, on: { ...rearmOnRestore('backingOff') } }
 */
export function rearmOnRestore(state: string) {
  return { [RESTORED_EVENT]: { target: state, reenter: true } } as const;
}
