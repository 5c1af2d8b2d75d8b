/**
 * The event log's reads as a listener sees them (the cluster bridge takes its outbox rows from
 * them instead of reading the file again): each commit of this process read at once, other
 * connections' rows in the poll's reads, a read that stops short saying so, and `null` when
 * nothing reads the file. And rows this connection wrote for other hosts (the bridge's inbound
 * events): read back only when the router here did not take them all already.
 */
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRouter,
  type Envelope,
  type FileRead,
  openEventLog,
  type Router,
} from '../../src/index.js';
import {
  INSERT_EVENT_SQL,
  INSERT_INBOUND_EVENT_SQL,
  ROW_COLUMNS,
  toRowValues,
} from '../../src/persistence/row-codec.js';
import { catalogEvent } from '../support/catalog-event.js';
import { type LogFixture, logFixture, until } from '../support/log.js';
import { tempDb } from '../support/temp-db.js';

let f: LogFixture | undefined;
let router: Router | undefined;
afterEach(async () => {
  await router?.close();
  await f?.close();
  router = undefined;
  f = undefined;
});

/** The ids of the events table, in order. */
const fileIds = (fixture: LogFixture): number[] =>
  fixture.log.db.db
    .prepare('SELECT event_id FROM events ORDER BY event_id')
    .pluck()
    .all() as number[];

function listen(fixture: LogFixture): (FileRead | null)[] {
  router = createRouter({
    name: 'here',
    logger: pino({ level: 'silent' }),
    eventLog: fixture.log,
  });
  const reads: (FileRead | null)[] = [];
  fixture.log.onRead((read) => void reads.push(read));
  return reads;
}

describe('the event log read for a listener', () => {
  it("hands each of this process's commits over at once, not at the next poll", async () => {
    // A poll every 5 s: only the read that follows the commit can be this fast.
    f = logFixture({ poll: { minMs: 5_000, maxMs: 5_000 } });
    const reads = listen(f);
    const a = router?.publish('TRAINING_COMPLETED', {
      config_key: 'a',
      success: true,
      duration: 1,
    });
    const b = router?.publish('TRAINING_COMPLETED', {
      config_key: 'b',
      success: true,
      duration: 1,
    });
    await router?.flush();
    await until(() => reads.length > 0, 2_000, 'a read after the commit');
    const read = reads[0] as FileRead;
    expect(read.after).toBe(0);
    expect(read.complete).toBe(true);
    expect(read.rows.map((r) => [r.envelope_id, r.via_cluster])).toEqual([
      [a?.id, null],
      [b?.id, null],
    ]);
    expect(read.rows.map((r) => r.event_id)).toEqual(fileIds(f));
  });

  it("hands this process's commits over without reading them back: each row as the file holds it", async () => {
    // A poll every 5 s: what reaches the listener sooner comes with the commits.
    f = logFixture({ poll: { minMs: 5_000, maxMs: 5_000 } });
    const reads = listen(f);
    for (let i = 0; i < 40; i++) {
      router?.publish('TRAINING_COMPLETED', {
        config_key: `c${i}`,
        success: i % 2 === 0,
        duration: i,
      });
      if (i % 3 === 0) router?.publish('GAME_SYNCED', {});
      await router?.flush();
    }
    await until(() => reads.flatMap((r) => r?.rows ?? []).length >= 54, 2_000, 'every commit');
    expect(f.log.getStats().fileReads).toBe(0);
    // Every column of every row, in the file's order, once: what a read would have given.
    const inFile = f.log.db.db
      .prepare(`SELECT ${ROW_COLUMNS}, via_cluster FROM events ORDER BY event_id`)
      .all();
    const handed = reads.flatMap((r) => (r ? [...r.rows] : []));
    expect(handed.map((row) => ({ ...row }))).toEqual(inFile);
    for (let i = 1; i < reads.length; i++)
      expect(reads[i]?.after).toBe(reads[i - 1]?.rows.at(-1)?.event_id);
  });

  it("still reads what another connection commits around this process's commits: before one, and in the same interval as one", async () => {
    f = logFixture({ poll: { minMs: 1, maxMs: 25 } });
    const reads = listen(f);
    const got: string[] = [];
    router?.subscribe('TRAINING_STARTED', (e) => void got.push(e.id));
    const other = new Database(f.tmp.path);
    const insert = other.prepare(INSERT_EVENT_SQL);
    const foreign = (key: string) => {
      const { envelope } = catalogEvent('TRAINING_STARTED', { config_key: key });
      insert.run(...toRowValues(envelope));
      return envelope.id;
    };
    try {
      // Before: the writer thread finds a row after the last one read, so the commit is read.
      const before = foreign('before');
      router?.publish('GAME_SYNCED', {});
      await router?.flush();
      await until(() => got.length === 1, 2_000, 'the row committed before');
      expect(got).toEqual([before]);
      // In the same interval: committed while this process's commit is handed over, before the
      // poll looks at the file's version. Nothing more is written: only the poll's own check
      // can find it.
      let during = '';
      const stop = reads.length;
      f.log.onRead((read) => {
        if (read && during === '' && reads.length > stop) during = foreign('during');
      });
      router?.publish('GAME_SYNCED', {});
      await router?.flush();
      await until(() => got.length === 2, 2_000, 'the row committed in the same interval');
      expect(got).toEqual([before, during]);
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual([before, during]);
    } finally {
      other.close();
    }
  });

  it("reads another connection's rows while this process's batch waits for that connection's lock", async () => {
    f = logFixture({ poll: { minMs: 1, maxMs: 25 } });
    listen(f);
    const got: string[] = [];
    router?.subscribe('TRAINING_STARTED', (e) => void got.push(e.id));
    const other = new Database(f.tmp.path);
    const insert = other.prepare(INSERT_EVENT_SQL);
    try {
      other.exec('BEGIN IMMEDIATE');
      router?.publish('GAME_SYNCED', {}); // on the writer thread, waiting for the lock
      await new Promise((r) => setTimeout(r, 50));
      const { envelope } = catalogEvent('TRAINING_STARTED', { config_key: 'held' });
      insert.run(...toRowValues(envelope));
      other.exec('COMMIT');
      other.exec('BEGIN IMMEDIATE'); // held again at once: the batch goes on waiting
      await until(() => got.length === 1, 1_000, "the other connection's row");
      expect(got).toEqual([envelope.id]);
      expect(f.log.getStats().committed).toBe(0);
    } finally {
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
    }
    await router?.flush();
    expect(f.log.getStats().committed).toBe(1);
  });

  it("gives other connections' rows in the poll's reads; one that stops short says so, and the next goes on from there", async () => {
    f = logFixture();
    const reads = listen(f);
    for (let i = 0; i < 600; i++)
      f.otherRouter.publish('TRAINING_COMPLETED', {
        config_key: `c${i}`,
        success: true,
        duration: 1,
      });
    await f.otherRouter.flush();
    await until(
      () => reads.flatMap((r) => r?.rows ?? []).length >= 600,
      5_000,
      "the other connection's rows",
    );
    const withRows = reads.filter((r): r is FileRead => r !== null && r.rows.length > 0);
    expect(withRows[0]?.complete).toBe(false);
    expect(withRows[0]?.rows.length).toBe(500);
    // Each read starts where the one before it ended: together they cover the file once.
    for (let i = 1; i < withRows.length; i++)
      expect(withRows[i]?.after).toBe(withRows[i - 1]?.rows.at(-1)?.event_id);
    expect(withRows.flatMap((r) => r.rows.map((row) => row.event_id))).toEqual(fileIds(f));
    expect(withRows.at(-1)?.complete).toBe(true);
  });

  it('tells a listener null after a commit when nothing reads the file (no router started)', async () => {
    const tmp = tempDb();
    const log = openEventLog({ path: tmp.path, logger: pino({ level: 'silent' }) });
    try {
      const reads: (FileRead | null)[] = [];
      log.onRead((read) => void reads.push(read));
      log.append(catalogEvent('TRAINING_STARTED', { config_key: 'hex8_2p' }).envelope);
      await log.flush();
      await until(() => reads.length > 0, 2_000, 'the commit to be told');
      expect(reads).toEqual([null]);
    } finally {
      await log.close();
      tmp.cleanup();
    }
  });

  it('reads back rows written here for other hosts only when the router did not take them all', async () => {
    f = logFixture();
    const reads = listen(f);
    const got: Envelope[] = [];
    router?.subscribe('TRAINING_STARTED', (e) => void got.push(e));
    const log = f.log;
    /** Writes rows as the bridge does (this connection, one transaction): their ids. */
    const writeInbound = async (n: number) => {
      const ids: number[] = [];
      await log.db.persist('test', 'inbound rows', (db) => {
        const insert = db.prepare(INSERT_INBOUND_EVENT_SQL);
        for (let i = 0; i < n; i++) {
          const { envelope } = catalogEvent('TRAINING_STARTED', { config_key: 'hex8_2p' });
          ids.push(Number(insert.run(...toRowValues(envelope), 'b').lastInsertRowid));
        }
      });
      return { first: ids[0] as number, last: ids.at(-1) as number };
    };
    // Taken by the router already: the poll passes over them.
    log.noteForeignRows(await writeInbound(3), true);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([]);
    expect(reads.filter((r) => r !== null && r.rows.length > 0)).toEqual([]);
    // Not all taken (a full mailbox): the poll reads them and delivers them.
    const rows = await writeInbound(2);
    log.noteForeignRows(rows, false);
    await until(() => got.length === 2, 2_000, 'the rows read back');
    expect(reads.flatMap((r) => r?.rows.map((row) => row.event_id) ?? [])).toEqual([
      rows.first,
      rows.last,
    ]);
  });
});
