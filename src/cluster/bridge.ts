/**
 * The cluster bridge of one host: moves cross-host events between the host's SQLite file and the
 * cluster's JetStream stream. One runtime per host runs it (the member holds the file's bridge
 * lease).
 *
 * Outbound, the events table is the outbox: a cross-host event is committed to the file first (it
 * survives kill -9 and any NATS outage), then published with `msgID` = envelope id, and the
 * bridge's cursor moves past it once JetStream acknowledged it. A resend after a crash or an
 * outage is stored once by JetStream's duplicate window, and is dropped by every receiver's inbox
 * in any case. Rows that came from other hosts (`via_cluster`) are never sent back.
 *
 * Inbound, a durable pull consumer per host reads every host's events; the bridge writes the
 * others' into the file (the message body is the row itself, decoded by the same code as a row
 * another process wrote), deduplicated by envelope id in `cluster_inbox`, and acknowledges each
 * message only after its transaction committed. Local routers and durable consumers then see the
 * events through the log they already read. A message that is not JSON, has an unknown type or
 * fails its schema goes to the host's dead letters and is acknowledged: nothing stops on it.
 */
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JsMsg,
  jetstream,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type Database from 'better-sqlite3';
import type { Logger } from '../actors/logger.js';
import { CATALOG, type EventName } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import { CANCELLED } from '../persistence/database.js';
import { insertDeadLetter } from '../persistence/dead-letters.js';
import type { FileRead, ReadRow, SqliteEventLog } from '../persistence/event-log.js';
import {
  decodeRow,
  type EventRow,
  INSERT_INBOUND_EVENT_SQL,
  LAST_EVENT_ID_SQL,
  ROW_COLUMNS,
  rowEnvelopeId,
  toRowValues,
} from '../persistence/row-codec.js';
import { AckWindow } from './ack-window.js';
import { within } from './deadline.js';
import { durableStart, type FloorRecord, FloorStore, floorOf } from './inbound-floor.js';
import { type ResolvedCluster, safeToken } from './options.js';
import { JetStreamPublisher } from './publisher.js';
import type { ClusterResources } from './stream.js';
import { subjectOf } from './stream.js';
import { isUnassignedWorkRequest, isWorkRequest } from './work.js';

/** The event types the bridge carries (the catalog's `crossHost` flag). */
export const CROSS_HOST_TYPES: readonly EventName[] = Object.values(CATALOG)
  .filter((d) => d.crossHost !== undefined)
  .map((d) => d.name as EventName);

const CROSS_HOST_IN = `IN (${CROSS_HOST_TYPES.map((t) => `'${t}'`).join(', ')})`;
const CROSS_HOST_SET: ReadonlySet<string> = new Set(CROSS_HOST_TYPES);

/** The outbox's rows, as the pump's SQL selects them: this host's cross-host events. */
function inOutbox(row: ReadRow): boolean {
  return row.via_cluster === null && CROSS_HOST_SET.has(row.event_type);
}

/**
 * How many cross-host rows of this host lie after a bridge cursor (`?`): the outbox's depth, as
 * the bridge and `status` count it.
 */
export const OUTBOX_COUNT_SQL = `SELECT COUNT(*) FROM events WHERE event_id > ? AND via_cluster IS NULL AND event_type ${CROSS_HOST_IN}`;

/** Why an inbound event is not written to this host's file (null: it is). */
export type InboundFilter = (envelope: Envelope) => string | null;

export interface BridgeStats {
  readonly sent: number;
  readonly received: number;
  /** Inbound events dropped on purpose, by reason (a late answer, a stale leader's request). */
  readonly ignored: Readonly<Record<string, number>>;
  readonly duplicates: number;
  readonly deadLettered: number;
  /** Cross-host rows of this host not yet acknowledged by JetStream. */
  readonly backlog: number;
  readonly cursor: number;
  readonly lastError: string | null;
}

const OUT_BATCH = 256;
const OUT_WINDOW = 1_024;
const CURSOR_SAVE_MS = 1_000;
/** How often the inbound durable's ack floor is read from the server and recorded in the file. */
const FLOOR_POLL_MS = 5_000;
/**
 * How long an idle pump sleeps before it reads the outbox anyway: the event log's reads (after
 * each of this process's commits, and each poll that finds another process's) wake it at once,
 * so this only bounds the wait for a commit nothing announced (a read that failed).
 */
const IDLE_READ_MS = 100;
const DEAD_LETTER_CONSUMER = (durable: string) => `cluster:${durable}`;
/** One decoder for every inbound message (a decoder per message was an allocation per event). */
const UTF8 = new TextDecoder();

/** What one inbound batch did to the host's file. */
interface Inbound {
  readonly written: number;
  /** The ids the written rows took: one transaction, so no other row lies between them. */
  readonly ids: { readonly first: number; readonly last: number } | null;
  readonly fresh: readonly Envelope[];
  readonly duplicates: number;
  readonly dead: number;
  readonly ignored: Readonly<Record<string, number>>;
}

const NOTHING_WRITTEN: Inbound = {
  written: 0,
  ids: null,
  fresh: [],
  duplicates: 0,
  dead: 0,
  ignored: {},
};

interface Parsed {
  readonly msg: JsMsg;
  /** One of this host's own events: nothing to write. */
  readonly own?: true;
  readonly row: EventRow | null;
  readonly envelope: Envelope | null;
  readonly error: string | null;
  readonly raw: string;
}

export class ClusterBridge {
  private js: JetStreamClient | null = null;
  private publisher: JetStreamPublisher | null = null;
  private consumerMessages: ConsumerMessages | null = null;
  private closed = false;
  private generation = 0;
  private cursor: number;
  private sent = 0;
  private received = 0;
  private duplicates = 0;
  private deadLettered = 0;
  private readonly ignored: Record<string, number> = {};
  private backlog = 0;
  private unsavedSent = 0;
  /** The cursor as the file last recorded it. */
  private savedCursor: number;
  private saving: Promise<void> | null = null;
  private savedAt = 0;
  private acceptedSinceCount = 0;
  private countedAt = 0;
  private lastError: string | null = null;
  private inbound: Parsed[] = [];
  private flushing = false;
  private flushScheduled = false;
  private readonly acks = new AckWindow();
  private readonly floors: FloorStore;
  /** The floor as the file records it; see `inbound-floor.ts`. */
  private floor: FloorRecord;
  private floorTimer: NodeJS.Timeout | null = null;
  private readonly statements;
  private readonly inboundInsert;
  /** The outbox after `readCursor`, and the file's last id, both of one snapshot of the file. */
  private readonly readOutbox: () => { rows: EventRow[]; maxId: number };
  /** The last token of this host's subjects. */
  private readonly ownSuffix: string;
  private outboundRunning: Promise<void> | null = null;
  private inboundRunning: Promise<void> | null = null;
  private wakeOutbound: (() => void) | null = null;
  /** The outbox may hold rows after `readCursor` that nobody handed over: read the file. */
  private outboxChanged = true;
  /** Every outbox row up to this id is in the window already (sent, held, or acknowledged). */
  private readCursor: number;
  /**
   * The event log's reads tell the pump what the file holds up to `knownTo`: its outbox rows after
   * `readCursor` up to there are `handed`, so the pump sends them without reading the file again.
   */
  private knownTo: number;
  private handed: ReadRow[] = [];

  constructor(
    private readonly cluster: ResolvedCluster,
    private readonly log: SqliteEventLog,
    private readonly logger: Logger,
    private readonly inboundFilter: InboundFilter | null = null,
    /**
     * Hands a committed inbound event to this process's router at once (its poll of the file
     * would find it a little later; the router drops that second copy by envelope id). False
     * when a mailbox is full: the poll delivers it then.
     */
    private readonly deliverLocally: ((envelope: Envelope) => boolean) | null = null,
  ) {
    const db = log.db.db;
    this.statements = {
      cursor: db.prepare('SELECT out_cursor FROM cluster_bridge WHERE id = 1').pluck(),
      // `+event_type`: read in rowid order, not through the type index (then a sort per read).
      pending: db.prepare(
        `SELECT ${ROW_COLUMNS} FROM events WHERE event_id > ? AND via_cluster IS NULL AND +event_type ${CROSS_HOST_IN} ORDER BY event_id LIMIT ?`,
      ),
      backlog: db.prepare(OUTBOX_COUNT_SQL).pluck(),
      maxId: db.prepare(LAST_EVENT_ID_SQL).pluck(),
      saveCursor: db.prepare(
        'UPDATE cluster_bridge SET out_cursor = MAX(out_cursor, ?), sent = sent + ? WHERE id = 1',
      ),
    };
    this.readOutbox = db.transaction(() => ({
      rows: this.statements.pending.all(this.readCursor, OUT_BATCH) as EventRow[],
      maxId: this.statements.maxId.get() as number,
    }));
    this.inboundInsert = {
      inbox: db.prepare(
        'INSERT OR IGNORE INTO cluster_inbox (envelope_id, stream_seq, origin_host, received_at) VALUES (?, ?, ?, ?)',
      ),
      event: db.prepare(INSERT_INBOUND_EVENT_SQL),
    };
    this.floors = new FloorStore(db);
    this.floor = this.floors.load();
    this.ownSuffix = `.${safeToken(cluster.host)}`;
    this.cursor = (this.statements.cursor.get() as number | undefined) ?? 0;
    this.readCursor = this.cursor;
    this.knownTo = this.cursor;
    this.savedCursor = this.cursor;
    this.backlog = this.countBacklog();
    log.onRead((read) => {
      this.learn(read);
      this.wakeOutbound?.();
    });
  }

  /** (Re)starts both directions on a connection; called after every (re)connect. */
  async attach(nc: NatsConnection, resources: ClusterResources): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    this.js = jetstream(nc);
    // The client reconnects a connection by itself (its subscriptions with it): a new publisher
    // only for a new connection.
    if (this.publisher?.nc !== nc) {
      this.publisher?.close();
      this.publisher = new JetStreamPublisher(nc);
    }
    await this.ensureConsumer(resources);
    this.pollFloor(resources);
    if (!this.outboundRunning) this.outboundRunning = this.pumpOut();
    await this.consumerMessages?.close().catch(() => {});
    this.consumerMessages = null;
    if (this.inboundRunning) await this.inboundRunning;
    if (generation !== this.generation || this.closed) return;
    this.inboundRunning = this.pumpIn(generation);
  }

  private async ensureConsumer(resources: ClusterResources): Promise<void> {
    const durable = this.cluster.durableName;
    const stream = (await resources.jsm.streams.info(this.cluster.streamName)).created;
    const existing = await resources.jsm.consumers
      .info(this.cluster.streamName, durable)
      .catch((error: Error) => {
        if (/consumer not found/i.test(error.message)) return null;
        throw error;
      });
    if (existing?.config.ack_policy === AckPolicy.Explicit) {
      // A file of an earlier version records no floor yet.
      if (this.floor.stream !== stream) await this.saveFloor({ floor: floorOf(existing), stream });
      return;
    }
    const config = {
      durable_name: durable,
      // Explicit: a message delivered to an incarnation that died before committing it is
      // delivered again (with All, the next incarnation's first acknowledgement covered it).
      ack_policy: AckPolicy.Explicit,
      ack_wait: 30_000_000_000,
      max_ack_pending: 2_000,
    };
    if (!existing) {
      // No inactive_threshold: the durable survives a host that is down for a while, which then
      // misses nothing. Missing anyway (deleted, or an upgrade below failed between its delete
      // and its add): made again from the floor the file recorded.
      const start = durableStart(this.floor, stream);
      const { why, ...policy } = start;
      await resources.jsm.consumers.add(this.cluster.streamName, { ...config, ...policy });
      if (start.why === 'first') {
        this.logger.debug({ consumer: durable }, 'inbound consumer made, from now');
        const info = await resources.jsm.consumers.info(this.cluster.streamName, durable);
        await this.saveFloor({ floor: floorOf(info), stream });
      } else if (start.why === 'resumed') {
        this.logger.warn(
          { consumer: durable, from_stream_seq: start.opt_start_seq },
          'inbound consumer was missing; made again from after the last message this host acknowledged',
        );
      } else {
        this.logger.warn(
          { consumer: durable },
          'inbound consumer was missing and the stream is not the one this host read (made again since); made again from its first message',
        );
        await this.saveFloor({ floor: 0, stream });
      }
      return;
    }
    // A durable of an earlier version (AckPolicy.All): its policy cannot be changed in place, so
    // it is made again, starting after the last message it had acknowledged; what it delivered
    // and had not acknowledged comes again and the inbox drops what was already written. The
    // floor is in the file first: an add that fails after the delete resumes from it next time.
    const from = floorOf(existing) + 1;
    await this.saveFloor({ floor: from - 1, stream });
    await resources.jsm.consumers.delete(this.cluster.streamName, durable);
    await resources.jsm.consumers.add(this.cluster.streamName, {
      ...config,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    this.logger.warn(
      { consumer: durable, from_stream_seq: from, was: existing.config.ack_policy },
      'inbound consumer made again with explicit acknowledgements',
    );
  }

  /**
   * Records the inbound floor in the file.
   * @throws {Error} when the file refused it: a durable is never deleted before its floor is kept.
   */
  private async saveFloor(record: FloorRecord): Promise<void> {
    const saved = await this.log.db.persist(
      'cluster-bridge',
      'save the inbound floor',
      () => this.floors.save(record),
      () => this.log.isClosed,
    );
    if (saved === CANCELLED)
      throw new Error('the event log closed before the inbound floor was saved');
    this.floor = record;
  }

  /** Reads the durable's ack floor every FLOOR_POLL_MS and records it when it moved. */
  private pollFloor(resources: ClusterResources): void {
    if (this.floorTimer) clearInterval(this.floorTimer);
    let busy = false;
    this.floorTimer = setInterval(() => {
      if (busy || this.closed) return;
      busy = true;
      within(
        resources.jsm.consumers.info(this.cluster.streamName, this.cluster.durableName),
        3_000,
        'inbound consumer info',
      )
        .then(async (info) => {
          const floor = floorOf(info);
          if (floor > this.floor.floor && !this.closed && !this.log.isClosed)
            await this.saveFloor({ floor, stream: this.floor.stream });
        })
        // NATS away or the file busy: the next poll tries again; the record is only ever behind.
        .catch((error: Error) =>
          this.logger.debug({ err: error.message }, 'inbound floor not recorded'),
        )
        .finally(() => {
          busy = false;
        });
    }, FLOOR_POLL_MS);
    this.floorTimer.unref();
  }

  // ------------------------------------------------------------------ outbound

  private countBacklog(): number {
    return this.statements.backlog.get(this.cursor) as number;
  }

  /**
   * Cross-host events of this host not yet on JetStream: the file's count (at most 250 ms old)
   * plus those accepted since that are still on their way into the file. Checked by every
   * cross-host publish, so the count itself runs at most four times a second.
   */
  get outboxDepth(): number {
    this.recountIfStale();
    return this.backlog + this.acceptedSinceCount;
  }

  private recountIfStale(): void {
    if (performance.now() - this.countedAt > 250) this.recount();
  }

  private recount(): void {
    this.backlog = this.countBacklog();
    this.countedAt = performance.now();
    // What the event log has not written yet is not in the count: keep it counted.
    this.acceptedSinceCount = Math.min(this.acceptedSinceCount, this.log.unwritten);
  }

  /** A cross-host event was just accepted on this host. */
  noteAccepted(): void {
    this.acceptedSinceCount++;
  }

  /**
   * Takes the outbox rows of one of the event log's reads, when it starts where what the pump
   * knows ends; otherwise (a gap, nothing read) the pump reads the file. A read covers every row
   * up to its last one: ids only grow, and commits are serial. A read that stopped short of the
   * file's end needs nothing here: the poll reads on at once, from where it stopped.
   */
  private learn(read: FileRead | null): void {
    if (read === null || read.after > this.knownTo) {
      this.outboxChanged = true;
      return;
    }
    for (const row of read.rows) {
      if (row.event_id <= this.knownTo) continue;
      if (inOutbox(row)) {
        // Bounded: a pump that cannot send (NATS away) reads the file again when it can.
        if (this.handed.length >= OUT_BATCH) {
          this.outboxChanged = true;
          return;
        }
        this.handed.push(row);
      }
      this.knownTo = row.event_id;
    }
  }

  /** The next rows to send: what the event log handed over, else a read of the file if due. */
  private nextRows(): EventRow[] {
    if (this.knownTo > this.readCursor) {
      const rows = this.handed;
      this.handed = [];
      this.readCursor = this.knownTo;
      return rows;
    }
    if (!this.outboxChanged) return [];
    this.outboxChanged = false;
    const { rows, maxId } = this.readOutbox();
    // A full batch: more committed rows may be waiting behind it. Otherwise the file holds no
    // other outbox row up to its last one: the next read starts there, not at the last outbox
    // row, which on a host that mostly receives would make each read scan every inbound row
    // again.
    if (rows.length === OUT_BATCH) this.outboxChanged = true;
    this.readCursor = Math.max(
      this.readCursor,
      rows.length === OUT_BATCH ? (rows.at(-1) as EventRow).event_id : maxId,
    );
    this.knownTo = Math.max(this.knownTo, this.readCursor);
    return rows;
  }

  /** After a failure: everything after the acknowledged cursor is read and sent again. */
  private rewind(): void {
    this.readCursor = this.cursor;
    this.knownTo = this.cursor;
    this.handed = [];
    this.outboxChanged = true;
  }

  /**
   * Waits for `other` (an acknowledgement, a timer) or for new outbox rows (or the stop), whichever
   * comes first: true when the pump was woken. Every wait of the pump goes through here, so
   * `wakeOutbound` always wakes the one wait there is.
   */
  private woken(other: Promise<unknown>): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wakeOutbound = null;
        resolve(true);
      };
      this.wakeOutbound = wake;
      const settled = () => {
        if (this.wakeOutbound === wake) this.wakeOutbound = null;
        resolve(false);
      };
      other.then(settled, settled);
    });
  }

  /** `ms`, or less when new outbox rows (or the stop) wake the pump. */
  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await this.woken(new Promise((resolve) => (timer = setTimeout(resolve, ms))));
    clearTimeout(timer);
  }

  /**
   * Publishes the outbox with up to OUT_WINDOW messages in flight (a sliding window, not batch by
   * batch: JetStream's throughput is in its pipelining). The cursor moves over the acknowledged
   * prefix only; after a failure everything after it is sent again (stored once).
   */
  private async pumpOut(): Promise<void> {
    let failures = 0;
    const inflight: { readonly id: number; readonly ack: Promise<unknown> | null }[] = [];
    while (!this.closed) {
      const publisher = this.publisher;
      if (!publisher || this.log.isClosed) {
        await this.sleep(200);
        continue;
      }
      let rows: EventRow[] = [];
      // Refilled a batch at a time (a read per acknowledgement would cost more than the publish),
      // from the event log's reads, or from the file only when something says it changed: a read
      // of an unchanged file finds nothing, and it ran up to a thousand times a second when this
      // pump polled.
      if (inflight.length <= OUT_WINDOW - OUT_BATCH) {
        try {
          rows = this.nextRows();
        } catch (error) {
          // The file refused a read (locked, I/O): the event log's monitor reports it; try again.
          this.outboxChanged = true;
          this.lastError = (error as Error).message;
          await this.sleep(500);
          continue;
        }
      }
      for (const row of rows) {
        const ack = this.held(row)
          ? null
          : publisher.publish(
              subjectOf(this.cluster, row.event_type),
              wireOf(row),
              rowEnvelopeId(row),
            );
        // The pump awaits the oldest only; the others may be rejected first (a timeout, the
        // publisher closed at stop): they are resent from the cursor, and are no crash.
        ack?.catch(() => {});
        inflight.push({ id: row.event_id, ack });
      }
      const oldest = inflight[0];
      if (!oldest) {
        // Nothing in flight: every outbox row up to readCursor is on JetStream (or held), so the
        // cursor passes the other rows too (inbound, other types). Retention deletes only up to
        // it, and a host that mostly receives would keep every row until the retention cap.
        this.cursor = Math.max(this.cursor, this.readCursor);
        // The idle loop comes back every IDLE_READ_MS, so a due save is not put off for long.
        this.saveCursorIfDue();
        this.recountIfStale();
        if (!this.outboxChanged && this.knownTo === this.readCursor) {
          await this.sleep(IDLE_READ_MS);
          if (this.knownTo === this.readCursor) this.outboxChanged = true;
        }
        continue;
      }
      const room = inflight.length <= OUT_WINDOW - OUT_BATCH;
      // More committed rows may be waiting: take them before waiting for an acknowledgement.
      if (room && (this.outboxChanged || this.knownTo > this.readCursor)) continue;
      // A row committed while the oldest waits for its PubAck goes out at once, not after it: at
      // a steady rate, one slow acknowledgement would otherwise hold back every event behind it.
      if (room && oldest.ack && (await this.woken(oldest.ack))) continue;
      try {
        await oldest.ack;
      } catch (error) {
        // NATS is away or slow: what is after the cursor is sent again later (stored once).
        await Promise.allSettled(inflight.map((f) => f.ack));
        inflight.length = 0;
        if (this.closed) break;
        this.rewind();
        if (failures++ === 0)
          this.logger.warn(
            { err: (error as Error).message, waiting: this.countBacklog() },
            'cross-host events could not be published; they wait in the outbox',
          );
        this.lastError = (error as Error).message;
        await this.sleep(Math.min(250 * failures, 2_000));
        continue;
      }
      if (failures > 0) this.logger.info('cross-host publishing resumed');
      failures = 0;
      this.lastError = null;
      inflight.shift();
      this.cursor = oldest.id;
      if (oldest.ack) {
        this.sent++;
        this.unsavedSent++;
      }
      // Counted down, not recounted: a COUNT over a long backlog per message would make draining
      // it quadratic. The depth is recounted when the outbox is empty and at most every 250 ms.
      this.backlog = Math.max(0, this.backlog - 1);
      this.saveCursorIfDue();
    }
  }

  /**
   * Saves the cursor when something moved since the last save and that save is CURSOR_SAVE_MS
   * old, busy or idle: a write per message would contend with the writer thread for the file's
   * lock, and at a steady rate the pump is idle after almost every acknowledgement. What a crash
   * loses of it is sent again at the next start and stored once (msgID, then every receiver's
   * inbox).
   */
  private saveCursorIfDue(): void {
    if (
      (this.unsavedSent > 0 || this.cursor > this.savedCursor) &&
      performance.now() - this.savedAt > CURSOR_SAVE_MS
    )
      this.saveCursorSoon();
  }

  /**
   * Saves the cursor without holding the pump up (a write can wait for the file's lock): one
   * save at a time, the latest cursor each time.
   */
  private saveCursorSoon(): void {
    if (this.saving) return;
    this.saving = this.saveCursor().finally(() => {
      this.saving = null;
    });
  }

  private async saveCursor(): Promise<void> {
    const cursor = this.cursor;
    const sent = this.unsavedSent;
    this.savedAt = performance.now();
    const saved = await this.log.db
      .persist(
        'cluster-bridge',
        'save the bridge cursor',
        () => this.statements.saveCursor.run(cursor, sent),
        () => this.log.isClosed,
      )
      .catch((error: Error) => error);
    // Closed, or the file is damaged (the runtime stops on it): resent next start, stored once.
    if (saved !== CANCELLED && !(saved instanceof Error)) {
      this.unsavedSent -= sent;
      this.savedCursor = Math.max(this.savedCursor, cursor);
    }
  }

  /** A work request that the leader has not assigned yet stays on its host. */
  private held(row: EventRow): boolean {
    if (!isWorkRequest(row.event_type)) return false; // only work requests are parsed
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(row.payload) as Record<string, unknown>;
    } catch {
      return false; // receivers dead-letter it: the same rule as for any process's bad row
    }
    return isUnassignedWorkRequest(row.event_type, payload);
  }

  // ------------------------------------------------------------------ inbound

  private async pumpIn(generation: number): Promise<void> {
    const js = this.js;
    if (!js) return;
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      consumer = await js.consumers.get(this.cluster.streamName, this.cluster.durableName);
      messages = await consumer.consume({ max_messages: 512 });
    } catch (error) {
      this.lastError = (error as Error).message;
      this.logger.warn(
        { err: (error as Error).message },
        'inbound cluster consumer not started; retrying',
      );
      this.inboundRunning = null;
      setTimeout(() => {
        if (!this.closed && generation === this.generation)
          this.inboundRunning = this.pumpIn(generation);
      }, 1_000);
      return;
    }
    // Closed (or attached again) while the consumer was being made: close() and attach() closed
    // the messages there were then, not these, and a loop reading them would wait for ever.
    // stop(), not close(): close() resolves when a reader of the iterator sees the end, and
    // these have none.
    if (this.closed || generation !== this.generation) {
      messages.stop();
      this.inboundRunning = null;
      return;
    }
    this.consumerMessages = messages;
    try {
      for await (const msg of messages) {
        if (this.closed) break;
        // This host's own events come back on the stream: passed over unread (but in order, so
        // that the batch's one acknowledgement covers them too).
        this.inbound.push(
          msg.subject.endsWith(this.ownSuffix)
            ? { msg, row: null, envelope: null, error: null, raw: '', own: true }
            : this.parse(msg),
        );
        this.scheduleFlush();
      }
    } catch (error) {
      this.lastError = (error as Error).message;
    }
    this.inboundRunning = null;
    // The loop ended by itself (a server restart can end it): start it again, it is a crashed child.
    if (!this.closed && generation === this.generation) {
      setTimeout(() => {
        if (!this.closed && generation === this.generation && !this.inboundRunning)
          this.inboundRunning = this.pumpIn(generation);
      }, 500);
    }
  }

  private parse(msg: JsMsg): Parsed {
    const raw = UTF8.decode(msg.data);
    let row: EventRow;
    try {
      const value = JSON.parse(raw) as Partial<EventRow>;
      if (value === null || typeof value !== 'object' || typeof value.event_type !== 'string')
        return { msg, row: null, envelope: null, error: 'not an event row (no event_type)', raw };
      row = {
        event_id: msg.seq,
        event_type: value.event_type,
        payload:
          typeof value.payload === 'string' ? value.payload : JSON.stringify(value.payload ?? {}),
        source: String(value.source ?? ''),
        hostname: String(value.hostname ?? ''),
        created_at: Number(value.created_at ?? Date.now() / 1000),
        envelope_id: typeof value.envelope_id === 'string' ? value.envelope_id : null,
        origin_runtime: typeof value.origin_runtime === 'string' ? value.origin_runtime : null,
        origin_pid: typeof value.origin_pid === 'number' ? value.origin_pid : null,
        trace_id: typeof value.trace_id === 'string' ? value.trace_id : null,
        correlation_id: typeof value.correlation_id === 'string' ? value.correlation_id : null,
        parent_id: typeof value.parent_id === 'string' ? value.parent_id : null,
        target_consumer: null,
      };
    } catch (error) {
      return {
        msg,
        row: null,
        envelope: null,
        error: `not JSON: ${(error as Error).message}`,
        raw,
      };
    }
    if (row.envelope_id === null) return { msg, row, envelope: null, error: 'no envelope id', raw };
    const decoded = decodeRow(row, this.log.maxPayloadBytes);
    if (!decoded.ok)
      return { msg, row, envelope: null, error: `${decoded.reason}: ${decoded.message}`, raw };
    if (!CATALOG[decoded.envelope.type].crossHost)
      return {
        msg,
        row,
        envelope: null,
        error: `${decoded.envelope.type} does not cross hosts`,
        raw,
      };
    return { msg, row, envelope: decoded.envelope, error: null, raw };
  }

  private scheduleFlush(): void {
    // Closed: what is left is not acknowledged, and JetStream redelivers it to the next run.
    if (this.flushScheduled || this.flushing || this.closed) return;
    this.flushScheduled = true;
    // setImmediate: every message the client has buffered joins one transaction.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flushInbound();
    });
  }

  private async flushInbound(): Promise<void> {
    if (this.flushing || this.inbound.length === 0) return;
    this.flushing = true;
    try {
      while (this.inbound.length > 0 && !this.closed) {
        const batch = this.inbound.splice(0, 1_000);
        const now = Date.now() / 1000;
        // Only this host's own events, back from the stream: nothing to write, so no transaction,
        // which would take the file's lock from the writer thread committing the next ones.
        const outcome = batch.every((p) => p.own)
          ? NOTHING_WRITTEN
          : await this.log.db
              .persist(
                'cluster-bridge',
                'write inbound cluster events',
                (db) => this.writeInbound(db, batch, now),
                () => this.closed,
              )
              .catch((error: Error) => error);
        if (outcome === CANCELLED || outcome instanceof Error) {
          // Not acked: JetStream redelivers them after ack_wait (or to the next incarnation).
          return;
        }
        // Every message of the batch is committed (or this host's own, or dead-lettered) by now.
        this.acks.committed(batch.map((p) => p.msg));
        // A commit that ended after close() flushed the window: acknowledge it while the
        // connection may still be draining, rather than by a timer after it closed.
        if (this.closed) this.acks.flush();
        let delivered = this.deliverLocally !== null;
        if (this.deliverLocally)
          for (const envelope of outcome.fresh)
            if (!this.deliverLocally(envelope)) delivered = false;
        if (outcome.ids) {
          this.log.noteForeignRows(outcome.ids, delivered);
          // Rows from other hosts, never in the outbox: the pump need not read past them.
          if (this.knownTo === outcome.ids.first - 1) this.knownTo = outcome.ids.last;
        }
        this.received += outcome.written;
        this.duplicates += outcome.duplicates;
        this.deadLettered += outcome.dead;
        for (const [reason, n] of Object.entries(outcome.ignored))
          this.ignored[reason] = (this.ignored[reason] ?? 0) + n;
      }
    } finally {
      this.flushing = false;
    }
    if (this.inbound.length > 0) this.scheduleFlush();
  }

  private writeInbound(db: Database.Database, batch: readonly Parsed[], now: number): Inbound {
    let written = 0;
    let first = 0;
    let last = 0;
    const fresh: Envelope[] = [];
    let duplicates = 0;
    let dead = 0;
    const ignored: Record<string, number> = {};
    for (const p of batch) {
      if (p.own) continue;
      if (p.error !== null || p.envelope === null) {
        insertDeadLetter(
          db,
          DEAD_LETTER_CONSUMER(this.cluster.durableName),
          {
            event_id: null as unknown as number,
            envelope_id: p.row?.envelope_id ?? null,
            event_type: p.row?.event_type ?? p.msg.subject.split('.')[3] ?? '?',
            payload: p.row?.payload ?? p.raw.slice(0, 65_536),
            source: p.row?.source ?? '',
            created_at: p.row?.created_at ?? now,
          },
          `cluster message ${p.msg.seq} on ${p.msg.subject}: ${p.error}`,
          1,
          now,
        );
        dead++;
        if (dead === 1)
          this.logger.error(
            { subject: p.msg.subject, stream_seq: p.msg.seq, error: p.error },
            'unreadable cluster message moved to dead letters',
          );
        continue;
      }
      const envelope = p.envelope;
      // No event comes back to the host that sent it.
      if (envelope.origin.host === this.cluster.host) continue;
      const reason = this.inboundFilter?.(envelope) ?? null;
      if (reason !== null) {
        ignored[reason] = (ignored[reason] ?? 0) + 1;
        this.logger.debug(
          { event_id: envelope.id, type: envelope.type, from: envelope.origin.host, reason },
          'inbound cluster event not for this host',
        );
        continue;
      }
      const inbox = this.inboundInsert.inbox.run(envelope.id, p.msg.seq, envelope.origin.host, now);
      if (inbox.changes === 0) {
        duplicates++;
        continue;
      }
      last = Number(
        this.inboundInsert.event.run(...toRowValues(envelope), envelope.origin.host)
          .lastInsertRowid,
      );
      if (written === 0) first = last;
      written++;
      fresh.push(envelope);
    }
    return { written, ids: written > 0 ? { first, last } : null, fresh, duplicates, dead, ignored };
  }

  stats(): BridgeStats {
    return {
      sent: this.sent,
      received: this.received,
      ignored: { ...this.ignored },
      duplicates: this.duplicates,
      deadLettered: this.deadLettered,
      backlog: this.backlog + this.acceptedSinceCount,
      cursor: this.cursor,
      lastError: this.lastError,
    };
  }

  /** Stops both directions; unacknowledged inbound messages are redelivered to the next run. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.floorTimer) clearInterval(this.floorTimer);
    this.wakeOutbound?.();
    await this.consumerMessages?.close().catch(() => {});
    await this.outboundRunning;
    this.publisher?.close();
    await this.inboundRunning;
    // What is committed is acknowledged before the connection closes: the next run is not sent it.
    this.acks.flush();
    await this.saving;
    if ((this.unsavedSent > 0 || this.cursor > this.savedCursor) && !this.log.isClosed)
      await this.saveCursor();
  }
}

/** The message body: the row's own columns, so a receiver decodes it as it decodes any row. */
function wireOf(row: EventRow): string {
  return JSON.stringify({
    event_type: row.event_type,
    payload: row.payload,
    source: row.source,
    hostname: row.hostname,
    created_at: row.created_at,
    envelope_id: rowEnvelopeId(row),
    origin_runtime: row.origin_runtime,
    origin_pid: row.origin_pid,
    trace_id: row.trace_id,
    correlation_id: row.correlation_id,
    parent_id: row.parent_id,
  });
}
