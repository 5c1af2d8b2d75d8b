/**
 * The flow tests' runtime: the pipeline's daemons in one process without an event log, a log
 * kept in memory, and every event the router delivers recorded in order (the lifecycle events
 * too, unless `pipelineOnly`).
 */
import type { Envelope, Runtime, RuntimeOptions } from '../../src/index.js';
import { createRuntime } from '../../src/index.js';
import type { DaemonSpec } from '../../src/machines/daemon-spec.js';
import { type MemoryLogger, memoryLogger } from './memory-logger.js';

export interface PipelineRuntime {
  readonly runtime: Runtime;
  readonly events: Envelope[];
  readonly log: MemoryLogger;
}

export function pipelineRuntime(
  daemons: readonly DaemonSpec[],
  options: {
    readonly logLevel?: string;
    /** Leaves out the supervisor's DAEMON_* events and ALL_CRITICAL_DAEMONS_READY. */
    readonly pipelineOnly?: boolean;
    readonly runtime?: Partial<RuntimeOptions>;
  } = {},
): PipelineRuntime {
  const log = memoryLogger(options.logLevel ?? 'warn');
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons: [...daemons],
    dbPath: false,
    logger: log.logger,
    ...options.runtime,
  });
  const events: Envelope[] = [];
  const lifecycle = (e: Envelope) =>
    e.type.startsWith('DAEMON_') || e.type === 'ALL_CRITICAL_DAEMONS_READY';
  runtime.router.subscribe('*', (e) => {
    if (!(options.pipelineOnly && lifecycle(e))) events.push(e);
  });
  return { runtime, events, log };
}
