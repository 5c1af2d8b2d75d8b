/**
 * QUEUE_POPULATOR (the guide's QueuePopulator, for its one row: ELO_VELOCITY_CHANGED from the
 * Elo history). It keeps each config's last `HISTORY` Elo values (EVALUATION_COMPLETED) and their
 * velocity: the least-squares slope in Elo per evaluation. When a velocity first exists (two
 * evaluations) or moves by more than 10 from the one last reported (the original's threshold),
 * ELO_VELOCITY_CHANGED says it, with its trend: `improving` above 5, `declining` below -5,
 * `plateau` between.
 *
 * Deviation: the original measures Elo per day; simulated runs fit many evaluations in a second,
 * so a velocity per evaluation (per training generation) is what means the same in both. The
 * original's work-queue filling (selfplay, training and tournament items) is the MasterLoop's and
 * the SelfplayScheduler's here.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const QUEUE_POPULATOR_SUBSCRIBES = subscriptions('EVALUATION_COMPLETED');

/** Evaluations per config the velocity is fitted to. */
export const HISTORY = 5;
/** A velocity move larger than this is reported. */
export const VELOCITY_STEP = 10;

export type EloTrend = 'improving' | 'plateau' | 'declining';

export function trendOf(velocity: number): EloTrend {
  return velocity > 5 ? 'improving' : velocity < -5 ? 'declining' : 'plateau';
}

/** Least-squares slope of the values against their index; null below two values. */
export function slope(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return Math.round((num / den) * 100) / 100;
}

export interface QueuePopulatorContext {
  /** Config -> its last HISTORY Elo values, oldest first. */
  readonly history: Readonly<Record<string, readonly number[]>>;
  /** Config -> the velocity last reported. */
  readonly reported: Readonly<Record<string, number>>;
}

export const queuePopulatorMachine = setup({
  types: {
    context: {} as QueuePopulatorContext,
    events: {} as DaemonMachineEvent<typeof QUEUE_POPULATOR_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
}).createMachine({
  id: 'queuePopulator',
  context: { history: {}, reported: {} },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        EVALUATION_COMPLETED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const config = event.payload.config_key;
            const history = [...(context.history[config] ?? []), event.payload.elo].slice(-HISTORY);
            enqueue.assign({ history: { ...context.history, [config]: history } });
            const velocity = slope(history);
            const before = context.reported[config];
            if (velocity === null) return;
            if (before !== undefined && Math.abs(velocity - before) <= VELOCITY_STEP) return;
            enqueue.emit({
              type: 'ELO_VELOCITY_CHANGED',
              payload: {
                config_key: config,
                velocity,
                previous_velocity: before ?? 0,
                trend: trendOf(velocity),
                velocity_change: Math.round((velocity - (before ?? 0)) * 100) / 100,
              },
            });
            enqueue.assign({ reported: { ...context.reported, [config]: velocity } });
          }),
        },
      },
    },
  },
});
