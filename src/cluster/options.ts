/**
 * What a runtime needs to join a cluster, checked once: the NATS servers, this host's name, the
 * cluster's name, credentials, and the timings of presence and leadership. Everything else in
 * `src/cluster/` takes a `ResolvedCluster` and never re-validates.
 *
 * Credentials never reach a log line: `describeCluster()` is what the runtime logs and `status`
 * shows (servers without user info, which kind of credential, not its value).
 */
import { InvalidOptionError } from '../errors.js';

export interface ClusterTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface ClusterOptions {
  /** NATS URLs, e.g. `['nats://h1:4222', 'nats://h2:4222']`. */
  readonly servers: readonly string[];
  /** This host's name in the cluster: envelopes' origin host, presence key, work target. */
  readonly host: string;
  /** Names the stream and buckets, so two clusters can share servers; 'ringrift'. */
  readonly name?: string;
  readonly token?: string;
  readonly user?: string;
  readonly password?: string;
  /** A NATS `.creds` file (JWT + nkey seed). */
  readonly credsFile?: string;
  readonly tls?: ClusterTls | boolean;
  /** Replicas of the stream and buckets (1, 3 or 5); 1. */
  readonly replicas?: number;
  /** How long the stream keeps events; 24 h. */
  readonly maxAgeMs?: number;
  /** The stream's size bound in bytes; 1 GiB. */
  readonly maxBytes?: number;
  /** JetStream's duplicate window (publish dedup by envelope id); 2 min, the least allowed here. */
  readonly duplicateWindowMs?: number;
  /** A host whose presence key is older than this is offline; 10 s. */
  readonly presenceTtlMs?: number;
  /** How often a host refreshes its presence key; 3 s. */
  readonly presenceRefreshMs?: number;
  /** How often presence and the leader key are swept; 1 s. */
  readonly sweepMs?: number;
  /** The leader lease's TTL; renewed every third of it; 9 s. */
  readonly leaseTtlMs?: number;
  /** Cross-host events waiting for JetStream before publish refuses (ClusterOutboxFullError); 100,000. */
  readonly maxOutbox?: number;
  /** GPUs and free work slots this host offers (presence); 1 and 1. */
  readonly capabilities?: { readonly gpus?: number; readonly slots?: number };
}

export interface ResolvedCluster {
  readonly servers: readonly string[];
  readonly host: string;
  readonly name: string;
  readonly auth:
    | { readonly kind: 'none' }
    | { readonly kind: 'token'; readonly token: string }
    | { readonly kind: 'user'; readonly user: string; readonly password: string }
    | { readonly kind: 'creds'; readonly file: string };
  readonly tls: ClusterTls | null;
  readonly replicas: number;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  readonly duplicateWindowMs: number;
  readonly presenceTtlMs: number;
  readonly presenceRefreshMs: number;
  readonly sweepMs: number;
  readonly leaseTtlMs: number;
  readonly maxOutbox: number;
  readonly gpus: number;
  readonly slots: number;
  /** Subject prefix of the cluster's events: `ringrift.<name>.events`. */
  readonly subjectPrefix: string;
  readonly streamName: string;
  readonly presenceBucket: string;
  readonly leaderBucket: string;
  /** This host's inbound durable consumer (durable names cannot hold `.`, `*` or `>`). */
  readonly durableName: string;
}

const NAME_RULE = /^[A-Za-z0-9_-]{1,64}$/;
const HOST_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidOptionError(option, 'a positive number', value);
  return value;
}

/** A token safe in a durable name or KV key: other characters become `_`. */
export function safeToken(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The inbound durable consumer of a host (`host_<name>`). */
export function durableNameOf(host: string): string {
  return `host_${safeToken(host)}`;
}

/**
 * @throws {InvalidOptionError} naming the option (`cluster.servers`, `cluster.host`, ...).
 * @example
 * resolveCluster({ servers: ['nats://127.0.0.1:4222'], host: 'gpu-3' }).streamName; // 'RINGRIFT_ringrift'
 */
export function resolveCluster(options: ClusterOptions): ResolvedCluster {
  if (!Array.isArray(options.servers) || options.servers.length === 0)
    throw new InvalidOptionError('cluster.servers', 'at least one NATS URL', options.servers);
  for (const server of options.servers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new InvalidOptionError('cluster.servers', 'NATS URLs like nats://host:4222', server);
    }
    if (!['nats:', 'tls:'].includes(url.protocol) || !url.hostname)
      throw new InvalidOptionError(
        'cluster.servers',
        'NATS URLs like nats://host:4222',
        redactUrl(server),
      );
  }
  if (typeof options.host !== 'string' || !HOST_RULE.test(options.host))
    throw new InvalidOptionError(
      'cluster.host',
      'a host name (letters, digits, ".", "_", "-")',
      options.host,
    );
  const name = options.name ?? 'ringrift';
  if (!NAME_RULE.test(name))
    throw new InvalidOptionError('cluster.name', 'letters, digits, "_" or "-" (no dots)', name);
  const kinds = [
    options.token !== undefined,
    options.user !== undefined || options.password !== undefined,
    options.credsFile !== undefined,
  ].filter(Boolean).length;
  if (kinds > 1)
    throw new InvalidOptionError(
      'cluster',
      'one of token, user+password or credsFile',
      'several credentials',
    );
  if ((options.user === undefined) !== (options.password === undefined))
    throw new InvalidOptionError('cluster.user', 'given together with cluster.password', 'one');
  const replicas = options.replicas ?? 1;
  if (![1, 3, 5].includes(replicas))
    throw new InvalidOptionError('cluster.replicas', '1, 3 or 5', replicas);
  const duplicateWindowMs = positive(
    'cluster.duplicateWindowMs',
    options.duplicateWindowMs,
    120_000,
  );
  if (duplicateWindowMs < 120_000)
    throw new InvalidOptionError(
      'cluster.duplicateWindowMs',
      'at least 120000 (2 min)',
      duplicateWindowMs,
    );
  const presenceTtlMs = positive('cluster.presenceTtlMs', options.presenceTtlMs, 10_000);
  const presenceRefreshMs = positive('cluster.presenceRefreshMs', options.presenceRefreshMs, 3_000);
  if (presenceRefreshMs * 2 > presenceTtlMs)
    throw new InvalidOptionError(
      'cluster.presenceRefreshMs',
      `at most half of presenceTtlMs (${presenceTtlMs})`,
      presenceRefreshMs,
    );
  const tls =
    options.tls === true
      ? {}
      : options.tls === false || options.tls === undefined
        ? null
        : options.tls;
  return {
    servers: [...options.servers],
    host: options.host,
    name,
    auth:
      options.token !== undefined
        ? { kind: 'token', token: options.token }
        : options.user !== undefined
          ? { kind: 'user', user: options.user, password: options.password as string }
          : options.credsFile !== undefined
            ? { kind: 'creds', file: options.credsFile }
            : { kind: 'none' },
    tls,
    replicas,
    maxAgeMs: positive('cluster.maxAgeMs', options.maxAgeMs, 24 * 3600_000),
    maxBytes: positive('cluster.maxBytes', options.maxBytes, 1024 ** 3),
    duplicateWindowMs,
    presenceTtlMs,
    presenceRefreshMs,
    sweepMs: positive('cluster.sweepMs', options.sweepMs, 1_000),
    leaseTtlMs: positive('cluster.leaseTtlMs', options.leaseTtlMs, 9_000),
    maxOutbox: positive('cluster.maxOutbox', options.maxOutbox, 100_000),
    gpus: options.capabilities?.gpus ?? 1,
    slots: options.capabilities?.slots ?? 1,
    subjectPrefix: `ringrift.${name}.events`,
    streamName: `RINGRIFT_${name}`,
    presenceBucket: `ringrift_${name}_presence`,
    leaderBucket: `ringrift_${name}_leader`,
    durableName: durableNameOf(options.host),
  };
}

/** A URL without its user info (`nats://user:secret@h:4222` -> `nats://h:4222`). */
export function redactUrl(server: string): string {
  try {
    const url = new URL(server);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return server.replace(/\/\/[^@/]*@/, '//');
  }
}

/** What may be logged or shown about a cluster configuration: never a secret. */
export function describeCluster(cluster: ResolvedCluster): {
  servers: string[];
  host: string;
  name: string;
  auth: string;
  tls: boolean;
} {
  return {
    servers: cluster.servers.map(redactUrl),
    host: cluster.host,
    name: cluster.name,
    auth: cluster.auth.kind,
    tls: cluster.tls !== null,
  };
}

/**
 * The cluster options a command line and environment give: `--nats` / `RINGRIFT_NATS_URL` (comma
 * separated), `--host` / `RINGRIFT_HOST`, `--cluster` / `RINGRIFT_CLUSTER`, and credentials from
 * `RINGRIFT_NATS_TOKEN`, `RINGRIFT_NATS_USER` + `RINGRIFT_NATS_PASSWORD` or `RINGRIFT_NATS_CREDS`
 * (never from flags: a flag's value shows in `ps`), and the stream's replicas from
 * `RINGRIFT_NATS_REPLICAS`. Null when no server is named.
 * @throws {InvalidOptionError} when servers are named without a host, or a host or cluster name
 *   without servers.
 */
export function clusterFromFlags(
  flags: { nats?: string; host?: string; cluster?: string },
  env: NodeJS.ProcessEnv,
  fromFile: Partial<ClusterOptions> | undefined,
): ClusterOptions | null {
  const servers = (flags.nats ?? env.RINGRIFT_NATS_URL)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const fileServers = fromFile?.servers;
  if (!servers?.length && !fileServers?.length) {
    // A host or cluster name with no server to join is a mistake, not a single-host run.
    if (flags.host !== undefined || flags.cluster !== undefined)
      throw new InvalidOptionError(
        flags.host !== undefined ? '--host' : '--cluster',
        'given with --nats (or RINGRIFT_NATS_URL, or cluster.servers in --config)',
        flags.host ?? flags.cluster,
      );
    return null;
  }
  const host = flags.host ?? env.RINGRIFT_HOST ?? fromFile?.host;
  if (!host)
    throw new InvalidOptionError(
      '--host',
      "this host's name in the cluster (or RINGRIFT_HOST)",
      '',
    );
  const envAuth = {
    ...(env.RINGRIFT_NATS_TOKEN ? { token: env.RINGRIFT_NATS_TOKEN } : {}),
    ...(env.RINGRIFT_NATS_USER ? { user: env.RINGRIFT_NATS_USER } : {}),
    ...(env.RINGRIFT_NATS_PASSWORD ? { password: env.RINGRIFT_NATS_PASSWORD } : {}),
    ...(env.RINGRIFT_NATS_CREDS ? { credsFile: env.RINGRIFT_NATS_CREDS } : {}),
  };
  const replicas = env.RINGRIFT_NATS_REPLICAS;
  if (replicas !== undefined && !/^[135]$/.test(replicas))
    throw new InvalidOptionError('RINGRIFT_NATS_REPLICAS', '1, 3 or 5', replicas);
  return {
    ...fromFile,
    ...envAuth,
    ...(replicas !== undefined ? { replicas: Number(replicas) } : {}),
    servers: servers?.length ? servers : (fileServers as readonly string[]),
    host,
    ...((flags.cluster ?? env.RINGRIFT_CLUSTER)
      ? { name: flags.cluster ?? env.RINGRIFT_CLUSTER }
      : {}),
  };
}
