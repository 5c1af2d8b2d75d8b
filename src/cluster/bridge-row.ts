/**
 * The host's bridge as the file records it (`cluster_bridge`): who runs it, its heartbeat, cursor
 * and counts, and the member's last published state (connection, leader, hosts), so that `status`
 * of another process can show this host's place in the cluster without connecting to NATS.
 */
import type Database from 'better-sqlite3';
import { OUTBOX_COUNT_SQL } from './bridge.js';

/** What the member writes into the row at every heartbeat. */
export interface BridgeState {
  readonly connection: string;
  readonly server: string | null;
  readonly reason: string | null;
  readonly leader: string | null;
  readonly token: number | null;
  readonly leading: boolean;
  readonly hosts: readonly string[];
  readonly cluster: string;
}

export interface BridgeRow {
  readonly fileId: string;
  readonly host: string | null;
  readonly ownerRuntime: string | null;
  readonly ownerPid: number | null;
  readonly heartbeatAgeS: number | null;
  readonly cursor: number;
  readonly sent: number;
  readonly received: number;
  /** Cross-host rows of this host after the cursor: not yet acknowledged by JetStream. */
  readonly outbox: number;
  readonly state: BridgeState | null;
}

/** Null when this file never joined a cluster. */
export function readBridgeRow(db: Database.Database): BridgeRow | null {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_bridge'")
    .get();
  if (!table) return null;
  const row = db.prepare('SELECT * FROM cluster_bridge WHERE id = 1').get() as
    | {
        file_id: string;
        host: string | null;
        owner_runtime: string | null;
        owner_pid: number | null;
        heartbeat_at: number | null;
        out_cursor: number;
        sent: number;
        state: string | null;
      }
    | undefined;
  if (!row) return null;
  const outbox = db.prepare(OUTBOX_COUNT_SQL).pluck().get(row.out_cursor) as number;
  const received = db.prepare('SELECT COUNT(*) FROM cluster_inbox').pluck().get() as number;
  let state: BridgeState | null = null;
  if (row.state) state = JSON.parse(row.state) as BridgeState;
  return {
    fileId: row.file_id,
    host: row.host,
    ownerRuntime: row.owner_runtime,
    ownerPid: row.owner_pid,
    heartbeatAgeS: row.heartbeat_at === null ? null : Date.now() / 1000 - row.heartbeat_at,
    cursor: row.out_cursor,
    sent: row.sent,
    received,
    outbox,
    state,
  };
}
