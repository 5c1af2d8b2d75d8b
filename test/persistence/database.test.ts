import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultCoordinationDir,
  defaultDbPath,
  EventLogError,
  openDatabase,
  SchemaTooNewError,
} from '../../src/index.js';
import { SCHEMA_VERSION } from '../../src/persistence/schema.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb;
afterEach(() => tmp?.cleanup());

const isRoot = process.getuid?.() === 0;

describe('openDatabase()', () => {
  it('creates the directory and the file owner-only, in WAL mode, at the current schema', () => {
    tmp = tempDb();
    const path = join(tmp.dir, 'nested', 'events.db');
    const db = openDatabase(path);
    expect(statSync(join(tmp.dir, 'nested')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(db.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file that is not a database, naming the path', () => {
    tmp = tempDb();
    writeFileSync(
      tmp.path,
      'this is not sqlite, just some text that is long enough to have a header....',
    );
    expect(() => openDatabase(tmp.path)).toThrow(EventLogError);
    expect(() => openDatabase(tmp.path)).toThrow(
      `the file is not a SQLite database (database '${tmp.path}')`,
    );
  });

  it('refuses a schema newer than the code', () => {
    tmp = tempDb();
    const raw = new Database(tmp.path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(tmp.path)).toThrow(SchemaTooNewError);
    expect(() => openDatabase(tmp.path)).toThrow(
      `schema version ${SCHEMA_VERSION + 1} is newer than this code supports`,
    );
  });

  it('refuses an unwritable directory, naming it', () => {
    tmp = tempDb();
    // Root writes through any mode bits, but not into /proc/self.
    let dir = '/proc/self';
    if (!isRoot) {
      dir = join(tmp.dir, 'locked');
      mkdirSync(dir, { mode: 0o500 });
      chmodSync(dir, 0o500);
    }
    expect(() => openDatabase(join(dir, 'events.db'))).toThrow(
      `directory '${dir}' is not writable`,
    );
  });

  it('refuses a directory path it cannot create, naming it', () => {
    tmp = tempDb();
    writeFileSync(join(tmp.dir, 'file'), 'x');
    const path = join(tmp.dir, 'file', 'sub', 'events.db');
    expect(() => openDatabase(path)).toThrow(
      `cannot create directory '${join(tmp.dir, 'file', 'sub')}'`,
    );
  });

  it("upgrades a file holding the original's tables without touching their rows", () => {
    tmp = tempDb();
    const raw = new Database(tmp.path);
    raw.exec(`CREATE TABLE events (event_id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL,
      payload TEXT NOT NULL DEFAULT '{}', source TEXT NOT NULL DEFAULT '', hostname TEXT NOT NULL DEFAULT '',
      created_at REAL NOT NULL, INDEX_event_type TEXT GENERATED ALWAYS AS (event_type) STORED)`);
    raw
      .prepare(
        'INSERT INTO events (event_type, payload, source, hostname, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run('training_completed', '{"config":"hex8_2p"}', 'py', 'h', 1.5);
    raw.close();
    const db = openDatabase(tmp.path);
    const row = db.db.prepare('SELECT * FROM events').get() as Record<string, unknown>;
    expect(row).toMatchObject({
      event_type: 'training_completed',
      source: 'py',
      envelope_id: null,
    });
    db.close();
  });
});

describe('default paths', () => {
  it("follow the original's rules", () => {
    expect(defaultCoordinationDir({ RINGRIFT_COORDINATION_DIR: '/x' })).toBe('/x');
    expect(defaultDbPath({ RINGRIFT_COORDINATION_DIR: '/x' })).toBe('/x/events.db');
    expect(defaultCoordinationDir({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe(
      '/run/user/7/ringrift_coordination',
    );
    const fallback = defaultCoordinationDir({});
    expect(fallback).toMatch(isRoot ? /ringrift_coordination$/ : /ringrift_coordination_\d+$/);
  });
});
