/**
 * REGRESSION_DETECTOR (the guide's RegressionDetector): REGRESSION_CRITICAL, the alarm that pauses
 * training for a config and raises an alert, when a regression is `critical` or is the config's
 * second in a row (no REGRESSION_CLEARED between them: rolling back did not help).
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const REGRESSION_DETECTOR_SUBSCRIBES = subscriptions(
  'REGRESSION_DETECTED',
  'REGRESSION_CLEARED',
);

/** Regressions in a row that make one critical whatever its severity. */
export const CRITICAL_STREAK = 2;

export const regressionDetectorMachine = setup({
  types: {
    context: {} as { readonly streak: Readonly<Record<string, number>>; readonly critical: number },
    events: {} as DaemonMachineEvent<typeof REGRESSION_DETECTOR_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  guards: {
    isCritical: ({ context, event }) =>
      event.type === 'REGRESSION_DETECTED' &&
      (event.payload.severity === 'critical' ||
        (context.streak[event.payload.config_key] ?? 0) + 1 >= CRITICAL_STREAK),
  },
}).createMachine({
  id: 'regressionDetector',
  context: { streak: {}, critical: 0 },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        REGRESSION_DETECTED: [
          {
            guard: 'isCritical',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const p = event.payload;
              const streak = (context.streak[p.config_key] ?? 0) + 1;
              enqueue.emit({
                type: 'REGRESSION_CRITICAL',
                payload: {
                  config_key: p.config_key,
                  ...(p.model_id ? { model_id: p.model_id } : {}),
                  ...(p.current_elo !== undefined ? { current_elo: p.current_elo } : {}),
                  ...(p.baseline_elo !== undefined ? { baseline_elo: p.baseline_elo } : {}),
                  reason:
                    p.severity === 'critical'
                      ? `critical regression: ${p.reason ?? 'no reason given'}`
                      : `${streak} regressions in a row: ${p.reason ?? 'no reason given'}`,
                },
              });
              enqueue.assign({
                streak: { ...context.streak, [p.config_key]: streak },
                critical: context.critical + 1,
              });
            }),
          },
          {
            actions: assign({
              streak: ({ context, event }) => ({
                ...context.streak,
                [event.payload.config_key]: (context.streak[event.payload.config_key] ?? 0) + 1,
              }),
            }),
          },
        ],
        REGRESSION_CLEARED: {
          actions: assign({
            streak: ({ context, event }) => ({ ...context.streak, [event.payload.config_key]: 0 }),
          }),
        },
      },
    },
  },
});
