/**
 * The NATS connection of a cluster member, and its health. The client reconnects for ever (an
 * outage is a degraded state, never the end of a runtime); this module turns the client's status
 * stream into one state (`connected`, `connecting`, `disconnected`) with since-when and why,
 * and logs one warn line per outage and one info line when it ends.
 */

import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger } from '../actors/logger.js';
import { ClusterAuthError } from '../errors.js';
import { within } from './deadline.js';
import { describeCluster, type ResolvedCluster } from './options.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface ConnectionHealth {
  readonly state: ConnectionState;
  /** The server connected to (without user info), when connected. */
  readonly server: string | null;
  /** Since when the state holds (ms since epoch). */
  readonly since: number;
  readonly reason: string | null;
  readonly reconnects: number;
}

export function natsOptions(cluster: ResolvedCluster, runtimeId: string): NodeConnectionOptions {
  const auth = cluster.auth;
  return {
    servers: [...cluster.servers],
    name: `ringrift:${cluster.host}:${runtimeId}`,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A short ping, so that a server that went away without closing the socket is noticed.
    pingInterval: 5_000,
    maxPingOut: 2,
    ...(auth.kind === 'token' ? { token: auth.token } : {}),
    ...(auth.kind === 'user' ? { user: auth.user, pass: auth.password } : {}),
    ...(auth.kind === 'creds'
      ? { authenticator: credsAuthenticator(new Uint8Array(readFileSync(auth.file))) }
      : {}),
    ...(cluster.tls ? { tls: { ...cluster.tls } } : {}),
  };
}

export class ClusterConnection {
  private nc: NatsConnection | null = null;
  private state: ConnectionState = 'connecting';
  private since = Date.now();
  private reason: string | null = null;
  private server: string | null = null;
  private reconnects = 0;
  private closing = false;
  private readonly listeners: ((state: ConnectionState) => void)[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private firstConnect: Promise<NatsConnection> | null = null;

  constructor(
    private readonly cluster: ResolvedCluster,
    private readonly runtimeId: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Connects, retrying every second until it succeeds or `close()` is called; the promise
   * resolves on the first connection. Meanwhile the state is `connecting` (degraded).
   */
  open(): Promise<NatsConnection> {
    if (this.firstConnect) return this.firstConnect;
    this.firstConnect = new Promise((resolve, reject) => {
      let warned = false;
      const attempt = () => {
        if (this.closing) {
          reject(new Error('cluster connection closed before it was established'));
          return;
        }
        connect(natsOptions(this.cluster, this.runtimeId)).then(
          (nc) => {
            if (this.closing) {
              void nc.close();
              reject(new Error('cluster connection closed before it was established'));
              return;
            }
            this.nc = nc;
            this.server = nc.getServer();
            this.set('connected', null);
            if (warned) this.logger.info({ server: this.server }, 'connected to NATS');
            void this.watch(nc);
            resolve(nc);
          },
          (error: Error) => {
            this.reason = error.message;
            // Wrong credentials are an answer, not an outage: waiting does not fix them.
            if (/authorization|authentication|permissions violation/i.test(error.message)) {
              this.set('closed', error.message);
              reject(new ClusterAuthError(describeCluster(this.cluster).servers, error.message));
              return;
            }
            if (!warned) {
              warned = true;
              this.logger.warn(
                { ...describeCluster(this.cluster), err: error.message },
                'NATS unreachable; running degraded (local work goes on, cross-host events wait in the outbox) and retrying',
              );
            }
            this.retryTimer = setTimeout(attempt, 1_000);
          },
        );
      };
      attempt();
    });
    // Nobody may be waiting (a runtime that started degraded): a close before connecting is fine.
    this.firstConnect.catch(() => {});
    return this.firstConnect;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.set('disconnected', `lost the connection to ${status.server}`);
        this.logger.warn(
          { server: status.server },
          'NATS connection lost; cross-host events wait in the outbox while the client reconnects',
        );
      } else if (status.type === 'reconnect') {
        this.reconnects++;
        this.server = status.server;
        this.set('connected', null);
        this.logger.info({ server: status.server }, 'NATS connection restored');
      }
    }
  }

  private set(state: ConnectionState, reason: string | null): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.since = Date.now();
    for (const listener of this.listeners) listener(state);
  }

  /** Called on every state change (connected again after an outage included). */
  onChange(listener: (state: ConnectionState) => void): void {
    this.listeners.push(listener);
  }

  get connection(): NatsConnection | null {
    return this.nc;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  health(): ConnectionHealth {
    return {
      state: this.state,
      server: this.state === 'connected' ? this.server : null,
      since: this.since,
      reason: this.reason,
      reconnects: this.reconnects,
    };
  }

  /**
   * Drains the connection (what was published reaches the server first), for up to `drainMs`;
   * then closes it without waiting: a drain waits for the server's answer to a flush, and a
   * server that stopped answering would hold it until the client's ping timer gave up, minutes.
   */
  async close(drainMs = 5_000): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const nc = this.nc;
    this.nc = null;
    this.set('closed', null);
    if (!nc || nc.isClosed()) return;
    try {
      await within(nc.drain(), drainMs, 'NATS drain');
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'NATS connection closed without draining it',
      );
      await nc.close();
    }
  }
}
