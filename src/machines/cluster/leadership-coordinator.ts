/**
 * LEADERSHIP_COORDINATOR (the guide's LeadershipCoordinator): this host's view of the cluster's
 * leadership and membership, folded from LEADER_ELECTED and HOST_ONLINE / HOST_OFFLINE into its
 * snapshot (the inspector and `status` read it; it emits nothing, as in the original).
 *
 * Unlike the original, it keeps terms: the cluster member publishes LEADER_ELECTED each time it
 * observes the leader key, and after a restart or a reconnect it may observe an older lease
 * again. A LEADER_ELECTED whose term is below the one held is stale and changes nothing, so the
 * view never goes back to a deposed leader. An event without a term (not from our cluster
 * member) is taken as it comes.
 */
import { assign, setup } from 'xstate';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const LEADERSHIP_COORDINATOR_SUBSCRIBES = subscriptions(
  'LEADER_ELECTED',
  'HOST_ONLINE',
  'HOST_OFFLINE',
);

/** How many leader changes the view remembers. */
export const LEADER_HISTORY = 20;

export interface LeadershipContext {
  readonly leader: string | null;
  /** The term (fencing token) of `leader`; 0 before any. */
  readonly term: number;
  /** host -> whether it is present. */
  readonly members: Readonly<Record<string, 'online' | 'offline'>>;
  /** The last leader changes, oldest first: who, which term, when (Unix seconds). */
  readonly history: readonly {
    readonly leader: string;
    readonly term: number;
    readonly at: number;
  }[];
  /** LEADER_ELECTED events ignored as older than the term held. */
  readonly stale: number;
}

type LeadershipEvent = DaemonMachineEvent<typeof LEADERSHIP_COORDINATOR_SUBSCRIBES>;

export const leadershipCoordinatorMachine = setup({
  types: { context: {} as LeadershipContext, events: {} as LeadershipEvent },
  guards: {
    stale: ({ context, event }) =>
      event.type === 'LEADER_ELECTED' &&
      event.payload.term !== undefined &&
      event.payload.term < context.term,
    sameLeader: ({ context, event }) =>
      event.type === 'LEADER_ELECTED' &&
      event.payload.leader_id === context.leader &&
      (event.payload.term ?? context.term) === context.term,
  },
}).createMachine({
  id: 'leadershipCoordinator',
  context: { leader: null, term: 0, members: {}, history: [], stale: 0 },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        LEADER_ELECTED: [
          { guard: 'stale', actions: assign({ stale: ({ context }) => context.stale + 1 }) },
          // The member re-publishes the leader it already reported (a refresh, a reconnect).
          { guard: 'sameLeader' },
          {
            actions: assign(({ context, event }) => {
              const term = event.payload.term ?? context.term;
              const change = {
                leader: event.payload.leader_id,
                term,
                at: event.envelope.timestamp,
              };
              return {
                leader: event.payload.leader_id,
                term,
                history: [...context.history, change].slice(-LEADER_HISTORY),
              };
            }),
          },
        ],
        HOST_ONLINE: {
          actions: assign({
            members: ({ context, event }) => ({
              ...context.members,
              [event.payload.host]: 'online',
            }),
          }),
        },
        HOST_OFFLINE: {
          actions: assign({
            members: ({ context, event }) => ({
              ...context.members,
              [event.payload.host]: 'offline',
            }),
          }),
        },
      },
    },
  },
});
