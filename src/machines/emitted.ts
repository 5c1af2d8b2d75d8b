/**
 * What daemon machines emit for their host: catalog events to publish, whose payloads the
 * compiler checks against the catalog (publishing checks them again at run time), and named
 * rejections of events that lack what the daemon needs, which the host logs and counts; and the
 * check of the field most of those rejections are about.
 */

import { emit } from 'xstate';
import type { EventName, PayloadInput } from '../events/catalog/index.js';
import { isValidConfigKey } from '../events/config-key.js';

export type CatalogEmit = {
  [T in EventName]: { readonly type: T; readonly payload: PayloadInput<T> };
}[EventName];

export interface Rejection {
  readonly type: 'daemon.rejected';
  readonly reason: string;
  readonly event: string;
}

/** One failed attempt of a job, for the host to log at warn (the last one also fails the job). */
export interface AttemptFailed {
  readonly type: 'daemon.attempt_failed';
  readonly job: string;
  readonly attempt: number;
  readonly error: string;
  readonly retrying: boolean;
}

/**
 * An alert for the host to raise: a structured log line at error, the alerts of `status` and
 * the live view, and the configured alert command, if any.
 */
export interface Alert {
  readonly type: 'daemon.alert';
  readonly severity: 'warning' | 'critical';
  /** The event that raised it. */
  readonly alert: string;
  readonly config_key?: string;
  readonly message: string;
  /** The envelope id of that event. */
  readonly cause: string;
}

export type Emitted = CatalogEmit | Rejection | AttemptFailed | Alert;

/** The rejection of an `event` for `reason` (never a silent skip). */
export function rejection(event: string, reason: string): Rejection {
  return { type: 'daemon.rejected', reason, event };
}

/** The action that emits that rejection. */
export function reject(event: string, reason: string) {
  return emit(rejection(event, reason)) as never;
}

/** A usable `config_key`, by the one rule (what every per-config decision is keyed by). */
export function isConfigKey(value: unknown): value is string {
  return isValidConfigKey(value);
}
