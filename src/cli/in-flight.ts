/**
 * The work a run's daemons had begun and not ended when the run stopped: a run ends when the
 * MasterLoop's iterations end, and the daemons stop with whatever is still running (an idle-GPU
 * batch's training, say). The summary names it, so that its counts (completed work only) do not
 * read as the whole story.
 *
 * A piece of work is one stage of one chain (correlation id) on one host: its latest event says
 * whether it runs. A training resumed after a restart begins again in the same chain, so it is not
 * counted twice.
 */
import type { Envelope } from '../events/envelope.js';

/** Each tracked stage: the event that begins it and the events that end it. */
const STAGES: readonly { stage: string; begins: string; ends: readonly string[] }[] = [
  { stage: 'sync', begins: 'DATA_SYNC_STARTED', ends: ['DATA_SYNC_COMPLETED', 'DATA_SYNC_FAILED'] },
  {
    stage: 'training',
    begins: 'TRAINING_STARTED',
    ends: ['TRAINING_COMPLETED', 'TRAINING_FAILED'],
  },
  {
    stage: 'evaluation',
    begins: 'EVALUATION_STARTED',
    ends: ['EVALUATION_COMPLETED', 'EVALUATION_FAILED'],
  },
  {
    stage: 'distribution',
    begins: 'MODEL_DISTRIBUTION_STARTED',
    ends: ['MODEL_DISTRIBUTION_COMPLETE', 'MODEL_DISTRIBUTION_FAILED'],
  },
];

const BEGIN = new Map(STAGES.map((s) => [s.begins, s.stage]));
const END = new Map(STAGES.flatMap((s) => s.ends.map((e) => [e, s.stage] as const)));

export interface InFlight {
  readonly stage: string;
  /** The config it is for, when its events say. */
  readonly config: string | null;
  readonly host: string;
}

export class InFlightWork {
  private readonly open = new Map<string, InFlight>();

  observe(e: Envelope): void {
    const begun = BEGIN.get(e.type);
    const stage = begun ?? END.get(e.type);
    if (stage === undefined) return;
    const p = e.payload as Record<string, unknown>;
    const host = typeof p.host === 'string' ? p.host : e.origin.host;
    const config = typeof p.config_key === 'string' ? p.config_key : null;
    // Events outside any chain (a sync the schedule started) share one: the stage's, per host.
    const chain = `${stage}\u0000${e.correlationId ?? ''}\u0000`;
    if (begun) {
      this.open.set(chain + host, { stage, config, host });
      return;
    }
    if (this.open.delete(chain + host)) return;
    // An end that names its host differently from its begin still ends that chain's stage.
    for (const key of this.open.keys())
      if (key.startsWith(chain)) {
        this.open.delete(key);
        return;
      }
  }

  /** What had begun and not ended, in the order it began. */
  list(): InFlight[] {
    return [...this.open.values()];
  }

  /**
   * Waits until the work open now has ended, for at most `ms`. Work begun meanwhile is not waited
   * for: an idle-GPU filler starts batches as long as it runs, and would hold the stop to the bound.
   * True when it all ended.
   */
  async ended(ms: number): Promise<boolean> {
    const waiting = [...this.open.keys()];
    const deadline = performance.now() + ms;
    const open = () => waiting.some((key) => this.open.has(key));
    while (open() && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    return !open();
  }
}
