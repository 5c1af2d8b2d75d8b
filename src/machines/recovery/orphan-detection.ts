/**
 * ORPHAN_DETECTION (the guide's OrphanDetectionDaemon): games this host played that no sync will
 * carry any more. It keeps, per config, the selfplay games not yet synced (SELFPLAY_COMPLETE adds
 * a batch and its database; DATA_SYNC_COMPLETED takes off what the sync carried, including games
 * it left for repair). When the RecoveryOrchestrator gives up on a config's sync
 * (RECOVERY_FAILED of component `sync`), the games still unsynced are orphans:
 * ORPHAN_GAMES_DETECTED names their databases and count, and DATA_PIPELINE asks for a priority
 * sync of them.
 *
 * (The original scans data/games for databases missing from the cluster manifest every 300 s;
 * here the host's own events say which games no sync carried, so there is nothing to scan.)
 */
import { enqueueActions, setup } from 'xstate';
import { type Emitted, reject } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';
import { isCatchUp } from '../sync/auto-sync.js';

export const ORPHAN_DETECTION_SUBSCRIBES = subscriptions(
  'SELFPLAY_COMPLETE',
  'DATA_SYNC_COMPLETED',
  'RECOVERY_FAILED',
);

/** Databases remembered per config: enough to name them, bounded for long runs. */
const MAX_PATHS = 20;

export interface Unsynced {
  readonly games: number;
  readonly paths: readonly string[];
}

export interface OrphanDetectionContext {
  readonly host: string;
  readonly unsynced: Readonly<Record<string, Unsynced>>;
  /** ORPHAN_GAMES_DETECTED said so far. */
  readonly detected: number;
}

export const orphanDetectionMachine = setup({
  types: {
    context: {} as OrphanDetectionContext,
    events: {} as DaemonMachineEvent<typeof ORPHAN_DETECTION_SUBSCRIBES>,
    emitted: {} as Emitted,
    input: {} as { host: string },
  },
  guards: {
    syncGivenUp: ({ context, event }) =>
      event.type === 'RECOVERY_FAILED' &&
      event.payload.component === 'sync' &&
      event.payload.config_key !== undefined &&
      (context.unsynced[event.payload.config_key]?.games ?? 0) > 0,
  },
}).createMachine({
  id: 'orphanDetection',
  context: ({ input }) => ({ host: input.host, unsynced: {}, detected: 0 }),
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        SELFPLAY_COMPLETE: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const { config_key: config, games_played: games, db_path: path } = event.payload;
            const before = context.unsynced[config] ?? { games: 0, paths: [] };
            const paths =
              path === undefined || before.paths.includes(path)
                ? before.paths
                : [...before.paths, path].slice(-MAX_PATHS);
            enqueue.assign({
              unsynced: { ...context.unsynced, [config]: { games: before.games + games, paths } },
            });
          }),
        },
        DATA_SYNC_COMPLETED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const config = event.payload.config_key;
            const before = config === undefined ? undefined : context.unsynced[config];
            // A catch-up copies games already synced once.
            if (isCatchUp(event.payload)) return;
            if (config === undefined || before === undefined) return;
            const carried = event.payload.games_synced + (event.payload.games_missing ?? 0);
            const games = Math.max(0, before.games - carried);
            const { [config]: _, ...rest } = context.unsynced;
            enqueue.assign({
              unsynced: games === 0 ? rest : { ...rest, [config]: { ...before, games } },
            });
          }),
        },
        RECOVERY_FAILED: [
          {
            guard: ({ event }) =>
              event.payload.component === 'sync' && event.payload.config_key === undefined,
            actions: reject('RECOVERY_FAILED', 'RECOVERY_FAILED of a sync without config_key'),
          },
          {
            guard: 'syncGivenUp',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const config = event.payload.config_key as string; // the guard checked it
              const orphans = context.unsynced[config] as Unsynced;
              enqueue.emit({
                type: 'ORPHAN_GAMES_DETECTED',
                payload: {
                  host: context.host,
                  config_key: config,
                  orphan_count: orphans.paths.length,
                  orphan_paths: [...orphans.paths],
                  total_games: orphans.games,
                },
              });
              enqueue.assign({ detected: context.detected + 1 });
            }),
          },
        ],
      },
    },
  },
});
