/**
 * What a daemon knows of the cluster's hosts, folded from HOST_ONLINE / HOST_OFFLINE (a job
 * daemon's `notes`): which hosts are present and which daemons each runs. Pure: the daemons that
 * send work to hosts (sync, distribution) read their targets from it when a request arrives.
 */

export interface HostNotes {
  /** host -> the daemons it runs (as its presence says). */
  readonly hosts: Readonly<Record<string, readonly string[]>>;
}

export const HOST_EVENTS = ['HOST_ONLINE', 'HOST_OFFLINE'] as const;

export function foldHosts(
  notes: HostNotes,
  type: string,
  payload: Record<string, unknown>,
): HostNotes {
  const host = payload.host;
  if (typeof host !== 'string') return notes;
  if (type === 'HOST_ONLINE') {
    const daemons = Array.isArray(payload.daemons)
      ? payload.daemons.filter((d): d is string => typeof d === 'string')
      : [];
    return { hosts: { ...notes.hosts, [host]: daemons } };
  }
  if (type === 'HOST_OFFLINE' && host in notes.hosts) {
    const { [host]: _gone, ...rest } = notes.hosts;
    return { hosts: rest };
  }
  return notes;
}

/** The hosts present that run any of `daemons`, except `self`, sorted by name. */
export function hostsRunning(notes: HostNotes, daemons: readonly string[], self: string): string[] {
  return Object.entries(notes.hosts)
    .filter(([host, runs]) => host !== self && runs.some((d) => daemons.includes(d)))
    .map(([host]) => host)
    .sort();
}

/** Free GPU slots a presence payload announces (0 when it says none). */
export const freeSlots = (payload: Record<string, unknown>): number =>
  typeof payload.free_slots === 'number' && payload.free_slots > 0 ? payload.free_slots : 0;

/** The host a presence event is about: `host` of HOST_ONLINE / HOST_OFFLINE, NODE_RECOVERED's `node_id`. */
export function presenceHost(type: string, payload: Record<string, unknown>): string | undefined {
  const host = type === 'NODE_RECOVERED' ? payload.node_id : payload.host;
  return typeof host === 'string' ? host : undefined;
}
