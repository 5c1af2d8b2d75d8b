/**
 * What the pipeline's assembly (`src/pipeline/`) hands each domain's daemon specs: the worker as
 * an actor, where this host is, and the settings of the decision daemons. The specs stay beside
 * their machines and free of I/O: the worker comes in as an actor logic, already wrapped.
 */
import type { AnyActorLogic } from 'xstate';
import type { AlertManagerInput } from './lifecycle/alert-manager.js';
import type { AutoPromotionInput } from './model/auto-promotion.js';
import type { PerformanceWatchdogInput } from './model/performance-watchdog.js';
import type { PipelineRecoveryInput } from './recovery/pipeline-recovery.js';
import type { FeedbackLoopInput } from './training/feedback-loop.js';

export interface JobImplementations {
  readonly actors: { readonly runJob: AnyActorLogic };
  /** `retry`: the wait before attempt n+1 of a failed job (the job daemon's `backingOff`). */
  readonly delays?: { readonly retry: (args: { context: { attempt: number } }) => number };
}

export interface PipelineContext {
  /**
   * What every job daemon's machine is provided with (`machine.provide(ctx.jobs)`): the `runJob`
   * actor it invokes (the worker behind it) and, where the assembly sets one, its retry delay.
   */
  readonly jobs: JobImplementations;
  /** This host, where selfplay data is produced. */
  readonly host: string;
  /** Nodes that promoted models are distributed to, and selfplay data is synced to. */
  readonly targets: readonly string[];
  /** Set in a cluster: work and targets follow the leader and presence. */
  readonly cluster?: { readonly host: string };
  /** Daemons whose every subscription crosses processes read the event log with a cursor. */
  readonly durable?: boolean;
  /** Stored with each snapshot; bumped when a machine's states or context change shape. */
  readonly machineVersion: string;
  readonly feedback?: FeedbackLoopInput;
  readonly promotion?: AutoPromotionInput;
  readonly trainingThreshold?: number;
  readonly epochs?: number;
  readonly watchdog?: PerformanceWatchdogInput;
  readonly alerts?: AlertManagerInput;
  readonly recovery?: PipelineRecoveryInput;
  /** IDLE_RESOURCE: how long without GPU work is idle. */
  readonly idleSeconds?: number;
  /** DAEMON_MANAGER: the longest a regression's pause lasts. */
  readonly maxPauseMs?: number;
}
