/**
 * ELO_SYNC (the guide's EloSyncManager): ELO_SIGNIFICANT_CHANGE when a config's Elo, as its
 * gauntlets measure it (EVALUATION_COMPLETED), has moved by at least `threshold` (25) from the
 * Elo last reported (a config starts at the 1500 of a new rating).
 *
 * The original's EloSyncManager keeps the Elo database consistent across nodes and emits no event
 * (ELO_SIGNIFICANT_CHANGE came from its Elo service); here every host hears the same
 * EVALUATION_COMPLETED through the log or the cluster, so there is no database to merge, and this
 * daemon plays the guide's row. A gauntlet that does not say which model it judged is rejected.
 */
import { enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const ELO_SYNC_SUBSCRIBES = subscriptions('EVALUATION_COMPLETED');

export const INITIAL_ELO = 1500;

export interface EloSyncContext {
  readonly threshold: number;
  /** Config -> the Elo last reported. */
  readonly reported: Readonly<Record<string, number>>;
}

export const eloSyncMachine = setup({
  types: {
    context: {} as EloSyncContext,
    events: {} as DaemonMachineEvent<typeof ELO_SYNC_SUBSCRIBES>,
    emitted: {} as Emitted,
    input: {} as { threshold?: number },
  },
  guards: {
    unnamedModel: ({ event }) =>
      event.type === 'EVALUATION_COMPLETED' && event.payload.model_id === undefined,
    significant: ({ context, event }) =>
      event.type === 'EVALUATION_COMPLETED' &&
      Math.abs(event.payload.elo - (context.reported[event.payload.config_key] ?? INITIAL_ELO)) >=
        context.threshold,
  },
}).createMachine({
  id: 'eloSync',
  context: ({ input }) => ({ threshold: input.threshold ?? 25, reported: {} }),
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: [
          {
            guard: 'unnamedModel',
            actions: reject('EVALUATION_COMPLETED', 'EVALUATION_COMPLETED without model_id'),
          },
          {
            guard: 'significant',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const p = event.payload;
              const old = context.reported[p.config_key] ?? INITIAL_ELO;
              enqueue.emit({
                type: 'ELO_SIGNIFICANT_CHANGE',
                payload: {
                  config_key: p.config_key,
                  model_id: p.model_id as string, // the unnamedModel guard came first
                  old_elo: old,
                  new_elo: p.elo,
                  elo_change: p.elo - old,
                  games_played: p.games_played,
                  threshold: context.threshold,
                },
              });
              enqueue.assign({ reported: { ...context.reported, [p.config_key]: p.elo } });
            }),
          },
        ],
      },
    },
  },
});
