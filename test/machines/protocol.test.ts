/**
 * The daemon-machine protocol: each pipeline machine handles exactly the catalog events its spec
 * subscribes to (plus the host's `daemon.*` events and its worker's `job.*` feedback), the
 * registry refuses a spec whose machine disagrees, and a typed machine refuses at compile time an
 * event it does not subscribe to (the `@ts-expect-error` lines fail `npm run typecheck` if they
 * ever compile).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import {
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  InvalidDaemonSpecError,
} from '../../src/index.js';
import { type CatalogEvent, handledEvents, STOP_EVENT } from '../../src/machines/protocol.js';
import { trainingTriggerMachine } from '../../src/machines/training/training-trigger.js';
import { catalogEvent } from '../support/catalog-event.js';

const specs = createPipelineDaemons({
  worker: createSimulatedWorker(),
  masterLoop: { configs: ['hex8_2p'], iterations: 1, gamesPerBatch: 1 },
});

describe('the daemon-machine protocol', () => {
  it('every pipeline machine handles exactly what its spec subscribes to', () => {
    const rows = specs.map((spec) => {
      const handled = handledEvents(spec.machine);
      const catalog = handled.filter((t) => /^[A-Z0-9_]+$/.test(t));
      expect(catalog, spec.type).toEqual([...spec.subscribes].sort());
      // Internal events are the host's, the worker's and a machine's own delayed ones.
      for (const t of handled.filter((x) => !catalog.includes(x)))
        expect(t, spec.type).toMatch(
          /^(daemon\.(restored|stop)|job\.(progress|done|failed)|recovery\.retry|idle\.elapsed|manager\.pauseBound)$/,
        );
      return `${spec.type.padEnd(26)} ${catalog.length} catalog events, ${handled.length - catalog.length} internal`;
    });
    console.log(rows.join('\n'));
  });

  it('the registry refuses a machine that handles an event its spec does not subscribe to, and a subscription nothing handles', () => {
    const machine = setup({}).createMachine({
      initial: 'ready',
      states: {
        ready: { tags: ['ready'], on: { MODEL_PROMOTED: {}, [STOP_EVENT]: 'done' } },
        done: { type: 'final' },
      },
    });
    const runtime = (subscribes: string[]) =>
      createRuntime({
        profile: ['X'],
        daemons: [{ type: 'X', machine, machineVersion: '1', subscribes, emits: [] }],
        dbPath: false,
        logger: pino({ level: 'silent' }),
        isolatedRouter: true,
      });
    expect(() => runtime([])).toThrow(
      new InvalidDaemonSpecError(
        'X',
        'its machine handles MODEL_PROMOTED, which it does not subscribe to',
      ),
    );
    expect(() => runtime(['MODEL_PROMOTED', 'TRAINING_COMPLETED'])).toThrow(
      new InvalidDaemonSpecError(
        'X',
        'subscribes to TRAINING_COMPLETED, which no state of its machine handles',
      ),
    );
    expect(() => runtime(['MODEL_PROMOTED'])).not.toThrow();
  });

  it('a typed machine takes its subscribed events with their catalog payloads, and nothing else', () => {
    const actor = createActor(trainingTriggerMachine, { input: { threshold: 10 } }).start();
    actor.send(
      catalogEvent('NEW_GAMES_AVAILABLE', {
        host: 'h',
        new_games: 3,
        total_games: 3,
        config_key: 'hex8_2p',
      }),
    );
    expect(actor.getSnapshot().context.pending).toEqual({ hex8_2p: 3 });
    const promoted = catalogEvent('MODEL_PROMOTED', {
      config_key: 'hex8_2p',
      model_id: 'm',
      elo: 1,
      elo_gain: 1,
    });
    const wrongPayload = {
      type: 'NEW_GAMES_AVAILABLE' as const,
      payload: { new_games: 'many' },
      envelope: promoted.envelope,
    };
    // Checked by the compiler only: never sent.
    const refusedAtCompileTime = () => {
      // @ts-expect-error TRAINING_TRIGGER does not subscribe to MODEL_PROMOTED
      actor.send(promoted);
      // @ts-expect-error a payload must be the catalog's (new_games is a whole number)
      actor.send(wrongPayload);
    };
    expect(typeof refusedAtCompileTime).toBe('function');
    const event: CatalogEvent<'NEW_GAMES_AVAILABLE'> = catalogEvent('NEW_GAMES_AVAILABLE', {
      host: 'h',
      new_games: 1,
      total_games: 1,
    });
    const games: number = event.payload.new_games;
    // @ts-expect-error a field the catalog does not define is unknown, not a number
    const made: number = event.payload.made_up;
    expect([games, made]).toEqual([1, undefined]);
    actor.stop();
  });
});
