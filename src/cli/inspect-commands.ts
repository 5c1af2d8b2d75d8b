/**
 * `status`, `events tail`, `events publish` and `wiring check`: what an operator runs next to a
 * runtime, reading and writing the same SQLite file.
 */
import { type BridgeRow, readBridgeRow } from '../cluster/bridge-row.js';
import { CLUSTER_EMITS } from '../cluster/member.js';
import {
  checkGuideCoverage,
  checkWiring,
  createPipelineDaemons,
  createRouter,
  createSimulatedWorker,
  type DaemonSpec,
  type DeclaredWiring,
  type EventName,
  type EventRow,
  GUIDE_ROWS,
  type GuideCoverage,
  InvalidOptionError,
  inspectEventLog,
  isCrossProcess,
  LAST_EVENT_ID_SQL,
  type Liveness,
  listRuntimes,
  livenessOf,
  openDatabase,
  openEventLog,
  PIPELINE_PROFILES,
  type PipelineProfile,
  ROW_COLUMNS,
  type RuntimeRow,
  resolveEventType,
  type StorageHealth,
  SUPERVISOR_EMITS,
  statePath,
} from '../index.js';

type Out = (line: string) => void;

interface DaemonState {
  status: string;
  at: number;
  reason: string;
  restarts: number;
}

/** Every runtime seen in the log (several processes may share it), with its daemons' last states. */
interface RuntimeStates {
  readonly host: string;
  readonly pid: number | null;
  readonly daemons: Map<string, DaemonState>;
}

/**
 * Daemon states (the last DAEMON_STATUS_CHANGED of each daemon of each runtime in the log: a
 * coordinator and a training node both have an EVENT_ROUTER), consumers, dead letters. Every run
 * is a runtime of its own, so only the `shownRuntimes` most recently active are listed.
 */
export function printStatus(dbPath: string, out: Out, shownRuntimes = 5): void {
  const status = inspectEventLog(dbPath);
  const db = openDatabase(dbPath, { readonly: true });
  try {
    const rows = db.db
      .prepare(
        `SELECT payload, created_at, origin_runtime, origin_pid, hostname FROM events
          WHERE event_type IN ('DAEMON_STATUS_CHANGED', 'daemon_status_changed')
          ORDER BY event_id DESC LIMIT 5000`,
      )
      .all() as {
      payload: string;
      created_at: number;
      origin_runtime: string | null;
      origin_pid: number | null;
      hostname: string;
    }[];
    const runtimes = new Map<string, RuntimeStates>();
    for (const row of rows) {
      const p = JSON.parse(row.payload) as Record<string, string>;
      const name = p.daemon_name as string;
      // Rows written by the original (no envelope columns) are grouped by host.
      const key = row.origin_runtime ?? `host ${row.hostname}`;
      let runtime = runtimes.get(key);
      if (!runtime) {
        runtime = { host: row.hostname, pid: row.origin_pid, daemons: new Map() };
        runtimes.set(key, runtime);
      }
      let daemon = runtime.daemons.get(name);
      if (!daemon) {
        daemon = {
          status: p.new_status as string,
          at: row.created_at,
          reason: p.reason ?? '',
          restarts: 0,
        };
        runtime.daemons.set(name, daemon);
      }
      if (p.new_status === 'backing_off') daemon.restarts++;
    }
    const machines = machineStates(db.db);
    const registered = new Map(listRuntimes(db).map((r) => [r.runtime_id, r]));
    out(`database: ${status.path}`);
    out(`events: ${status.events.count} (ids ${status.events.firstId}..${status.events.lastId})`);
    out('daemons:');
    if (runtimes.size === 0) out('  (no DAEMON_STATUS_CHANGED in the log)');
    // Rows were read newest first, so the runtimes are in order of their last activity.
    const all = [...runtimes];
    for (const [key, runtime] of all.slice(0, shownRuntimes)) {
      const row = registered.get(key);
      const liveness = row ? livenessOf(row) : null;
      out(
        `  runtime ${key} on ${runtime.host}${runtime.pid === null ? '' : `, pid ${runtime.pid}`}: ${liveness ? describeLiveness(liveness) : 'unknown (not registered: an older version or the original)'}`,
      );
      const storage = row ? storageOf(row) : null;
      if (storage && liveness?.state === 'running')
        out(
          `    event log ${storage.state.toUpperCase()} (${storage.code ?? 'unknown'}): ${storage.queuedEvents} events queued in memory; waiting: ${storage.waiting.join(', ')}`,
        );
      // A runtime that is gone is doing nothing, whatever its last status said.
      const gone = liveness !== null && liveness.state !== 'running';
      for (const [name, d] of [...runtime.daemons].sort((a, b) => a[0].localeCompare(b[0]))) {
        const age = Math.max(0, Date.now() / 1000 - d.at).toFixed(0);
        const machine = machines.get(key)?.get(name);
        const state = gone && d.status !== 'stopped' ? `was ${d.status}` : d.status;
        out(
          `    ${name.padEnd(26)} ${state.padEnd(12)} ${`snapshot ${machine?.value ?? '-'}`.padEnd(28)} restarts ${String(d.restarts).padEnd(3)} ${age}s ago  (${d.reason})`,
        );
      }
      const stages = machines.get(key)?.get('DATA_PIPELINE')?.stages;
      if (stages && Object.keys(stages).length > 0)
        out(
          `    pipeline stages: ${Object.entries(stages)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([config, stage]) => `${config} ${stage}`)
            .join(', ')}`,
        );
      const alerts = machines.get(key)?.get('ALERT_MANAGER')?.alerts ?? [];
      if (alerts.length > 0) {
        out(
          `    alerts (${Math.min(alerts.length, SHOWN_ALERTS)} most recent of ${alerts.length}):`,
        );
        for (const a of alerts.slice(-SHOWN_ALERTS))
          out(
            `      ${new Date(a.at * 1000).toISOString().slice(11, 19)} ${a.severity.padEnd(8)} ${a.message}`,
          );
      }
    }
    if (all.length > shownRuntimes)
      out(
        `  (${all.length - shownRuntimes} older runtime${all.length - shownRuntimes === 1 ? '' : 's'} not shown; --all shows them)`,
      );
    out('durable consumers:');
    if (status.consumers.length === 0) out('  (none)');
    for (const c of status.consumers) {
      out(
        `  ${c.name.padEnd(26)} lag ${String(c.lag).padEnd(6)} handled ${String(c.handled).padEnd(6)} dead letters ${c.deadLettered}  heartbeat ${c.secondsSinceHeartbeat.toFixed(0)}s ago`,
      );
    }
    out(
      `dead letters: ${status.deadLetters.total} (${status.deadLetters.notReplayed} not replayed)`,
    );
    for (const [consumer, n] of Object.entries(status.deadLetters.byConsumer))
      out(`  ${consumer}: ${n}`);
    printBridge(readBridgeRow(db.db), out);
  } finally {
    db.close();
  }
}

/** This host's place in the cluster, as its bridge last recorded it (`status` needs no NATS). */
function printBridge(bridge: BridgeRow | null, out: Out): void {
  if (!bridge) return;
  const s = bridge.state;
  const alive =
    bridge.ownerRuntime !== null && bridge.heartbeatAgeS !== null && bridge.heartbeatAgeS < 15;
  out(`cluster: host ${bridge.host ?? '?'}${s ? ` in cluster ${s.cluster}` : ''}`);
  out(
    `  bridge: ${alive ? `runtime ${bridge.ownerRuntime} (pid ${bridge.ownerPid}), heartbeat ${(bridge.heartbeatAgeS ?? 0).toFixed(0)} s ago` : 'not running'}`,
  );
  if (s && alive)
    out(
      `  NATS: ${s.connection}${s.server ? ` to ${s.server}` : ''}${s.reason ? ` (${s.reason})` : ''}`,
    );
  out(
    `  outbox: ${bridge.outbox} cross-host events not yet on JetStream; sent ${bridge.sent}, received ${bridge.received}`,
  );
  if (s && alive)
    out(
      `  leader: ${s.leader ?? 'none seen'}${s.token === null ? '' : ` (token ${s.token})`}${s.leading ? ', this host' : ''}; hosts present: ${s.hosts.join(', ') || 'none'}`,
    );
}

function describeLiveness(l: Liveness): string {
  const ago = (s: number) => `${s.toFixed(0)} s ago`;
  if (l.state === 'running') return `running (heartbeat ${ago(l.heartbeatAgeS)})`;
  if (l.state === 'stopped')
    return `stopped ${ago(Date.now() / 1000 - l.at)}${l.reason ? ` (${l.reason})` : ''}`;
  return `dead (last heartbeat ${ago(l.heartbeatAgeS)}; ${l.why})`;
}

function storageOf(row: RuntimeRow): StorageHealth | null {
  if (!row.storage) return null;
  try {
    return JSON.parse(row.storage) as StorageHealth;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return null;
  }
}

/**
 * What the daemons' machines were doing at their last snapshot (where a restart resumes), per runtime: the state, and the
 * DATA_PIPELINE's stage per config. A snapshot this cannot read is shown as unreadable, not skipped.
 */
/** What `status` reads of one daemon's last snapshot. */
interface MachineState {
  readonly value: string;
  /** DATA_PIPELINE's stage per config. */
  readonly stages?: Record<string, string>;
  /** ALERT_MANAGER's recent alerts, oldest first. */
  readonly alerts?: readonly { severity: string; message: string; at: number }[];
}

/** Alerts per runtime in `status`. */
const SHOWN_ALERTS = 5;

function machineStates(
  db: import('better-sqlite3').Database,
): Map<string, Map<string, MachineState>> {
  const rows = db.prepare('SELECT runtime_id, actor_id, snapshot FROM actor_snapshots').all() as {
    runtime_id: string;
    actor_id: string;
    snapshot: string;
  }[];
  const out = new Map<string, Map<string, MachineState>>();
  for (const row of rows) {
    let runtime = out.get(row.runtime_id);
    if (!runtime) {
      runtime = new Map();
      out.set(row.runtime_id, runtime);
    }
    let snapshot: {
      value?: unknown;
      context?: { notes?: { stages?: Record<string, string> }; recent?: MachineState['alerts'] };
    };
    try {
      snapshot = JSON.parse(row.snapshot);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      runtime.set(row.actor_id, { value: '(unreadable)' });
      continue;
    }
    runtime.set(row.actor_id, {
      value: statePath(snapshot.value),
      stages: snapshot.context?.notes?.stages,
      alerts: row.actor_id === 'ALERT_MANAGER' ? snapshot.context?.recent : undefined,
    });
  }
  return out;
}

/** Prints the newest events (optionally of one type), then follows new ones until `signal` aborts. */
export async function tailEvents(
  dbPath: string,
  type: string | undefined,
  out: Out,
  signal: AbortSignal,
  follow = true,
  initial = 20,
): Promise<void> {
  const wanted = type === undefined ? undefined : resolveEventType(type).name;
  const db = openDatabase(dbPath, { readonly: true });
  try {
    const all = db.db.prepare(
      `SELECT ${ROW_COLUMNS} FROM events WHERE event_id > ? ORDER BY event_id LIMIT 500`,
    );
    const last = db.db.prepare(LAST_EVENT_ID_SQL).pluck();
    let cursor = Math.max(0, (last.get() as number) - initial * 50);
    const print = (row: EventRow) => {
      let name: string;
      try {
        name = resolveEventType(row.event_type).name;
      } catch {
        name = row.event_type;
      }
      if (wanted && name !== wanted) return;
      const at = new Date(row.created_at * 1000).toISOString();
      out(
        `${at} ${String(row.event_id).padStart(7)} ${name.padEnd(30)} ${row.source.padEnd(24)} ${row.payload}`,
      );
    };
    const backlog = (all.all(cursor) as EventRow[]).concat();
    const shown = wanted
      ? backlog.filter((r) => {
          try {
            return resolveEventType(r.event_type).name === wanted;
          } catch {
            return false;
          }
        })
      : backlog;
    for (const row of shown.slice(-initial)) print(row);
    cursor = backlog.at(-1)?.event_id ?? cursor;
    while (follow && !signal.aborted) {
      for (const row of all.all(cursor) as EventRow[]) {
        print(row);
        cursor = row.event_id;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    db.close();
  }
}

/**
 * Validates and publishes one event through the log; prints its envelope id. Only an event
 * that crosses processes is written to the log: published from here, any other would reach
 * nobody (this process has no subscribers), so it is refused rather than reported as sent.
 */
export async function publishEvent(
  dbPath: string,
  type: string,
  payload: Record<string, unknown>,
  out: Out,
): Promise<void> {
  const name = crossProcessEvent('events publish TYPE', type);
  const router = createRouter({ name: 'cli', eventLog: openEventLog({ path: dbPath }) });
  try {
    const envelope = router.publish(name, payload, { source: 'ringrift-coord' });
    await router.flush();
    out(`published ${envelope.type} ${envelope.id}`);
  } finally {
    await router.close();
  }
}

/**
 * The canonical name of an event another process may publish into the file, checked: only
 * cross-process events reach the runtimes through it.
 * @throws {InvalidOptionError} naming `option` for any other event.
 */
export function crossProcessEvent(option: string, type: string): EventName {
  const name = resolveEventType(type).name;
  if (!isCrossProcess(name))
    throw new InvalidOptionError(
      option,
      'an event that crosses processes (the XP column of docs/EVENT_CATALOG.md): others stay inside the process that publishes them, and this one has no subscribers',
      name,
    );
  return name;
}

/** The pipeline's daemon specs, for what they subscribe to and emit and their machines. */
export function referenceSpecs(): DaemonSpec[] {
  return createPipelineDaemons({
    worker: createSimulatedWorker(),
    masterLoop: { configs: ['x'], iterations: 1, gamesPerBatch: 1 },
  });
}

/**
 * Every event a pipeline daemon subscribes to has an emitter among them (or comes from outside:
 * the guide's tables name the original emitter), and every guide table row's event exists.
 * Returns the number of gaps.
 */
export function checkPipelineWiring(
  out: Out,
  profile: PipelineProfile = 'standalone',
  all: readonly DaemonSpec[] = referenceSpecs(),
): number {
  const members: readonly string[] = PIPELINE_PROFILES[profile];
  const daemons = all.filter((d) => members.includes(d.type));
  const declared: DeclaredWiring = Object.fromEntries(
    daemons.map((d) => [d.type, { subscribes: d.subscribes, emits: d.emits }]),
  );
  // The supervisor emits the lifecycle events; the MasterLoop's ALL_CRITICAL_DAEMONS_READY comes from it.
  const withSupervisor: DeclaredWiring = {
    ...declared,
    supervisor: { emits: SUPERVISOR_EMITS },
    // With --nats, the host's cluster member derives presence and leadership events.
    'cluster member': { emits: CLUSTER_EMITS },
  };
  const report = checkWiring(
    withSupervisor,
    new Set(Object.values(withSupervisor).flatMap((d) => d.subscribes ?? [])),
  );
  // Split: an event may come from (or go to) the other process, if it crosses processes.
  const elsewhere = all.filter((d) => !members.includes(d.type));
  // Specs may name an event by any of its spellings.
  const crosses = (t: string) => isCrossProcess(resolveEventType(t).name);
  const crossesFrom = (t: string, side: 'emits' | 'subscribes') =>
    crosses(t) && elsewhere.some((d) => d[side].includes(t) && !(d.localOnly ?? []).includes(t));
  const onlyElsewhere = (t: string, side: 'emits' | 'subscribes') =>
    !crosses(t) && elsewhere.some((d) => d[side].includes(t));
  const errors = [
    ...report.unknownTypes.map((u) => `${u.component}: ${u.message}`),
    ...report.noEmitter
      .filter((t) => !crossesFrom(t, 'emits'))
      .map((t) =>
        onlyElsewhere(t, 'emits')
          ? `${t}: subscribed to here, emitted only in the other process, and it does not cross processes`
          : `${t}: subscribed to, but no daemon emits it`,
      ),
    ...report.noSubscriber
      .filter((t) => onlyElsewhere(t, 'subscribes'))
      .map(
        (t) =>
          `${t}: emitted here, subscribed to only in the other process, and it does not cross processes`,
      ),
  ];
  const arriving = elsewhere.flatMap((d) => d.emits).filter(crosses);
  const guide = checkGuideCoverage(daemons, SUPERVISOR_EMITS, arriving, CLUSTER_EMITS);
  errors.push(...guide.gaps.map((g) => `guide: ${g}`));
  out(`profile: ${profile}; daemons: ${daemons.length}; guide table rows: ${GUIDE_ROWS.length}`);
  out(
    `guide rows wired in full by this profile: ${guide.complete}; components not built here: ${guide.notBuilt.join(', ')}`,
  );
  for (const d of guide.deviations) out(`deviation: ${d}`);
  for (const i of guide.idle) out(`not wired: ${i}`);
  for (const t of report.noEmitter.filter((t) => crossesFrom(t, 'emits')))
    out(`cross-process in: ${t} comes from the other process`);
  for (const t of report.noSubscriber) {
    if (crossesFrom(t, 'subscribes')) out(`cross-process out: ${t} goes to the other process`);
    else if (!onlyElsewhere(t, 'subscribes'))
      out(`note: ${t} is emitted but no pipeline daemon subscribes to it`);
  }
  for (const e of errors) out(`GAP: ${e}`);
  const missing = printGuideTable(guide.rows, out);
  const problems = [
    ...(errors.length > 0 ? [`${errors.length} gap(s)`] : []),
    ...(missing > 0 ? [`${missing} guide component(s) missing`] : []),
  ];
  out(problems.length === 0 ? 'wiring: ok' : `wiring: ${problems.join(', ')}`);
  return errors.length + missing;
}

const CELL_MARK = {
  wired: 'wired',
  deviation: 'deviation',
  elsewhere: 'other process',
  missing: 'MISSING',
};

/**
 * The guide's rows, one line each: the event, then each emitter and each subscriber with how this
 * profile plays it. Returns how many components are missing (not built, or not wired as the guide
 * says without a documented deviation).
 */
function printGuideTable(rows: GuideCoverage['rows'], out: Out): number {
  let missing = 0;
  const cell = (c: GuideCoverage['rows'][number]['cells'][number]) => {
    if (c.state === 'missing') missing++;
    const who = c.daemon && c.daemon !== c.component ? `${c.component} (${c.daemon})` : c.component;
    return `${who}: ${CELL_MARK[c.state]}${c.why ? ` - ${c.why}` : ''}`;
  };
  const width = Math.max(...rows.map((r) => r.event.length));
  out(`guide table rows (${rows.length}): event | emitters -> subscribers`);
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      out(`  ${section}`);
    }
    const emitters = row.cells.filter((c) => c.side === 'emits').map(cell);
    const subscribers = row.cells.filter((c) => c.side === 'subscribes').map(cell);
    out(`    ${row.event.padEnd(width)} | ${emitters.join('; ')} -> ${subscribers.join('; ')}`);
  }
  const whole = rows.filter((r) => r.cells.every((c) => c.state !== 'missing')).length;
  out(
    `guide: ${whole} of ${rows.length} rows wired (deviations included); ${missing} component(s) missing`,
  );
  return missing;
}
