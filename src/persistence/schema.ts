/**
 * The database schema, as numbered migrations run at open (`PRAGMA user_version`).
 *
 * Version 1 keeps the original service's tables exactly (`events`, `subscribers`, `acks`), so a
 * Python process of the original can keep reading and writing the same file, and adds what this
 * runtime needs: envelope columns on `events` (nullable, so the original's inserts, which name
 * their columns, are undisturbed), durable consumers and their inbox, dead letters, snapshots.
 * It is written with IF NOT EXISTS throughout because the file may already hold the original's
 * tables at user_version 0.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

/** Columns this runtime adds to the original `events` table. */
const ENVELOPE_COLUMNS: readonly (readonly [name: string, type: string])[] = [
  ['envelope_id', 'TEXT'],
  ['origin_runtime', 'TEXT'],
  ['origin_pid', 'INTEGER'],
  ['trace_id', 'TEXT'],
  ['correlation_id', 'TEXT'],
  ['parent_id', 'TEXT'],
  // Set on rows replayed from dead letters: only that durable consumer reads them.
  ['target_consumer', 'TEXT'],
];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'original tables, envelope columns, consumers, dead letters, snapshots',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS events (
          event_id INTEGER PRIMARY KEY AUTOINCREMENT,
          event_type TEXT NOT NULL,
          payload TEXT NOT NULL DEFAULT '{}',
          source TEXT NOT NULL DEFAULT '',
          hostname TEXT NOT NULL DEFAULT '',
          created_at REAL NOT NULL,
          INDEX_event_type TEXT GENERATED ALWAYS AS (event_type) STORED
        );
        CREATE INDEX IF NOT EXISTS idx_events_type ON events(event_type);
        CREATE INDEX IF NOT EXISTS idx_events_created ON events(created_at);
        CREATE TABLE IF NOT EXISTS subscribers (
          subscriber_id TEXT PRIMARY KEY,
          process_name TEXT,
          hostname TEXT,
          pid INTEGER,
          subscribed_types TEXT,
          last_poll_at REAL,
          created_at REAL
        );
        CREATE TABLE IF NOT EXISTS acks (
          subscriber_id TEXT,
          event_id INTEGER,
          acked_at REAL,
          PRIMARY KEY (subscriber_id, event_id)
        );
      `);
      const present = new Set(
        (db.prepare('PRAGMA table_info(events)').all() as { name: string }[]).map((c) => c.name),
      );
      for (const [name, type] of ENVELOPE_COLUMNS) {
        if (!present.has(name)) db.exec(`ALTER TABLE events ADD COLUMN ${name} ${type}`);
      }
      db.exec(`
        CREATE TABLE IF NOT EXISTS consumers (
          name TEXT PRIMARY KEY,
          types TEXT NOT NULL,
          cursor INTEGER NOT NULL,
          owner TEXT,
          owner_host TEXT,
          owner_pid INTEGER,
          heartbeat_at REAL NOT NULL,
          created_at REAL NOT NULL,
          pending_event_id INTEGER,
          pending_attempts INTEGER NOT NULL DEFAULT 0,
          pending_error TEXT,
          handled INTEGER NOT NULL DEFAULT 0,
          dead_lettered INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS consumer_inbox (
          consumer TEXT NOT NULL,
          envelope_id TEXT NOT NULL,
          processed_at REAL NOT NULL,
          PRIMARY KEY (consumer, envelope_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idx_inbox_processed ON consumer_inbox(processed_at);
        CREATE TABLE IF NOT EXISTS dead_letters (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          consumer TEXT NOT NULL,
          event_id INTEGER,
          envelope_id TEXT,
          event_type TEXT NOT NULL,
          payload TEXT NOT NULL,
          source TEXT NOT NULL DEFAULT '',
          created_at REAL,
          error TEXT NOT NULL,
          attempts INTEGER NOT NULL,
          dead_at REAL NOT NULL,
          replayed_at REAL
        );
        CREATE INDEX IF NOT EXISTS idx_dead_letters_consumer ON dead_letters(consumer);
        CREATE TABLE IF NOT EXISTS actor_snapshots (
          runtime_id TEXT NOT NULL,
          actor_id TEXT NOT NULL,
          machine_version TEXT NOT NULL,
          snapshot TEXT NOT NULL,
          saved_at REAL NOT NULL,
          PRIMARY KEY (runtime_id, actor_id)
        );
      `);
    },
  },
  {
    version: 2,
    description: 'lease holders by process identity; runtimes and their heartbeats',
    up(db) {
      const present = new Set(
        (db.prepare('PRAGMA table_info(consumers)').all() as { name: string }[]).map((c) => c.name),
      );
      // `<boot id>:<start ticks>`: a PID alone is reused (always 1 in a container).
      if (!present.has('owner_start')) db.exec('ALTER TABLE consumers ADD COLUMN owner_start TEXT');
      db.exec(`
        CREATE TABLE IF NOT EXISTS runtimes (
          runtime_id TEXT PRIMARY KEY,
          host TEXT NOT NULL,
          pid INTEGER NOT NULL,
          process_start TEXT,
          profile TEXT NOT NULL,
          started_at REAL NOT NULL,
          heartbeat_at REAL NOT NULL,
          stopped_at REAL,
          stop_reason TEXT,
          storage TEXT
        );
      `);
    },
  },
  {
    version: 3,
    description:
      'the cluster bridge: rows that came from other hosts, its lease and cursor, its inbox',
    up(db) {
      const present = new Set(
        (db.prepare('PRAGMA table_info(events)').all() as { name: string }[]).map((c) => c.name),
      );
      // The host an inbound row came from (through the cluster); NULL for rows written here. The
      // bridge never sends such a row back out.
      if (!present.has('via_cluster')) db.exec('ALTER TABLE events ADD COLUMN via_cluster TEXT');
      db.exec(`
        CREATE TABLE IF NOT EXISTS cluster_bridge (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          file_id TEXT NOT NULL,
          host TEXT,
          owner_runtime TEXT,
          owner_pid INTEGER,
          owner_start TEXT,
          heartbeat_at REAL,
          out_cursor INTEGER NOT NULL DEFAULT 0,
          sent INTEGER NOT NULL DEFAULT 0,
          received INTEGER NOT NULL DEFAULT 0,
          state TEXT
        );
        CREATE TABLE IF NOT EXISTS cluster_inbox (
          envelope_id TEXT PRIMARY KEY,
          stream_seq INTEGER NOT NULL,
          origin_host TEXT NOT NULL,
          received_at REAL NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idx_cluster_inbox_received ON cluster_inbox(received_at);
      `);
    },
  },
  {
    version: 4,
    description:
      "the inbound consumer's floor: where a host's durable is made again from when it is missing",
    up(db) {
      const present = new Set(
        (db.prepare('PRAGMA table_info(cluster_bridge)').all() as { name: string }[]).map(
          (c) => c.name,
        ),
      );
      // The last stream sequence below which this host had acknowledged every message, and the
      // creation time of the stream it counts in (a stream made again counts from 1).
      if (!present.has('in_floor'))
        db.exec('ALTER TABLE cluster_bridge ADD COLUMN in_floor INTEGER NOT NULL DEFAULT 0');
      if (!present.has('in_stream'))
        db.exec('ALTER TABLE cluster_bridge ADD COLUMN in_stream TEXT');
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
