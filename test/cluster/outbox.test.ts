/**
 * The bridge's outbox against a real nats-server: every cross-host row of the host's file reaches
 * the stream once, whoever wrote it and however it came to the pump. The pump takes rows from the
 * event log's reads when they start where it stands, and reads the file itself after a gap; this
 * test makes both happen: a backlog written while the bridge was down (its cursor is behind the
 * poll's), this process's bursts (read 500 rows at a time, so reads stop short), another
 * connection's rows in between, rows of other types mixed in, and rows that came from other hosts
 * (never sent back). Its cursor then stands past every row, so retention may delete them all.
 */
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readBridgeRow } from '../../src/cluster/bridge-row.js';
import { openEventLog } from '../../src/index.js';
import { INSERT_INBOUND_EVENT_SQL, toRowValues } from '../../src/persistence/row-codec.js';
import { catalogEvent } from '../support/catalog-event.js';
import { memoryLogger } from '../support/memory-logger.js';
import { natsUnavailable, startNats } from '../support/nats.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { bridgeRuntime, clusterScratch, eventually } from './support.js';

const unavailable = natsUnavailable();
if (unavailable) console.log(`cluster outbox tests not run: ${unavailable}`);

const STREAM = 'RINGRIFT_ringrift';

/** The envelope ids of the file's cross-host rows written on this host, in file order. */
function outboxIds(path: string): string[] {
  const conn = new Database(path, { readonly: true });
  try {
    return conn
      .prepare(
        "SELECT envelope_id FROM events WHERE event_type = 'TRAINING_STARTED' AND via_cluster IS NULL ORDER BY event_id",
      )
      .pluck()
      .all() as string[];
  } finally {
    conn.close();
  }
}

/** What the stream holds, in stream order. */
async function onStream(
  jsm: JetStreamManager,
): Promise<{ envelope_id: string; event_type: string }[]> {
  const info = await jsm.streams.info(STREAM);
  const stored: { envelope_id: string; event_type: string }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(STREAM, { seq });
    if (m) stored.push(JSON.parse(new TextDecoder().decode(m.data)));
  }
  return stored;
}

/** The file's bridge row, as `status` reads it. */
function bridgeRow(path: string) {
  const conn = new Database(path, { readonly: true });
  try {
    return readBridgeRow(conn);
  } finally {
    conn.close();
  }
}

describe.skipIf(unavailable !== null)('the cluster outbox (real nats-server)', () => {
  const { servers, dir } = clusterScratch('ringrift-outbox-');

  it("sends every cross-host row once (a backlog from while the bridge was down, this process's bursts, another connection's rows, rows from other hosts never), and its cursor passes every row", async () => {
    const nats = await startNats();
    servers.push(nats);
    const path = join(dir(), 'e.db');
    const quiet = pino({ level: 'silent' });

    const start = () => bridgeRuntime(path, nats.url, 'e', quiet);
    // The file joins the cluster, then its bridge is down while the backlog is written: the cursor
    // starts behind everything written next.
    const first = start();
    await first.start();
    await first.stop();
    const before = openEventLog({ path, logger: quiet });
    for (let i = 0; i < 6_000; i++) {
      before.append(catalogEvent('TRAINING_STARTED', { config_key: 'hex8_2p' }).envelope);
      if (i % 7 === 0) before.append(catalogEvent('GAME_SYNCED', {}).envelope);
    }
    await before.close();

    const runtime = start();
    // Another process on the host, as far as the file can tell: its own connection and writer.
    const other = openEventLog({ path, logger: quiet });
    let lastBeforeStop = -1;
    try {
      await runtime.start();
      for (let round = 0; round < 6; round++) {
        // One turn: a burst that commits as one batch and that the poll reads in pieces.
        for (let i = 0; i < 700; i++) {
          runtime.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
          if (i % 5 === 0) runtime.router.publish('GAME_SYNCED', {});
        }
        for (let i = 0; i < 150; i++) {
          other.append(catalogEvent('TRAINING_STARTED', { config_key: 'square8_2p' }).envelope);
          if (i % 3 === 0) other.append(catalogEvent('GAME_SYNCED', {}).envelope);
        }
        await new Promise((r) => setTimeout(r, round * 15));
      }
      await runtime.router.flush();
      await other.flush();
      // Last, as the bridge writes what other hosts sent: no outbox row follows them, and the
      // cursor must still pass them.
      await other.db.persist('test', 'write rows from other hosts', (db) => {
        const inbound = db.prepare(INSERT_INBOUND_EVENT_SQL);
        for (let i = 0; i < 100; i++)
          inbound.run(
            ...toRowValues(catalogEvent('TRAINING_STARTED', { config_key: 'hex8_2p' }).envelope),
            'z',
          );
      });
      const expected = outboxIds(path);
      expect(expected.length).toBe(6_000 + 6 * 700 + 6 * 150);

      const nc = await connect({ servers: nats.url });
      try {
        const jsm = await jetstreamManager(nc);
        await eventually(
          async () => (await jsm.streams.info(STREAM)).state.messages >= expected.length,
          30_000,
          `${expected.length} messages on the stream`,
        );
        // Nothing more comes: a second copy would show here (the stream stores a msgID once).
        await new Promise((r) => setTimeout(r, 500));
        const stored = await onStream(jsm);
        expect(new Set(stored.map((m) => m.event_type))).toEqual(new Set(['TRAINING_STARTED']));
        // In the file's order, each once.
        expect(stored.map((m) => m.envelope_id)).toEqual(expected);
      } finally {
        await nc.close();
      }
      await eventually(() => runtime.status().cluster?.outbox === 0, 10_000, 'an empty outbox');
      lastBeforeStop = runtime.eventLog?.db.db
        .prepare('SELECT MAX(event_id) FROM events')
        .pluck()
        .get() as number;
    } finally {
      await other.close();
      await runtime.stop();
    }
    const conn = new Database(path, { readonly: true });
    try {
      // Saved at stop, past the last row there was then. What the stop itself writes (its own
      // local events, none of which crosses) may be committed before the last save and be passed
      // too: on a loaded machine it was, three rows of it.
      const cursor = conn.prepare('SELECT out_cursor FROM cluster_bridge').pluck().get() as number;
      expect(cursor).toBeGreaterThanOrEqual(lastBeforeStop);
      const written = conn.prepare('SELECT MAX(event_id) FROM events').pluck().get() as number;
      expect(cursor).toBeLessThanOrEqual(written);
      const crossingAfter = conn
        .prepare(
          "SELECT COUNT(*) FROM events WHERE event_id > ? AND event_type = 'TRAINING_STARTED'",
        )
        .pluck()
        .get(lastBeforeStop);
      expect(crossingAfter).toBe(0);
    } finally {
      conn.close();
    }
  }, 120_000);

  it("keeps a file's past on its host when the file first joins a cluster; what it writes from then on crosses, once", async () => {
    const nats = await startNats();
    servers.push(nats);
    const path = join(dir(), 'p.db');
    // A host that ran standalone for a while: its TRAINING_STARTED rows are a stale past.
    const standalone = openEventLog({ path, logger: pino({ level: 'silent' }) });
    for (let i = 0; i < 40; i++)
      standalone.append(catalogEvent('TRAINING_STARTED', { config_key: 'hex8_2p' }).envelope);
    await standalone.close();
    const past = outboxIds(path);
    const log = memoryLogger('info');
    const start = () => bridgeRuntime(path, nats.url, 'p', log.logger);
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const runtime = start();
      try {
        await runtime.start();
        for (let i = 0; i < 3; i++)
          runtime.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' });
        await runtime.router.flush();
        await eventually(
          async () => (await jsm.streams.info(STREAM)).state.messages >= 3,
          15_000,
          'three messages on the stream',
        );
      } finally {
        await runtime.stop();
      }
      // What `status` shows: three sent, nothing waiting, the cursor past the past.
      expect(bridgeRow(path)).toMatchObject({ sent: 3, outbox: 0 });
      // A second start is not a first join, and sends nothing again.
      const again = start();
      try {
        await again.start();
      } finally {
        await again.stop();
      }
      expect(bridgeRow(path)).toMatchObject({ sent: 3, outbox: 0 });
      await new Promise((r) => setTimeout(r, 300));
      const stored = (await onStream(jsm)).map((m) => m.envelope_id);
      const all = outboxIds(path);
      expect(all.slice(0, past.length)).toEqual(past);
      expect(stored).toEqual(all.slice(past.length));
      expect(stored).toHaveLength(3);
      // The operator is told where the file's cluster history begins.
      const joined = log.records.filter((r) =>
        r.msg.startsWith('this file joins a cluster for the first time'),
      );
      expect(joined).toHaveLength(1);
      expect(joined[0]?.msg).toBe(
        `this file joins a cluster for the first time: its events up to event_id ${joined[0]?.outCursor} stay on this host`,
      );
      expect(joined[0]?.outCursor).toBeGreaterThanOrEqual(40);
      expect(
        log.records.filter((r) => r.msg.includes('joins a cluster for the first time')),
      ).toHaveLength(1);
    } finally {
      await nc.close();
    }
  }, 60_000);

  it("publishes a cross-host event at once while an earlier one's PubAck is still on its way, and acknowledges both when it comes", async () => {
    const nats = await startNats();
    servers.push(nats);
    // The bridge talks to the server through a proxy that can hold back the server's answers.
    const proxy = await startTcpProxy(nats.port);
    const path = join(dir(), 'q.db');
    const runtime = bridgeRuntime(path, proxy.url, 'q', pino({ level: 'silent' }));
    // What reaches the server, seen on a connection of its own (core NATS: no PubAck involved).
    const observer = await connect({ servers: nats.url });
    const arrived: string[] = [];
    observer.subscribe('ringrift.ringrift.events.TRAINING_STARTED.>', {
      callback: (_error, m) => {
        arrived.push((m.json() as { envelope_id: string }).envelope_id);
      },
    });
    await observer.flush();
    try {
      await runtime.start();
      await eventually(() => runtime.status().cluster?.state === 'ok', 10_000, 'cluster ok');
      proxy.holdToClients();
      const first = runtime.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
      await eventually(() => arrived.includes(first.id), 5_000, 'the first event on the server');
      const second = runtime.router.publish('TRAINING_STARTED', { config_key: 'square8_2p' });
      // Before: the pump waited for the first one's PubAck before it published the second.
      await eventually(
        () => arrived.includes(second.id),
        5_000,
        "the second event on the server while the first one's PubAck is held",
      );
      expect(runtime.status().cluster?.bridgeStats?.sent).toBe(0);
      proxy.release();
      await eventually(
        () => runtime.status().cluster?.bridgeStats?.sent === 2,
        10_000,
        'both acknowledged',
      );
      expect(arrived).toEqual([first.id, second.id]);
    } finally {
      await runtime.stop();
      await observer.close();
      await proxy.close();
    }
  }, 60_000);

  it('saves its cursor about once a second at a steady rate, not once per event, and while idle too', async () => {
    const nats = await startNats();
    servers.push(nats);
    const path = join(dir(), 'c.db');
    const runtime = bridgeRuntime(path, nats.url, 'c', pino({ level: 'silent' }));
    try {
      await runtime.start();
      // Every save of the cursor, counted by the file itself.
      const conn = new Database(path);
      conn.pragma('busy_timeout = 5000');
      conn.exec(`
        CREATE TABLE cursor_saves (at REAL);
        CREATE TRIGGER count_cursor_saves AFTER UPDATE OF out_cursor ON cluster_bridge
        BEGIN INSERT INTO cursor_saves VALUES (julianday('now')); END;
      `);
      const saves = () => conn.prepare('SELECT COUNT(*) FROM cursor_saves').pluck().get() as number;
      const started = performance.now();
      for (let i = 0; i < 150; i++) {
        runtime.router.publish('TRAINING_STARTED', { config_key: 'hex8_2p' });
        await new Promise((r) => setTimeout(r, 10));
      }
      const seconds = (performance.now() - started) / 1000;
      await eventually(
        () => runtime.status().cluster?.bridgeStats?.sent === 150,
        10_000,
        'all 150 acknowledged',
      );
      // What `status` reads from the file: saved while the bridge is idle, within about a second.
      await eventually(() => bridgeRow(path)?.sent === 150, 5_000, 'the bridge row says sent 150');
      // Before: one save per event (150). Now one a second, over the publishing and the waits
      // after it (about a second more), with room for rounding on a slow machine.
      expect(saves()).toBeGreaterThanOrEqual(1);
      expect(saves()).toBeLessThanOrEqual(Math.ceil(seconds) + 4);
      conn.close();
    } finally {
      await runtime.stop();
    }
  }, 60_000);
});
