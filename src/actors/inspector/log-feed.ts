/**
 * Feeds the inspector's model from a SQLite file, for `ringrift-coord inspect`: a runtime started
 * without any flag is watched from another process. What the file holds is less than what a
 * runtime sees of itself, and the page says so:
 * - the tree: runtimes from the `runtimes` table, each daemon from its DAEMON_STATUS_CHANGED
 *   events, its state from its saved snapshot, its workers from the snapshot's children (their
 *   progress is not saved);
 * - deliveries are inferred from the daemons' specs (`subscribed`, drawn with a `?`), not seen;
 * - events and snapshot saves are applied in time order, so time travel shows the tree as of the
 *   last snapshot saved before the moment, to the few milliseconds a save takes.
 * Read-only: it never writes the file.
 */

import { MAX_PAYLOAD_BYTES } from '../../events/payload.js';
import type { DaemonSpec } from '../../machines/daemon-spec.js';
import { openDatabase, type SqliteDatabase } from '../../persistence/database.js';
import { decodeRow, type EventRow, ROW_COLUMNS } from '../../persistence/row-codec.js';
import { listRuntimes, livenessOf, type RuntimeRow } from '../../persistence/runtimes.js';
import { statePath } from '../state-path.js';
import { envelopeRecord } from './live-feed.js';
import type { InspectorModel } from './model.js';
import { addRuntime, daemonNode, runtimeNode, supervisorNode, workerNode } from './tree.js';

export interface LogFeedOptions {
  readonly model: InspectorModel;
  readonly dbPath: string;
  /** The specs of the daemons that may run against the file: whom each event is delivered to. */
  readonly specs: readonly DaemonSpec[];
  /** Rows read per tick at most, so a large file is caught up over a few ticks, not in one stall. */
  readonly rowsPerTick?: number;
}

export interface LogFeed {
  /** Reads what was added to the file since the last call. */
  tick(): void;
  stop(): void;
}

interface SnapshotRow {
  readonly runtime_id: string;
  readonly actor_id: string;
  readonly snapshot: string;
  readonly saved_at: number;
}

interface PersistedSnapshot {
  value?: unknown;
  children?: Record<string, { snapshot?: { input?: { kind?: unknown } } }>;
}

export function startLogFeed(options: LogFeedOptions): LogFeed {
  const { model } = options;
  const db: SqliteDatabase = openDatabase(options.dbPath, { readonly: true });
  const rowsPerTick = options.rowsPerTick ?? 5_000;
  const subscribers = new Map<string, string[]>();
  for (const spec of options.specs)
    for (const type of spec.subscribes)
      subscribers.set(type, [...(subscribers.get(type) ?? []), spec.type]);
  const columns = (db.db.prepare('PRAGMA table_info(events)').all() as { name: string }[]).map(
    (c) => c.name,
  );
  const viaCluster = columns.includes('via_cluster') ? 'via_cluster' : '0 AS via_cluster';
  const readEvents = db.db.prepare(
    `SELECT ${ROW_COLUMNS}, ${viaCluster} FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?`,
  );
  const readSnapshots = db.db.prepare(
    'SELECT runtime_id, actor_id, snapshot, saved_at FROM actor_snapshots WHERE saved_at > ? ORDER BY saved_at',
  );
  // Start with the newest events the model keeps, not the file's whole history.
  const newest =
    (db.db.prepare('SELECT MAX(event_id) AS id FROM events').get() as { id: number | null }).id ??
    0;
  let lastEvent = Math.max(0, newest - model.limits.events);
  let lastSnapshot = 0;
  const runtimes = new Map<string, RuntimeRow>();
  const daemonsOf = new Map<string, Set<string>>();
  const starts = new Map<string, number>();
  const workersOf = new Map<string, Set<string>>();

  const ensureRuntime = (id: string, host: string) => {
    if (!model.node(runtimeNode(id))) addRuntime(model, id, `runtime ${id}`, host);
  };
  const ensureDaemon = (runtimeId: string, type: string, host: string) => {
    ensureRuntime(runtimeId, host);
    const set = daemonsOf.get(runtimeId) ?? new Set<string>();
    daemonsOf.set(runtimeId, set);
    if (set.has(type)) return;
    set.add(type);
    model.update(daemonNode(runtimeId, type), {
      kind: 'daemon',
      parent: supervisorNode(runtimeId),
      label: type,
      host,
      incarnation: 0,
      restarts: 0,
    });
  };

  const applyEvent = (row: EventRow & { via_cluster: number }) => {
    const decoded = decodeRow(row, MAX_PAYLOAD_BYTES);
    if (!decoded.ok) return;
    const envelope = decoded.envelope;
    model.addEvent(envelopeRecord(envelope, row.via_cluster === 1));
    const runtimeId = envelope.origin.runtimeId;
    if (envelope.type === 'DAEMON_STATUS_CHANGED') {
      const p = envelope.payload as { daemon_name: string; new_status: string };
      ensureDaemon(runtimeId, p.daemon_name, envelope.origin.host);
      const id = daemonNode(runtimeId, p.daemon_name);
      const n = (starts.get(id) ?? 0) + (p.new_status === 'starting' ? 1 : 0);
      starts.set(id, n);
      model.update(id, {
        kind: 'daemon',
        status: p.new_status,
        ready: p.new_status === 'running',
        incarnation: n,
        restarts: Math.max(0, n - 1),
      });
    }
    // Every daemon of a runtime alive then that subscribes to the type.
    for (const [rid, types] of daemonsOf) {
      const runtime = runtimes.get(rid);
      if (
        runtime &&
        (runtime.started_at > envelope.timestamp ||
          (runtime.stopped_at ?? Infinity) < envelope.timestamp)
      )
        continue;
      for (const type of subscribers.get(envelope.type) ?? [])
        if (types.has(type))
          model.handled(envelope.id, type, runtime?.host ?? envelope.origin.host, 'subscribed');
    }
  };

  const applySnapshot = (row: SnapshotRow) => {
    let snapshot: PersistedSnapshot;
    try {
      snapshot = JSON.parse(row.snapshot) as PersistedSnapshot;
    } catch {
      return; // A snapshot that is not JSON is the restoring runtime's to report, not ours.
    }
    const host = runtimes.get(row.runtime_id)?.host ?? '?';
    ensureDaemon(row.runtime_id, row.actor_id, host);
    const id = daemonNode(row.runtime_id, row.actor_id);
    // A row without a value is not a machine's snapshot: no state to show rather than 'undefined'.
    const state = snapshot.value === undefined ? '' : statePath(snapshot.value);
    model.update(id, { kind: 'daemon', state });
    const running = workersOf.get(id) ?? new Set<string>();
    workersOf.set(id, running);
    const children = snapshot.children ?? {};
    for (const child of running)
      if (!(child in children)) {
        running.delete(child);
        model.remove(`${id}/${child}`);
      }
    for (const [child, entry] of Object.entries(children)) {
      const kind = entry.snapshot?.input?.kind;
      if (typeof kind !== 'string' || running.has(child)) continue;
      running.add(child);
      model.update(`${id}/${child}`, workerNode(id, kind, host));
    }
  };

  const tick = () => {
    for (const runtime of listRuntimes(db)) {
      runtimes.set(runtime.runtime_id, runtime);
      ensureRuntime(runtime.runtime_id, runtime.host);
      model.update(runtimeNode(runtime.runtime_id), {
        kind: 'runtime',
        label: `runtime ${runtime.runtime_id} (${runtime.profile})`,
        host: runtime.host,
        status: livenessOf(runtime).state,
      });
    }
    const events = readEvents.all(lastEvent, rowsPerTick) as (EventRow & { via_cluster: number })[];
    const snapshots = readSnapshots.all(lastSnapshot) as SnapshotRow[];
    lastEvent = events.at(-1)?.event_id ?? lastEvent;
    lastSnapshot = snapshots.at(-1)?.saved_at ?? lastSnapshot;
    // In time order, so the tree after an event is the one saved before the next.
    const pending = snapshots.values();
    let next = pending.next();
    for (const row of events) {
      for (; !next.done && next.value.saved_at <= row.created_at; next = pending.next())
        applySnapshot(next.value);
      applyEvent(row);
    }
    for (; !next.done; next = pending.next()) applySnapshot(next.value);
  };

  return {
    tick,
    stop: () => db.close(),
  };
}
