/**
 * Every error this package throws. Misuse errors (the caller's input was wrong) are thrown before
 * anything is accepted; runtime errors describe a failure of the system itself. `name` always
 * equals the class name so that logs and `instanceof`-free checks agree.
 */

/** Base class: lets a host catch everything this package throws with one `instanceof`. */
export class CoordinationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

// ---------------------------------------------------------------- misuse

/**
 * An event name that is neither a catalog name, a wire value nor a known alias.
 * @example
 * try { router.publish('TRAINING_COMPLETE_X', {}) } catch (e) { e.suggestions } // ['TRAINING_COMPLETED', ...]
 */
export class UnknownEventTypeError extends CoordinationError {
  readonly input: string;
  readonly suggestions: readonly string[];
  constructor(input: string, suggestions: readonly string[]) {
    const hint =
      suggestions.length > 0
        ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?`
        : '; see docs/EVENT_CATALOG.md for the catalog';
    super(`unknown event type '${input}'${hint}`);
    this.input = input;
    this.suggestions = suggestions;
  }
}

/** One problem found in a payload: where it is and what is wrong. */
export interface ValidationIssue {
  /** Dotted path inside the payload, e.g. `config_key` or `old_weights.hex8`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A payload that does not satisfy its event's schema. Nothing was delivered.
 * @example
 * // event 'EVALUATION_COMPLETED' payload is invalid: 'config_key': required (got undefined)
 */
export class EventValidationError extends CoordinationError {
  readonly eventType: string;
  readonly issues: readonly ValidationIssue[];
  constructor(eventType: string, issues: readonly ValidationIssue[]) {
    const detail = issues.map((i) => `'${i.path || '(payload)'}': ${i.message}`).join('; ');
    super(`event '${eventType}' payload is invalid: ${detail}`);
    this.eventType = eventType;
    this.issues = issues;
  }
}

/** A payload whose JSON form is larger than the router's `maxPayloadBytes`. Nothing was delivered. */
export class PayloadTooLargeError extends CoordinationError {
  readonly eventType: string;
  readonly bytes: number;
  readonly limit: number;
  constructor(eventType: string, bytes: number, limit: number) {
    super(
      `event '${eventType}' payload is ${bytes} bytes serialised, over the limit of ${limit} bytes; ` +
        'send a path or an id instead of the data, or raise maxPayloadBytes',
    );
    this.eventType = eventType;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** An option given to a factory or a call that is out of its range. */
export class InvalidOptionError extends CoordinationError {
  readonly option: string;
  constructor(option: string, rule: string, got: unknown) {
    super(`'${option}' must be ${rule} (got ${describe(got)})`);
    this.option = option;
  }
}

// ---------------------------------------------------------------- runtime

/** A publish or subscribe on a router whose `close()` has been called. */
export class RouterClosedError extends CoordinationError {
  constructor(operation: string) {
    super(`router is closed; '${operation}' is not accepted after close()`);
  }
}

/** A handler that did not settle within its timeout; its mailbox moved on to the next event. */
export class HandlerTimeoutError extends CoordinationError {
  readonly eventId: string;
  readonly subscriber: string;
  readonly timeoutMs: number;
  constructor(eventId: string, subscriber: string, timeoutMs: number) {
    super(`handler '${subscriber}' did not finish event ${eventId} within ${timeoutMs} ms`);
    this.eventId = eventId;
    this.subscriber = subscriber;
    this.timeoutMs = timeoutMs;
  }
}

/** `once()` or `emitAndWait()` waited longer than its `timeoutMs`. */
export class WaitTimeoutError extends CoordinationError {
  readonly eventType: string;
  readonly timeoutMs: number;
  constructor(
    eventType: string,
    timeoutMs: number,
    message = `no '${eventType}' event arrived within ${timeoutMs} ms`,
  ) {
    super(message);
    this.eventType = eventType;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A subscriber's mailbox is full: the publish is refused as a whole (no subscriber got it), so
 * that a stuck handler shows up as back-pressure instead of unbounded memory.
 */
export class MailboxFullError extends CoordinationError {
  readonly eventType: string;
  readonly subscriber: string;
  readonly capacity: number;
  constructor(eventType: string, subscriber: string, capacity: number) {
    super(
      `mailbox of subscriber '${subscriber}' is full (${capacity} events waiting); ` +
        `event '${eventType}' was not published. The handler is slower than the publisher or stuck`,
    );
    this.eventType = eventType;
    this.subscriber = subscriber;
    this.capacity = capacity;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  return typeof value;
}

/**
 * `createRuntime` would make a second router in a process that already has one in use: the
 * guide's module-level `publish` / `subscribe` would reach one and the daemons the other.
 */
export class ProcessRouterTakenError extends CoordinationError {
  constructor(runtimeId: string, owner: string | null, subscriptions: Record<string, number>) {
    const held =
      owner !== null
        ? `runtime '${owner}' runs in this process and its router is the process router`
        : `getRouter() already made the process router, with ${Object.values(subscriptions).reduce((a, b) => a + b, 0)} subscriptions`;
    super(
      `runtime '${runtimeId}' cannot take the process router: ${held}. Create the runtime first (then getRouter(), publish and subscribe use its router), stop the other one, or pass isolatedRouter: true for a second router on purpose`,
    );
  }
}

// ---------------------------------------------------------------- persistence

/**
 * A failure of the SQLite event log or snapshot store. `path` is the database file; `code` is
 * SQLite's (`SQLITE_BUSY`, `SQLITE_NOTADB`, ...) or the file system's (`EACCES`) when known.
 */
export class EventLogError extends CoordinationError {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, message: string, options?: ErrorOptions & { code?: string }) {
    super(`${message} (database '${path}')`, options);
    this.path = path;
    this.code = options?.code ?? (options?.cause as { code?: string } | undefined)?.code;
  }
}

/**
 * The file has refused writes for so long that `limit` accepted cross-process events wait in
 * memory: this event is refused (back-pressure) rather than dropped or held without bound.
 * Nothing was delivered. It passes once the file accepts writes again.
 */
export class OutboxFullError extends EventLogError {
  readonly limit: number;
  constructor(path: string, limit: number, code: string | null, reason: string | null) {
    super(
      path,
      `${limit} accepted events are waiting to be written ${code ? `because the file refuses writes (${code}: ${reason})` : 'because they come faster than the file takes them'}; this event is refused until they are written`,
      { code: code ?? undefined },
    );
    this.limit = limit;
  }
}

/** The database was written by a newer version of this package; this one will not touch it. */
export class SchemaTooNewError extends EventLogError {
  readonly found: number;
  readonly supported: number;
  constructor(path: string, found: number, supported: number) {
    super(
      path,
      `schema version ${found} is newer than this code supports (${supported}); upgrade ringrift-coordination or use another file`,
    );
    this.found = found;
    this.supported = supported;
  }
}

/** A durable consumer name that another live process already runs. */
export class ConsumerBusyError extends CoordinationError {
  readonly consumer: string;
  readonly owner: string;
  constructor(consumer: string, owner: string) {
    super(
      `durable consumer '${consumer}' is already running in ${owner}; stop it there first or choose another name`,
    );
    this.consumer = consumer;
    this.owner = owner;
  }
}

// ---------------------------------------------------------------- daemons

/** A daemon spec that cannot be registered: unknown type, unknown event, unknown or self dependency. */
export class InvalidDaemonSpecError extends CoordinationError {
  readonly daemon: string;
  constructor(daemon: string, problem: string) {
    super(`daemon '${daemon}': ${problem}`);
    this.daemon = daemon;
  }
}

/** Hard dependencies that form a cycle; `cycle` lists it, first daemon repeated at the end. */
export class DependencyCycleError extends CoordinationError {
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super(`daemon dependencies form a cycle: ${cycle.join(' -> ')}`);
    this.cycle = cycle;
  }
}

/** A daemon that did not reach its ready state within its start timeout. */
export class DaemonStartTimeoutError extends CoordinationError {
  readonly daemon: string;
  readonly timeoutMs: number;
  constructor(daemon: string, timeoutMs: number) {
    super(
      `daemon '${daemon}' did not become ready within ${timeoutMs} ms (its machine never entered a state tagged 'ready')`,
    );
    this.daemon = daemon;
    this.timeoutMs = timeoutMs;
  }
}

/** The inspector's port cannot be listened on (taken by another program, or privileged). */
export class InspectorPortError extends CoordinationError {
  readonly port: number;
  constructor(host: string, port: number, code: string, option = '--inspect-port (inspectPort)') {
    super(
      code === 'EADDRINUSE'
        ? `inspector port ${port} on ${host} is already in use; choose another with ${option}`
        : `inspector port ${port} on ${host} cannot be used (${code}); choose another with ${option}`,
    );
    this.port = port;
  }
}

/**
 * A critical daemon is FAILED (its restart intensity was exceeded, failing to start counts):
 * `whenReady()` will not resolve by itself. Only an operator's restart leaves FAILED.
 */
export class DaemonFailedError extends CoordinationError {
  readonly daemon: string;
  readonly lastError: string | null;
  /** The critical daemons that cannot start because they depend on it (itself when critical). */
  readonly critical: readonly string[];
  constructor(
    daemon: string,
    lastError: string | null,
    reason: string,
    critical: readonly string[] = [daemon],
  ) {
    const what =
      critical.length === 1 && critical[0] === daemon
        ? `critical daemon '${daemon}' FAILED`
        : `daemon '${daemon}' FAILED, so critical ${critical.map((c) => `'${c}'`).join(', ')} cannot start`;
    super(`${what} (${reason}); last error: ${lastError ?? 'none recorded'}`);
    this.daemon = daemon;
    this.lastError = lastError;
    this.critical = critical;
  }
}

// ---------------------------------------------------------------- workers

/** Why a job failed: the process exited non-zero, wrote output that is not a result, ran out of time, or was cancelled. */
export type WorkerFailure = 'exit' | 'output' | 'timeout' | 'aborted' | 'simulated' | 'input';

/** A job that did not produce a result. `stderrTail` holds the end of a command's stderr. */
export class WorkerError extends CoordinationError {
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly failure: WorkerFailure;
  readonly exitCode: number | null;
  readonly stderrTail: string;
  constructor(
    kind: string,
    idempotencyKey: string,
    failure: WorkerFailure,
    detail: string,
    extra: { exitCode?: number | null; stderrTail?: string } = {},
  ) {
    const tail = extra.stderrTail
      ? `; stderr ends with: ${extra.stderrTail.trim().split('\n').slice(-3).join(' | ')}`
      : '';
    super(`${kind} job '${idempotencyKey}' failed (${failure}): ${detail}${tail}`);
    this.kind = kind;
    this.idempotencyKey = idempotencyKey;
    this.failure = failure;
    this.exitCode = extra.exitCode ?? null;
    this.stderrTail = extra.stderrTail ?? '';
  }
}

/** A worker configuration file that cannot be used: names the file and each problem. */
export class WorkerConfigError extends CoordinationError {
  readonly path: string;
  readonly problems: readonly string[];
  constructor(path: string, problems: readonly string[]) {
    super(`worker configuration '${path}' is invalid: ${problems.join('; ')}`);
    this.path = path;
    this.problems = problems;
  }
}

// ---------------------------------------------------------------- cluster

/** The cluster's JetStream stream or KV buckets could not be created or updated (permissions?). */
export class ClusterSetupError extends CoordinationError {
  readonly what: string;
  constructor(what: string, cause: string, options?: ErrorOptions) {
    super(`cluster setup: could not create or update ${what}: ${cause}`, options);
    this.what = what;
  }
}

/** Another live runtime, with another SQLite file, already announces this host name. */
export class HostTakenError extends CoordinationError {
  readonly host: string;
  constructor(host: string, holder: string, ageS: number) {
    super(
      `host '${host}' is already in the cluster (runtime ${holder}, presence refreshed ${ageS.toFixed(1)} s ago); give this runtime another --host, or stop the other one`,
    );
    this.host = host;
  }
}

/**
 * Cross-host events this host has not yet handed to JetStream reached the bound (NATS has been
 * unreachable for long): back-pressure on publish, nothing is dropped.
 */
export class ClusterOutboxFullError extends CoordinationError {
  readonly limit: number;
  constructor(limit: number, why: string) {
    super(
      `the cluster outbox holds ${limit} cross-host events not yet on JetStream (${why}); publish refused until it drains`,
    );
    this.limit = limit;
  }
}

/** NATS refused this runtime's credentials (or it has none and the server wants some). */
export class ClusterAuthError extends CoordinationError {
  constructor(servers: readonly string[], cause: string) {
    super(
      `NATS at ${servers.join(', ')} refused the credentials (${cause}); set RINGRIFT_NATS_TOKEN, RINGRIFT_NATS_USER and RINGRIFT_NATS_PASSWORD, or RINGRIFT_NATS_CREDS`,
    );
  }
}
