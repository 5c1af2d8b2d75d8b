/**
 * Rows of the `events` table <-> envelopes. Writing keeps the original's columns meaningful for a
 * Python reader (canonical upper-case type, JSON payload, source, hostname, created_at); reading
 * accepts what a Python writer produced: no envelope id, the type as enum value or upper-case
 * name or alias, `config` instead of `config_key`.
 */
import { CoordinationError } from '../errors.js';
import { resolveEventType } from '../events/aliases.js';
import { CATALOG, type EventName, type PayloadOf } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import { preparePayload } from '../events/payload.js';

export interface EventRow {
  readonly event_id: number;
  readonly event_type: string;
  readonly payload: string;
  readonly source: string;
  readonly hostname: string;
  readonly created_at: number;
  readonly envelope_id: string | null;
  readonly origin_runtime: string | null;
  readonly origin_pid: number | null;
  readonly trace_id: string | null;
  readonly correlation_id: string | null;
  readonly parent_id: string | null;
  readonly target_consumer: string | null;
}

export const ROW_COLUMNS =
  'event_id, event_type, payload, source, hostname, created_at, envelope_id, origin_runtime, origin_pid, trace_id, correlation_id, parent_id, target_consumer';

/** The file's last event id, 0 when it holds none. */
export const LAST_EVENT_ID_SQL = 'SELECT COALESCE(MAX(event_id), 0) FROM events';

const INSERT_COLUMNS =
  'event_type, payload, source, hostname, created_at, envelope_id, origin_runtime, origin_pid, trace_id, correlation_id, parent_id, target_consumer';

export const INSERT_EVENT_SQL = `INSERT INTO events
  (${INSERT_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** `INSERT_EVENT_SQL` for a row that came from another host: its values, then that host. */
export const INSERT_INBOUND_EVENT_SQL = `INSERT INTO events
  (${INSERT_COLUMNS}, via_cluster)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The values of `INSERT_EVENT_SQL`, in its column order, for one envelope. */
export type RowValues = [
  event_type: string,
  payload: string,
  source: string,
  hostname: string,
  created_at: number,
  envelope_id: string | null,
  origin_runtime: string | null,
  origin_pid: number | null,
  trace_id: string | null,
  correlation_id: string | null,
  parent_id: string | null,
  target_consumer: string | null,
];

/** The row of one envelope (positional: binding by name costs more than the rest of the insert). */
export function toRowValues(envelope: Envelope, targetConsumer: string | null = null): RowValues {
  const payload = envelope.payload as Record<string, unknown>;
  // Python consumers of the original read `config`; give them both spellings on the wire.
  const wire =
    typeof payload.config_key === 'string' && !('config' in payload)
      ? { ...payload, config: payload.config_key }
      : payload;
  return [
    envelope.type,
    JSON.stringify(wire),
    envelope.source,
    envelope.origin.host,
    envelope.timestamp,
    envelope.id,
    envelope.origin.runtimeId,
    envelope.origin.pid,
    envelope.traceId,
    envelope.correlationId,
    envelope.parentId,
    targetConsumer,
  ];
}

/**
 * The row that `INSERT_EVENT_SQL` with `values` wrote as `eventId`, as the event log's read of
 * the file would give it (`via_cluster` NULL: written here): what the writer just committed,
 * without reading it back.
 */
export function rowOfValues(
  eventId: number,
  values: RowValues,
): EventRow & { readonly via_cluster: null } {
  return {
    event_id: eventId,
    event_type: values[0],
    payload: values[1],
    source: values[2],
    hostname: values[3],
    created_at: values[4],
    envelope_id: values[5],
    origin_runtime: values[6],
    origin_pid: values[7],
    trace_id: values[8],
    correlation_id: values[9],
    parent_id: values[10],
    target_consumer: values[11],
    via_cluster: null,
  };
}

export type DecodeFailure =
  | { readonly ok: false; readonly reason: 'corrupt-json'; readonly message: string }
  | { readonly ok: false; readonly reason: 'unknown-type'; readonly message: string }
  | { readonly ok: false; readonly reason: 'invalid-payload'; readonly message: string };

export type Decoded = { readonly ok: true; readonly envelope: Envelope } | DecodeFailure;

/** Envelope id of a row written without one (by the original's Python code). */
export function rowEnvelopeId(row: Pick<EventRow, 'envelope_id' | 'event_id'>): string {
  return row.envelope_id ?? `row-${row.event_id}`;
}

/**
 * Decodes a row; never throws for bad data, so that one bad row cannot stop a reader.
 * `maxPayloadBytes` applies the same limit as publish.
 */
export function decodeRow(row: EventRow, maxPayloadBytes: number): Decoded {
  let name: EventName;
  try {
    name = resolveEventType(row.event_type).name;
  } catch (error) {
    return { ok: false, reason: 'unknown-type', message: (error as Error).message };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(row.payload);
  } catch (error) {
    return {
      ok: false,
      reason: 'corrupt-json',
      message: `payload is not JSON: ${(error as Error).message}`,
    };
  }
  let payload: Readonly<Record<string, unknown>>;
  try {
    payload = preparePayload(CATALOG[name], raw, row.created_at, maxPayloadBytes);
  } catch (error) {
    if (!(error instanceof CoordinationError)) throw error;
    return { ok: false, reason: 'invalid-payload', message: error.message };
  }
  const id = rowEnvelopeId(row);
  const envelope: Envelope = Object.freeze({
    id,
    type: name,
    payload: payload as PayloadOf<EventName>,
    source: row.source,
    timestamp: row.created_at,
    origin: Object.freeze({
      host: row.hostname,
      pid: row.origin_pid ?? 0,
      runtimeId: row.origin_runtime ?? 'external',
    }),
    traceId: row.trace_id ?? id,
    correlationId: row.correlation_id,
    parentId: row.parent_id,
  });
  return { ok: true, envelope };
}
