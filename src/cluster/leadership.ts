/**
 * Leadership: one coordinator leads the cluster through a lease in the leader bucket (TTL
 * `leaseTtlMs`). Campaign with `create` (only one wins), renew with `update` on the last revision
 * (compare-and-set) every third of the TTL, and step down at once when a renewal fails: a leader
 * that cannot prove it still holds the key behaves as if it does not. The key is never deleted by
 * a leader that may have lost it (nats-server#5162): a clean stop lets it expire.
 *
 * The term's token is the revision `create` returned; the leader writes it into the value, and
 * every member observes the key, so each host learns the current leader and token (and emits
 * LEADER_ELECTED locally). Leader-scoped events carry the token; a host ignores requests carrying
 * a token older than the newest it has seen (fencing).
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from '../actors/logger.js';
import { within } from './deadline.js';

export interface LeaderRecord {
  readonly host: string;
  readonly runtime_id: string;
  /** The revision of the term's `create`; 0 until the leader wrote it back. */
  readonly token: number;
  readonly since: number;
}

export interface LeadershipEvents {
  /** This runtime won the lease (token = fencing token). */
  elected(token: number): void;
  /** This runtime lost or gave up the lease. */
  lost(reason: string): void;
  /** A (new) leader was observed: this runtime or another. */
  observed(leader: LeaderRecord): void;
}

const KEY = 'leader';
/** The deadline of one call to NATS: a third of the TTL at most, so a renewal fits before it. */
const CALL_MS = 2_500;

export class LeaderLease {
  private leading = false;
  private revision = 0;
  private token = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private busy = false;
  private lastObserved: string | null = null;
  private newestToken = 0;

  constructor(
    private kv: KV,
    private readonly identity: { readonly host: string; readonly runtimeId: string },
    /** Whether this runtime campaigns (it runs the leader-scoped daemons). */
    private readonly eligible: boolean,
    private readonly ttlMs: number,
    private readonly events: LeadershipEvents,
    private readonly logger: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** The newest fencing token seen in the cluster (this runtime's own term included). */
  get knownToken(): number {
    return this.newestToken;
  }

  get currentToken(): number | null {
    return this.leading ? this.token : null;
  }

  async start(kv: KV): Promise<void> {
    this.kv = kv;
    await this.tick();
    // Stopped during the first tick: no timer, which would keep the process alive.
    if (this.stopped) return;
    if (!this.timer)
      this.timer = setInterval(() => void this.tick(), Math.max(100, this.ttlMs / 3));
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.busy) return;
    this.busy = true;
    try {
      if (this.leading) await this.renew();
      else if (this.eligible) await this.campaign();
      await this.observe();
    } finally {
      this.busy = false;
    }
  }

  private value(token: number): string {
    return JSON.stringify({
      host: this.identity.host,
      runtime_id: this.identity.runtimeId,
      token,
      since: Date.now() / 1000,
    } satisfies LeaderRecord);
  }

  private async campaign(): Promise<void> {
    let created: number;
    try {
      created = await within(this.kv.create(KEY, this.value(0)), CALL_MS, 'leader: campaign');
    } catch (error) {
      // `wrong last sequence`: someone holds it; anything else (NATS away) is tried next tick.
      this.logger.debug({ err: (error as Error).message }, 'leader campaign: not won');
      return;
    }
    try {
      this.revision = await within(
        this.kv.update(KEY, this.value(created), created),
        CALL_MS,
        'leader: confirm',
      );
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'won the leader lease but could not confirm it; not leading',
      );
      return;
    }
    if (this.stopped) {
      // Won after the stop began: not leading (the key expires within its TTL).
      this.logger.debug({ token: created }, 'leader lease won after the stop; not leading');
      return;
    }
    this.leading = true;
    this.token = created;
    this.newestToken = Math.max(this.newestToken, created);
    this.logger.info({ token: created }, 'this runtime leads the cluster');
    this.events.elected(created);
  }

  private async renew(): Promise<void> {
    try {
      this.revision = await within(
        this.kv.update(KEY, this.value(this.token), this.revision),
        CALL_MS,
        'leader: renew',
      );
    } catch (error) {
      this.stepDown(`lease renewal failed: ${(error as Error).message}`);
    }
  }

  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.logger.warn({ reason, token: this.token }, 'stepped down as cluster leader');
    this.events.lost(reason);
  }

  private async observe(): Promise<void> {
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await within(this.kv.get(KEY), CALL_MS, 'leader: observe');
    } catch (error) {
      // NATS away or slow: nothing new can be learnt now.
      this.logger.debug({ err: (error as Error).message }, 'leader key not read');
      return;
    }
    if (entry?.operation !== 'PUT') return;
    // The server expires lazily: a lease past its TTL is no lease.
    if (Date.now() - entry.created.getTime() > this.ttlMs) {
      if (this.leading) this.stepDown('lease expired before it was renewed');
      return;
    }
    const record = entry.json<LeaderRecord>();
    if (record.token === 0) return; // a campaign in progress
    if (this.leading && record.token !== this.token)
      this.stepDown('another runtime holds the lease');
    this.newestToken = Math.max(this.newestToken, record.token);
    const id = `${record.runtime_id}:${record.token}`;
    if (id === this.lastObserved) return;
    this.lastObserved = id;
    this.events.observed(record);
  }

  /** Stops campaigning and renewing; a held lease expires within its TTL (never deleted). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.leading) {
      this.leading = false;
      this.events.lost('stopped');
    }
  }
}
