/**
 * DAEMON_WATCHDOG (the guide's DaemonWatchdog): watches DAEMON_STATUS_CHANGED for daemons that
 * keep crashing without ever failing for good. The supervisor gives up on a daemon after 5
 * restarts in 10 minutes; one that crashes every quarter of an hour never trips that, yet is
 * broken. The watchdog counts each `daemon@host`'s crashes (entering `backing_off`) over the
 * last hour and raises HEALTH_ALERT at the third (the original's limit: 3 restarts an hour),
 * once, until the count in the hour falls below 3 again. Times are the events' own.
 */
import { enqueueActions, setup } from 'xstate';
import type { Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const DAEMON_WATCHDOG_SUBSCRIBES = subscriptions('DAEMON_STATUS_CHANGED');

export const CRASHES_PER_HOUR = 3;
const HOUR = 3_600;

export interface WatchdogContext {
  /** `daemon@host` -> Unix seconds of its crashes in the last hour. */
  readonly crashes: Readonly<Record<string, readonly number[]>>;
  /** `daemon@host`s alerted on and not yet calm again. */
  readonly alerted: Readonly<Record<string, boolean>>;
  readonly alerts: number;
}

export const daemonWatchdogMachine = setup({
  types: {
    context: {} as WatchdogContext,
    events: {} as DaemonMachineEvent<typeof DAEMON_WATCHDOG_SUBSCRIBES>,
    emitted: {} as Emitted,
  },
  guards: {
    crashed: ({ event }) =>
      event.type === 'DAEMON_STATUS_CHANGED' && event.payload.new_status === 'backing_off',
  },
}).createMachine({
  id: 'daemonWatchdog',
  context: { crashes: {}, alerted: {}, alerts: 0 },
  initial: 'watching',
  states: {
    watching: {
      tags: ['ready'],
      on: {
        DAEMON_STATUS_CHANGED: [
          {
            guard: 'crashed',
            actions: enqueueActions(({ context, event, enqueue }) => {
              const p = event.payload;
              const key = `${p.daemon_name}@${p.hostname}`;
              const now = event.envelope.timestamp;
              const recent = [...(context.crashes[key] ?? []), now].filter((t) => now - t < HOUR);
              enqueue.assign({ crashes: { ...context.crashes, [key]: recent } });
              if (recent.length < CRASHES_PER_HOUR) {
                if (context.alerted[key])
                  enqueue.assign({ alerted: { ...context.alerted, [key]: false } });
                return;
              }
              if (context.alerted[key]) return;
              enqueue.emit({
                type: 'HEALTH_ALERT',
                payload: {
                  component: p.daemon_name,
                  host: p.hostname,
                  severity: 'warning',
                  restarts: recent.length,
                  window_seconds: HOUR,
                  message: `${p.daemon_name} on ${p.hostname} crashed ${recent.length} times in the last hour${p.error ? ` (last: ${p.error})` : ''}`,
                },
              });
              enqueue.assign({
                alerted: { ...context.alerted, [key]: true },
                alerts: context.alerts + 1,
              });
            }),
          },
          // Other status changes say nothing about crashing.
          {},
        ],
      },
    },
  },
});
