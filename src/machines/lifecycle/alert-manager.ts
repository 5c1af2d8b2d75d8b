/**
 * ALERT_MANAGER (the guide's AlertManager): turns REGRESSION_CRITICAL and QUALITY_DEGRADED (the
 * guide's rows), DAEMON_WATCHDOG's HEALTH_ALERT, PIPELINE_RECOVERY's RECOVERY_FAILED (it gave
 * up retrying) and DATA_PIPELINE's CIRCUIT_BREAKER_OPENED (repairs keep failing) into alerts. The machine decides (which events alert, how severe, how often); its host raises them
 * (`daemon.alert`: an error log line, `status`, the live view and the optional alert command).
 *
 * The same alert for the same config is raised at most once per `throttleSeconds` (300 s, by the
 * events' own timestamps), so a flapping signal does not page anyone twenty times; the ones held
 * back are counted. The last 50 alerts are kept for `status`.
 */
import { enqueueActions, setup } from 'xstate';
import type { Alert, Emitted } from '../emitted.js';
import { type DaemonMachineEvent, subscriptions } from '../protocol.js';

export const ALERT_MANAGER_SUBSCRIBES = subscriptions(
  'REGRESSION_CRITICAL',
  'QUALITY_DEGRADED',
  'HEALTH_ALERT',
  'RECOVERY_FAILED',
  'CIRCUIT_BREAKER_OPENED',
);

export interface AlertManagerInput {
  /** One alert per event type and config in this many seconds; 300. */
  readonly throttleSeconds?: number;
}

export interface RaisedAlert extends Omit<Alert, 'type'> {
  /** Unix seconds of the event that raised it. */
  readonly at: number;
}

const KEPT = 50;

export interface AlertManagerContext {
  readonly throttleSeconds: number;
  readonly recent: readonly RaisedAlert[];
  /** `TYPE:config` -> when it was last raised. */
  readonly lastRaised: Readonly<Record<string, number>>;
  readonly raised: number;
  readonly held: number;
}

type Subscribed = DaemonMachineEvent<typeof ALERT_MANAGER_SUBSCRIBES>;

function alertOf(event: Subscribed): Omit<Alert, 'type'> | null {
  switch (event.type) {
    case 'REGRESSION_CRITICAL': {
      const p = event.payload;
      return {
        severity: 'critical',
        alert: event.type,
        config_key: p.config_key,
        message: `training of ${p.config_key} paused: ${p.reason ?? `model ${p.model_id ?? '?'} regressed`}`,
        cause: event.envelope.id,
      };
    }
    case 'QUALITY_DEGRADED': {
      const p = event.payload;
      const threshold = p.threshold === undefined ? '' : ` (threshold ${p.threshold})`;
      return {
        severity: 'warning',
        alert: event.type,
        config_key: p.config_key,
        message: `selfplay data quality of ${p.config_key} fell to ${p.quality_score.toFixed(2)}${threshold}`,
        cause: event.envelope.id,
      };
    }
    case 'HEALTH_ALERT': {
      const p = event.payload;
      return {
        severity: p.severity === 'critical' ? 'critical' : 'warning',
        alert: event.type,
        message: p.message,
        cause: event.envelope.id,
      };
    }
    case 'CIRCUIT_BREAKER_OPENED': {
      const p = event.payload;
      return {
        severity: 'warning',
        alert: event.type,
        ...(p.config_key === undefined ? {} : { config_key: p.config_key }),
        message: `circuit breaker ${p.breaker} opened: ${p.reason}`,
        cause: event.envelope.id,
      };
    }
    case 'RECOVERY_FAILED': {
      const p = event.payload;
      return {
        severity: 'critical',
        alert: event.type,
        ...(p.config_key ? { config_key: p.config_key } : {}),
        message: p.message,
        cause: event.envelope.id,
      };
    }
    default:
      return null;
  }
}

/** What one alert is about: the same key within the throttle is the same alert. */
const keyOf = (event: Subscribed) => {
  switch (event.type) {
    case 'HEALTH_ALERT':
      return `${event.type}:${event.payload.component}@${event.payload.host ?? ''}`;
    case 'RECOVERY_FAILED':
      return `${event.type}:${event.payload.component}:${event.payload.config_key ?? ''}`;
    case 'REGRESSION_CRITICAL':
    case 'QUALITY_DEGRADED':
      return `${event.type}:${event.payload.config_key}`;
    case 'CIRCUIT_BREAKER_OPENED':
      return `${event.type}:${event.payload.breaker}`;
    default:
      return event.type;
  }
};

export const alertManagerMachine = setup({
  types: {
    context: {} as AlertManagerContext,
    events: {} as Subscribed,
    emitted: {} as Emitted,
    input: {} as AlertManagerInput,
  },
  guards: {
    throttled: ({ context, event }) => {
      if (!('envelope' in event)) return false;
      const last = context.lastRaised[keyOf(event)];
      return last !== undefined && event.envelope.timestamp - last < context.throttleSeconds;
    },
  },
  actions: {
    raise: enqueueActions(({ context, event, enqueue }) => {
      const alert = alertOf(event);
      if (!alert || !('envelope' in event)) return;
      const at = event.envelope.timestamp;
      enqueue.emit({ type: 'daemon.alert', ...alert });
      enqueue.assign({
        recent: [...context.recent, { ...alert, at }].slice(-KEPT),
        lastRaised: { ...context.lastRaised, [keyOf(event)]: at },
        raised: context.raised + 1,
      });
    }),
    hold: enqueueActions(({ context, enqueue }) => enqueue.assign({ held: context.held + 1 })),
  },
}).createMachine({
  id: 'alertManager',
  context: ({ input }) => ({
    throttleSeconds: input.throttleSeconds ?? 300,
    recent: [],
    lastRaised: {},
    raised: 0,
    held: 0,
  }),
  initial: 'listening',
  states: {
    listening: {
      tags: ['ready'],
      on: {
        REGRESSION_CRITICAL: [{ guard: 'throttled', actions: 'hold' }, { actions: 'raise' }],
        QUALITY_DEGRADED: [{ guard: 'throttled', actions: 'hold' }, { actions: 'raise' }],
        HEALTH_ALERT: [{ guard: 'throttled', actions: 'hold' }, { actions: 'raise' }],
        RECOVERY_FAILED: [{ guard: 'throttled', actions: 'hold' }, { actions: 'raise' }],
        CIRCUIT_BREAKER_OPENED: [{ guard: 'throttled', actions: 'hold' }, { actions: 'raise' }],
      },
    },
  },
});
