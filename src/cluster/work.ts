/**
 * Work across hosts, assigned by the leader. A work request published on the leader without a
 * `target_host` (TRAINING_TRIGGER's TRAINING_THRESHOLD_REACHED) is held on its host; the leader's
 * tracker picks a host from presence (one that runs the daemon doing that work, with the fewest
 * jobs of this leader outstanding, then the most free slots, then by name) and publishes the
 * request again naming it, with `job_id` (the first request's envelope id: the training daemon's
 * idempotency key) and the leader's fencing token. When the target goes offline before its
 * final answer, the job is assigned again, same `job_id`, to another host; a later answer from
 * the old target is recognised (its host is not the job's target) and not written into this
 * host's file, so nothing downstream hears it.
 *
 * Why the leader assigns, rather than a JetStream work-queue consumer per role: the guide's work
 * goes to a host chosen by capability and load, and a job's answers must reach the pipeline that
 * asked; a work queue picks whichever host pulls first, knows nothing of a host's free GPUs, and
 * would make a late answer indistinguishable from a fresh one. The leader already knows presence.
 */
import type { Logger } from '../actors/logger.js';
import type { EventName } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import type { PresentHost } from './presence.js';

/** The work requests the leader assigns: the daemon that does the work, and its answers. */
export const WORK_ROUTES = {
  TRAINING_THRESHOLD_REACHED: {
    daemon: 'CONTINUOUS_TRAINING_LOOP',
    answers: [
      'TRAINING_STARTED',
      'TRAINING_EARLY_STOPPED',
      'TRAINING_COMPLETED',
      'TRAINING_FAILED',
    ],
    final: ['TRAINING_COMPLETED', 'TRAINING_FAILED'],
  },
} as const satisfies Record<
  string,
  { daemon: string; answers: readonly EventName[]; final: readonly EventName[] }
>;

type RequestType = keyof typeof WORK_ROUTES;

const ANSWER_OF = new Map<string, RequestType>(
  Object.entries(WORK_ROUTES).flatMap(([request, route]) =>
    route.answers.map((a) => [a, request as RequestType] as const),
  ),
);

export function isWorkRequest(type: string): type is RequestType {
  return Object.hasOwn(WORK_ROUTES, type);
}

/**
 * A work request nobody assigned yet (no `target_host`): the leader's own pipeline asking its
 * tracker. It stays on its host; only the assigned copy crosses hosts.
 */
export function isUnassignedWorkRequest(type: string, payload: Record<string, unknown>): boolean {
  return isWorkRequest(type) && typeof payload.target_host !== 'string';
}

interface Job {
  readonly id: string;
  readonly type: RequestType;
  readonly payload: Record<string, unknown>;
  readonly cause: Envelope;
  target: string | null;
  assignments: number;
  /** Hosts this job was assigned to before: their answers are late. */
  readonly former: Set<string>;
}

export interface WorkStats {
  readonly assigned: number;
  readonly reassigned: number;
  readonly waiting: number;
  readonly outstanding: number;
  readonly lateAnswers: number;
}

export class WorkTracker {
  private readonly jobs = new Map<string, Job>();
  private assigned = 0;
  private reassigned = 0;
  private lateAnswers = 0;

  constructor(
    private readonly hosts: () => readonly PresentHost[],
    private readonly publish: (
      type: RequestType,
      payload: Record<string, unknown>,
      cause: Envelope,
    ) => void,
    private readonly token: () => number | null,
    private readonly logger: Logger,
  ) {}

  /** A request this host's pipeline published without a target: the leader assigns it. */
  request(envelope: Envelope): void {
    const payload = envelope.payload as Record<string, unknown>;
    if (!isUnassignedWorkRequest(envelope.type, payload)) return;
    const job: Job = {
      id: envelope.id,
      type: envelope.type as RequestType,
      payload,
      cause: envelope,
      target: null,
      assignments: 0,
      former: new Set(),
    };
    this.jobs.set(job.id, job);
    this.assign(job);
  }

  private assign(job: Job): void {
    const token = this.token();
    if (token === null) return; // not leading: the next leader's pipeline asks again
    const daemon = WORK_ROUTES[job.type].daemon;
    const load = (host: string) => [...this.jobs.values()].filter((j) => j.target === host).length;
    const candidates = this.hosts()
      .filter((h) => h.record.daemons.includes(daemon) && !job.former.has(h.record.host))
      .sort(
        (a, b) =>
          load(a.record.host) - load(b.record.host) ||
          b.record.free_slots - a.record.free_slots ||
          a.record.host.localeCompare(b.record.host),
      );
    const chosen = candidates[0]?.record.host ?? null;
    if (chosen === null) {
      // Nobody can take it now: it waits for a host that can (HOST_ONLINE assigns it).
      if (job.assignments === 0 || job.target !== null)
        this.logger.warn(
          { job_id: job.id, type: job.type, daemon },
          'no host present runs this work; the job waits for one',
        );
      job.target = null;
      return;
    }
    if (job.target !== null) job.former.add(job.target);
    if (job.assignments > 0) this.reassigned++;
    job.assignments++;
    job.target = chosen;
    this.assigned++;
    this.logger.info(
      { job_id: job.id, type: job.type, target_host: chosen, assignment: job.assignments },
      job.assignments > 1 ? 'job reassigned' : 'job assigned',
    );
    this.publish(
      job.type,
      { ...job.payload, target_host: chosen, job_id: job.id, leader_token: token },
      job.cause,
    );
  }

  /** A host went away: its unfinished jobs go to another host (same job id). */
  hostOffline(host: string): void {
    for (const job of this.jobs.values()) {
      if (job.target !== host) continue;
      job.former.add(host);
      this.assign(job);
    }
  }

  /** A host came: jobs nobody could take are assigned. */
  hostOnline(): void {
    for (const job of this.jobs.values()) if (job.target === null) this.assign(job);
  }

  /**
   * Whether an answer from another host belongs to a job of this leader and comes from its
   * current target; null when it does, else why it is ignored.
   */
  screenAnswer(envelope: Envelope): string | null {
    const request = ANSWER_OF.get(envelope.type);
    if (!request) return null;
    const jobId = (envelope.payload as { job_id?: unknown }).job_id;
    if (typeof jobId !== 'string') return null; // not cluster work (a same-host training node)
    const job = this.jobs.get(jobId);
    if (!job) return 'answer to a job this host did not assign';
    if (envelope.origin.host !== job.target) {
      this.lateAnswers++;
      return 'late answer from a former target';
    }
    if ((WORK_ROUTES[request].final as readonly string[]).includes(envelope.type))
      this.jobs.delete(jobId);
    return null;
  }

  /** Leadership lost: this host assigns nothing more; its jobs are the next leader's to redo. */
  clear(): void {
    this.jobs.clear();
  }

  stats(): WorkStats {
    const jobs = [...this.jobs.values()];
    return {
      assigned: this.assigned,
      reassigned: this.reassigned,
      waiting: jobs.filter((j) => j.target === null).length,
      outstanding: jobs.length,
      lateAnswers: this.lateAnswers,
    };
  }
}
