/**
 * Presence: which hosts are up. Each host's member refreshes its key in the presence bucket
 * (TTL `presenceTtlMs`, refreshed every `presenceRefreshMs`), and sweeps the bucket every
 * `sweepMs`. On NATS 2.9 a watcher is not told when a key expires, so "up" is "the key is
 * there": a host appears -> HOST_ONLINE; its key is gone (expired, or deleted by a clean stop)
 * -> HOST_OFFLINE; an offline host back with a new incarnation -> NODE_RECOVERED, then
 * HOST_ONLINE. Every host derives these events itself, so none of them crosses hosts.
 *
 * After this member's own outage, keys of hosts that could not refresh either may have expired:
 * for one TTL after a reconnect, a missing host is not declared offline (it gets the chance to
 * refresh), so an outage of NATS does not look like every host going away.
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from '../actors/logger.js';
import { HostTakenError } from '../errors.js';
import { within } from './deadline.js';
import type { ResolvedCluster } from './options.js';
import { safeToken } from './options.js';

export interface PresenceRecord {
  readonly host: string;
  readonly runtime_id: string;
  /** Changes at every start of the host's runtime: tells a restart from a refresh. */
  readonly incarnation: string;
  /** Names the host's SQLite file: a second file announcing the same host is refused. */
  readonly file_id: string;
  readonly profile: string;
  readonly daemons: readonly string[];
  readonly gpus: number;
  readonly free_slots: number;
  readonly started_at: number;
  /** Cross-host events of the host not yet on JetStream, at the last refresh. */
  readonly outbox: number;
}

export interface PresentHost {
  readonly record: PresenceRecord;
  /** When the key was last written, by the server's clock (ms). */
  readonly refreshedAt: number;
}

export type PresenceEvent =
  | { readonly type: 'HOST_ONLINE'; readonly record: PresenceRecord }
  | {
      readonly type: 'HOST_OFFLINE';
      readonly host: string;
      readonly incarnation: string;
      readonly reason: string;
      readonly lastSeen: number;
    }
  | {
      readonly type: 'NODE_RECOVERED';
      readonly record: PresenceRecord;
      readonly previousIncarnation: string;
      readonly offlineSeconds: number;
    };

const decoder = new TextDecoder();

interface Entry {
  readonly record: PresenceRecord;
  /** When the key was written, by the server's clock (ms). */
  readonly created: number;
}

function entryOf(e: { readonly value: Uint8Array; readonly created: Date }): Entry {
  return {
    record: JSON.parse(decoder.decode(e.value)) as PresenceRecord,
    created: e.created.getTime(),
  };
}
/** The deadline of one call to NATS. */
const CALL_MS = 3_000;

export class Presence {
  private readonly present = new Map<string, PresentHost>();
  private readonly offline = new Map<string, { incarnation: string; since: number }>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private quietUntil = 0;
  private stopped = false;
  private sweeping = false;
  private watcher: Awaited<ReturnType<KV['watch']>> | null = null;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly cluster: ResolvedCluster,
    private kv: KV,
    private readonly self: () => PresenceRecord,
    private readonly onEvent: (event: PresenceEvent) => void,
    private readonly logger: Logger,
  ) {}

  private get key(): string {
    return safeToken(this.cluster.host);
  }

  /**
   * Refuses a host name that another file's live runtime announces.
   * @throws {HostTakenError}
   */
  async claim(): Promise<void> {
    const entry = await within(this.kv.get(this.key), CALL_MS, 'presence: read this host key');
    if (entry && entry.operation === 'PUT') {
      const record = entry.json<PresenceRecord>();
      const ageS = (Date.now() - entry.created.getTime()) / 1000;
      if (record.file_id !== this.self().file_id && ageS * 1000 < this.cluster.presenceTtlMs)
        throw new HostTakenError(this.cluster.host, record.runtime_id, ageS);
    }
  }

  /** Starts refreshing and sweeping (again, after a reconnect: `kv` may be a new handle). */
  async start(kv: KV, afterOutage: boolean): Promise<void> {
    this.kv = kv;
    if (afterOutage) this.quietUntil = Date.now() + this.cluster.presenceTtlMs;
    await this.refresh();
    await this.watch(kv);
    // Let the watcher deliver what the bucket holds before the first sweep reads it.
    await new Promise((r) => setTimeout(r, 100));
    // Stopped meanwhile: no timers, which would keep the process alive and the key refreshed.
    if (this.stopped) return;
    if (!this.refreshTimer)
      this.refreshTimer = setInterval(() => void this.refresh(), this.cluster.presenceRefreshMs);
    if (!this.sweepTimer)
      this.sweepTimer = setInterval(() => void this.sweep(), this.cluster.sweepMs);
    await this.sweep();
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      await within(
        this.kv.put(this.key, JSON.stringify(this.self())),
        CALL_MS,
        'presence: refresh',
      );
    } catch (error) {
      // NATS away: the connection's health says so; the next refresh tries again.
      this.logger.debug({ err: (error as Error).message }, 'presence refresh failed');
    }
  }

  /**
   * The bucket's entries as the watcher last told them (PUT and DEL arrive at once; an expiry is
   * not told on 2.9, which the sweep finds through `keys()`). Re-created at every `start()`: a
   * watcher does not survive a server restart.
   */
  private async watch(kv: KV): Promise<void> {
    this.watcher?.stop();
    this.entries.clear();
    const watcher = await within(kv.watch(), CALL_MS, 'presence: watch the bucket');
    if (this.stopped) {
      watcher.stop();
      return;
    }
    this.watcher = watcher;
    void (async () => {
      for await (const e of watcher) {
        if (e.operation === 'PUT') this.entries.set(e.key, entryOf(e));
        else this.entries.delete(e.key);
      }
    })()
      .catch((error: Error) =>
        this.logger.debug(
          { err: error.message },
          'presence watcher failed; the sweep recreates it',
        ),
      )
      .finally(() => {
        if (this.watcher === watcher) this.watcher = null;
      });
  }

  /** One pass over the bucket: which keys still exist (an expired one is gone), and their age. */
  async sweep(): Promise<void> {
    if (this.stopped || this.sweeping) return;
    this.sweeping = true;
    try {
      const keys = new Set<string>();
      await within(
        (async () => {
          for await (const k of await this.kv.keys()) keys.add(k);
        })(),
        CALL_MS,
        'presence: list the bucket',
      );
      // A watcher can die with the server it was on while this connection stays up (a cluster
      // member went away): start another one; until it has caught up, reads fill in.
      if (!this.watcher) await this.watch(this.kv);
      const seen = new Map<string, PresentHost>();
      const now = Date.now();
      for (const k of keys) {
        let entry = this.entries.get(k);
        // Listed, but not told of (yet) or not lately: read it, within a deadline.
        if (!entry || now - entry.created > this.cluster.presenceTtlMs / 2) {
          const read = await this.read(k);
          if (read === 'unanswered') {
            // Listed but unreadable now: still there as far as anyone can tell.
            if (entry)
              seen.set(entry.record.host, { record: entry.record, refreshedAt: entry.created });
            continue;
          }
          entry = read ?? undefined;
        }
        // The server drops expired keys lazily; an old one is gone already.
        if (!entry || now - entry.created > this.cluster.presenceTtlMs) continue;
        seen.set(entry.record.host, { record: entry.record, refreshedAt: entry.created });
      }
      this.apply(seen);
    } catch (error) {
      // NATS away or slow: nothing is concluded from a sweep that did not finish.
      this.logger.debug({ err: (error as Error).message }, 'presence sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  /** One key read directly: null when it is gone, 'unanswered' when the read timed out. */
  private async read(key: string): Promise<Entry | null | 'unanswered'> {
    try {
      const entry = await within(this.kv.get(key), CALL_MS, 'presence: read a key');
      if (entry?.operation !== 'PUT') return null;
      const fresh = entryOf(entry);
      this.entries.set(key, fresh);
      return fresh;
    } catch (error) {
      this.logger.debug({ key, err: (error as Error).message }, 'presence key not read');
      return 'unanswered';
    }
  }

  private apply(seen: Map<string, PresentHost>): void {
    const now = Date.now();
    for (const [host, present] of seen) {
      const known = this.present.get(host);
      this.present.set(host, present);
      if (known && known.record.incarnation === present.record.incarnation) continue;
      const wasOffline = this.offline.get(host);
      if (known) {
        // A new incarnation without an offline in between: it restarted within one TTL.
        this.onEvent({
          type: 'HOST_OFFLINE',
          host,
          incarnation: known.record.incarnation,
          reason: 'restarted',
          lastSeen: known.refreshedAt / 1000,
        });
      }
      if ((wasOffline && wasOffline.incarnation !== present.record.incarnation) || known) {
        this.onEvent({
          type: 'NODE_RECOVERED',
          record: present.record,
          previousIncarnation: wasOffline?.incarnation ?? known?.record.incarnation ?? '',
          offlineSeconds: wasOffline ? (now - wasOffline.since) / 1000 : 0,
        });
      }
      this.offline.delete(host);
      this.onEvent({ type: 'HOST_ONLINE', record: present.record });
    }
    if (now < this.quietUntil) return;
    for (const [host, known] of this.present) {
      if (seen.has(host)) continue;
      this.present.delete(host);
      this.offline.set(host, { incarnation: known.record.incarnation, since: now });
      this.onEvent({
        type: 'HOST_OFFLINE',
        host,
        incarnation: known.record.incarnation,
        reason: 'presence expired or removed',
        lastSeen: known.refreshedAt / 1000,
      });
    }
  }

  /** The hosts present now (this one included once it refreshed). */
  hosts(): PresentHost[] {
    return [...this.present.values()];
  }

  /** Stops refreshing and removes this host's key, so the others see HOST_OFFLINE at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.watcher?.stop();
    try {
      await within(this.kv.delete(this.key), CALL_MS, 'presence: remove this host key');
    } catch (error) {
      // NATS away at stop: the key expires within one TTL instead.
      this.logger.debug({ err: (error as Error).message }, 'presence key not removed');
    }
  }
}
