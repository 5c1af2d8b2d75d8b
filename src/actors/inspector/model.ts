/**
 * What the local inspector knows about a running pipeline, in memory and bounded: the actor tree
 * (runtime -> supervisor -> daemons -> their workers), the recent events with who handled them,
 * and enough history to show the tree as it was just after any event still kept (time travel).
 *
 * Every change gets a number from one sequence: an event, a delivery (a daemon handled an event),
 * a patch (a node of the tree changed). The tree at sequence S is the baseline plus every patch
 * up to S; when the patch ring is full the oldest patch is folded into the baseline, so memory
 * stays flat and time travel reaches as far back as the patches kept. Pure: no I/O, no timers,
 * fed by `live-feed.ts` (inside a runtime) or `log-feed.ts` (from the SQLite file).
 */

/** `cluster` and `host`: the cluster this runtime is a member of, and the other hosts present. */
export type NodeKind = 'runtime' | 'supervisor' | 'daemon' | 'worker' | 'cluster' | 'host';

export interface ActorNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly parent: string | null;
  readonly label: string;
  readonly host?: string;
  /**
   * A daemon's lifecycle status as DAEMON_STATUS_CHANGED words it (pending, starting, running,
   * backing_off, failed, ...); a runtime's liveness; a cluster's or host's state.
   */
  readonly status?: string;
  readonly ready?: boolean;
  readonly restarts?: number;
  /** How many times this daemon's machine was started in this runtime (1 on the first start). */
  readonly incarnation?: number;
  /** A daemon's active state, dotted for nested states (`training.waiting`). */
  readonly state?: string;
  /** A worker's job kind and progress (0..1, null before the first report). */
  readonly job?: string;
  readonly progress?: number | null;
  /** A worker's last progress message; a cluster's or host's one-line description. */
  readonly message?: string;
}

export type NodePatch = Partial<Omit<ActorNode, 'id'>>;

export interface EventRecord {
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** Unix milliseconds. */
  readonly at: number;
  readonly host: string;
  readonly runtimeId: string;
  readonly pid: number;
  readonly traceId: string;
  readonly correlationId: string | null;
  readonly parentId: string | null;
  /** The payload as JSON, cut at `PAYLOAD_CHARS`. */
  readonly payload: string;
  /** Published by another process or host (it came through the event log or the cluster). */
  readonly remote: boolean;
}

export interface Delivery {
  readonly seq: number;
  readonly eventId: string;
  readonly daemon: string;
  /** Where the daemon runs. */
  readonly host: string;
  /** `handled`: seen handled by the machine; `subscribed`: inferred from the daemon's spec. */
  readonly how: 'handled' | 'subscribed';
}

interface Patch {
  readonly seq: number;
  readonly node: string;
  /** null removes the node (a worker that finished). */
  readonly set: ActorNode | null;
}

export interface InspectorLimits {
  /** Events kept (and shown); older ones drop off the log. */
  readonly events: number;
  /** Tree changes kept for time travel. */
  readonly patches: number;
  /** Deliveries kept. */
  readonly deliveries: number;
}

/** The ring sizes documented in the README ("See it"). */
export const DEFAULT_INSPECTOR_LIMITS: InspectorLimits = {
  events: 5_000,
  patches: 20_000,
  deliveries: 20_000,
};

export const PAYLOAD_CHARS = 1_000;

/** A fixed-capacity FIFO whose eviction the owner hears about. */
class Ring<T> {
  private readonly items: T[] = [];
  private head = 0;
  constructor(
    private readonly capacity: number,
    private readonly evicted: (item: T) => void = () => {},
  ) {}
  push(item: T): void {
    if (this.items.length - this.head >= this.capacity) {
      this.evicted(this.items[this.head] as T);
      this.head++;
      // Compact now and then, so the array does not grow with everything ever pushed.
      if (this.head > this.capacity) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
    }
    this.items.push(item);
  }
  get size(): number {
    return this.items.length - this.head;
  }
  /** Items with `seqOf(item) > after`, oldest first (binary search: seqs only grow). */
  after(after: number, seqOf: (item: T) => number): T[] {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqOf(this.items[mid] as T) <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.items.slice(lo);
  }
  upTo(last: number, seqOf: (item: T) => number): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (seqOf(item) > last) break;
      out.push(item);
    }
    return out;
  }
}

const bySeq = (item: { seq: number }) => item.seq;

export interface Moment {
  /** The tree just after the event (its own patches included). */
  readonly nodes: ActorNode[];
  readonly seq: number;
  /** False when the patches of that time were already folded away (the tree is the oldest kept). */
  readonly exact: boolean;
}

export class InspectorModel {
  private seq = 0;
  private readonly baseline = new Map<string, ActorNode>();
  private readonly current = new Map<string, ActorNode>();
  private readonly patches: Ring<Patch>;
  private readonly events: Ring<EventRecord>;
  private readonly deliveries: Ring<Delivery>;
  private readonly eventsById = new Map<string, EventRecord>();
  /** The last sequence number caused by each kept event: time travel shows the tree after it. */
  private readonly settled = new Map<string, number>();
  /** The last patch folded into the baseline: the tree before it can no longer be shown. */
  private foldedUpTo = 0;
  /** Bumped on every tree change, so a page asks for the tree only when it changed. */
  version = 0;

  constructor(readonly limits: InspectorLimits = DEFAULT_INSPECTOR_LIMITS) {
    this.patches = new Ring(limits.patches, (p) => {
      apply(this.baseline, p);
      this.foldedUpTo = p.seq;
    });
    this.events = new Ring(limits.events, (e) => {
      this.eventsById.delete(e.id);
      this.settled.delete(e.id);
    });
    this.deliveries = new Ring(limits.deliveries);
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Creates or changes a node; `cause` is the id of the event being handled, when known. */
  update(id: string, change: NodePatch & Pick<ActorNode, 'kind'>, cause?: string | null): void {
    const before = this.current.get(id);
    const next: ActorNode = before
      ? { ...before, ...change }
      : { parent: null, label: id, ...change, id };
    if (before && sameNode(before, next)) return;
    this.record({ seq: ++this.seq, node: id, set: next }, cause);
  }

  remove(id: string, cause?: string | null): void {
    if (!this.current.has(id)) return;
    this.record({ seq: ++this.seq, node: id, set: null }, cause);
  }

  node(id: string): ActorNode | undefined {
    return this.current.get(id);
  }

  nodes(): ActorNode[] {
    return [...this.current.values()];
  }

  /** Records an event once (by id); returns false for one already kept. */
  addEvent(event: Omit<EventRecord, 'seq'>): boolean {
    if (this.eventsById.has(event.id)) return false;
    const record = { ...event, seq: ++this.seq };
    this.events.push(record);
    this.eventsById.set(record.id, record);
    this.settled.set(record.id, record.seq);
    return true;
  }

  handled(eventId: string, daemon: string, host: string, how: Delivery['how'] = 'handled'): void {
    if (!this.eventsById.has(eventId)) return;
    const seq = ++this.seq;
    this.deliveries.push({ seq, eventId, daemon, host, how });
    this.settled.set(eventId, seq);
  }

  event(id: string): EventRecord | undefined {
    return this.eventsById.get(id);
  }

  eventsAfter(seq: number): EventRecord[] {
    return this.events.after(seq, bySeq);
  }

  deliveriesAfter(seq: number): Delivery[] {
    return this.deliveries.after(seq, bySeq);
  }

  get eventCount(): number {
    return this.events.size;
  }

  /** The tree just after an event still kept; undefined for an unknown (or dropped) event. */
  at(eventId: string): Moment | undefined {
    const seq = this.settled.get(eventId);
    if (seq === undefined) return undefined;
    const tree = new Map(this.baseline);
    for (const patch of this.patches.upTo(seq, bySeq)) apply(tree, patch);
    return { nodes: [...tree.values()], seq, exact: this.foldedUpTo <= seq };
  }

  private record(patch: Patch, cause: string | null | undefined): void {
    this.patches.push(patch);
    apply(this.current, patch);
    this.version++;
    if (cause && this.settled.has(cause)) this.settled.set(cause, patch.seq);
  }
}

function apply(tree: Map<string, ActorNode>, patch: Patch): void {
  if (patch.set === null) tree.delete(patch.node);
  else tree.set(patch.node, patch.set);
}

function sameNode(a: ActorNode, b: ActorNode): boolean {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ActorNode>)
    if (a[key] !== b[key]) return false;
  return true;
}
