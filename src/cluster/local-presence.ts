/**
 * Presence without NATS: on one host the host itself is the cluster. At start this runtime
 * publishes its own HOST_ONLINE and, as the one coordinator, LEADER_ELECTED (term 1), the events
 * a cluster member would derive from the presence and leader buckets.
 *
 * Optionally, seeded simulated hosts (training nodes `sim-gpu-1`, ...) join at start and, after
 * each ITERATION_COMPLETE, drop out (HOST_OFFLINE) or come back with a new incarnation
 * (NODE_RECOVERED, then HOST_ONLINE), as a cluster member would report real ones; and this host's
 * lease sometimes lapses and is won back (LEADER_ELECTED with the next term). So one process
 * exercises the Cluster table's daemons (the SyncRouter's view, UnifiedHealthManager,
 * LeadershipCoordinator). They are presence only: without a cluster, sync and distribution keep
 * their configured targets. The one work a simulated host gets is the idle fill: IDLE_RESOURCE
 * reports its free slot, and SELFPLAY_COORDINATOR plays a batch "there" (the simulated worker
 * plays it; a host dropping out withdraws it: TASK_ABANDONED).
 *
 * A leader change to another host needs a second coordinator, hence a cluster (tested on real
 * nats-server in test/cluster/faults.test.ts): here the leader changes terms, not hosts.
 */
import type { Logger } from '../actors/logger.js';
import type { Router } from '../actors/router.js';
import { seededRandom } from '../workers/seeded-random.js';

export interface LocalPresenceOptions {
  /** This host's name; the machine's host name. */
  readonly host?: string;
  /** Simulated training hosts; 0. */
  readonly simulatedHosts?: number;
  /** Seeds their comings and goings; 1. */
  readonly seed?: number;
  /** Per iteration, the chance that a simulated host present drops out; 0.15. */
  readonly dropRate?: number;
  /** Per iteration, the chance that one gone comes back; 0.5. */
  readonly returnRate?: number;
  /**
   * Per iteration, the chance that this host's lease lapses and is won back; 0.05 with simulated
   * hosts, else 0 (without them there is no simulated cluster to go through its iterations).
   */
  readonly leaseLapseRate?: number;
}

export interface LocalHost {
  readonly host: string;
  readonly runtimeId: string;
  readonly profile: string;
  readonly daemons: readonly string[];
}

interface SimulatedHost {
  readonly host: string;
  incarnation: number;
  online: boolean;
  /** The iteration it went away at. */
  since: number;
}

export class LocalPresence {
  private readonly random: () => number;
  private readonly hosts: SimulatedHost[];
  private readonly leaseLapseRate: number;
  private term = 1;
  private iteration = 0;
  private off: (() => void) | null = null;

  constructor(
    private readonly router: Router,
    private readonly self: LocalHost,
    private readonly options: LocalPresenceOptions,
    private readonly logger: Logger,
  ) {
    this.random = seededRandom((options.seed ?? 1) * 7919 + 17);
    this.hosts = Array.from({ length: options.simulatedHosts ?? 0 }, (_, i) => ({
      host: `sim-gpu-${i + 1}`,
      incarnation: 1,
      online: false,
      since: 0,
    }));
    this.leaseLapseRate = options.leaseLapseRate ?? (this.hosts.length > 0 ? 0.05 : 0);
  }

  /** Publishes this host's presence and lead, and the simulated hosts' arrival. */
  activate(): void {
    this.publish('HOST_ONLINE', {
      host: this.self.host,
      incarnation: this.self.runtimeId,
      profile: this.self.profile,
      daemons: [...this.self.daemons],
    });
    this.publish('LEADER_ELECTED', {
      leader_id: this.self.host,
      term: this.term,
      runtime_id: this.self.runtimeId,
    });
    for (const h of this.hosts) this.online(h);
    if (this.hosts.length > 0 || this.leaseLapseRate > 0)
      this.off = this.router.subscribe('ITERATION_COMPLETE', () => this.step());
  }

  stop(): void {
    this.off?.();
    this.off = null;
  }

  /** One iteration of the simulated cluster (seeded: the same run, the same comings and goings). */
  private step(): void {
    this.iteration++;
    for (const h of this.hosts) {
      const draw = this.random();
      if (h.online && draw < (this.options.dropRate ?? 0.15)) {
        h.online = false;
        h.since = this.iteration;
        this.publish('HOST_OFFLINE', {
          host: h.host,
          reason: 'simulated: dropped out',
          incarnation: this.incarnationOf(h),
        });
      } else if (!h.online && draw < (this.options.returnRate ?? 0.5)) {
        const previous = this.incarnationOf(h);
        h.incarnation++;
        this.publish('NODE_RECOVERED', {
          node_id: h.host,
          // In iterations (the simulated cluster has no clock of its own).
          recovery_time_seconds: this.iteration - h.since,
          incarnation: this.incarnationOf(h),
          previous_incarnation: previous,
        });
        this.online(h);
      }
    }
    if (this.random() < this.leaseLapseRate) {
      this.term++;
      this.publish('LEADER_ELECTED', {
        leader_id: this.self.host,
        term: this.term,
        runtime_id: this.self.runtimeId,
      });
    }
  }

  private online(h: SimulatedHost): void {
    h.online = true;
    this.publish('HOST_ONLINE', {
      host: h.host,
      incarnation: this.incarnationOf(h),
      profile: 'training_node',
      daemons: ['CONTINUOUS_TRAINING_LOOP'],
      gpus: 1,
      free_slots: 1,
    });
  }

  private incarnationOf(h: SimulatedHost): string {
    return `${h.host}-${h.incarnation}`;
  }

  private publish(type: string, payload: Record<string, unknown>): void {
    try {
      this.router.publish(type, payload, { source: 'presence' });
    } catch (error) {
      // A closing router at the end of a run: presence has nothing left to tell.
      this.logger.warn({ err: (error as Error).message, type }, 'presence event not published');
    }
  }
}
