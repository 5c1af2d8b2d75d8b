/**
 * Startup order (property): for random dependency DAGs and random readiness delays, a daemon
 * never starts before its dependencies are ready, and no event that a started daemon publishes
 * is lost by a daemon of the same profile that subscribes to it and started before it.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import {
  createRuntime,
  DaemonFailedError,
  type DaemonSpec,
  type Envelope,
} from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';
import { simulatedTime } from '../support/simulated-time.js';

describe('startup order (property)', () => {
  it('never starts a daemon before its dependencies, and loses no event to earlier subscribers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            deps: fc.array(fc.nat(), { maxLength: 3 }),
            delay: fc.integer({ min: 0, max: 15 }),
          }),
          {
            minLength: 1,
            maxLength: 7,
          },
        ),
        async (raw) => {
          const daemons = raw.map((d, i) =>
            testDaemon(`D${i}`, {
              dependsOn: i === 0 ? [] : [...new Set(d.deps.map((x) => `D${x % i}`))],
              readyAfterMs: d.delay,
            }),
          );
          const runtime = createRuntime({
            profile: daemons.map((d) => d.type),
            daemons,
            dbPath: false,
            logger: pino({ level: 'silent' }),
          });
          const events: Envelope[] = [];
          runtime.router.subscribe('*', (e) => void events.push(e));
          // When a daemon becomes ready it publishes HOST_ONLINE; every daemon that was already
          // running must see it (each answers with HOST_OFFLINE naming itself).
          runtime.router.subscribe('DAEMON_STARTED', (e) => {
            runtime.router.publish('HOST_ONLINE', { host: String(e.payload.daemon_name) });
          });
          await runtime.start();
          await until(
            () => runtime.status().daemons.every((d) => d.ready),
            5_000,
            'all daemons ready',
          );
          await runtime.router.whenIdle();
          await new Promise((r) => setTimeout(r, 5));
          await runtime.router.whenIdle();
          const timeline = events
            .filter((e) => e.type === 'DAEMON_STATUS_CHANGED')
            .map((e) => `${e.payload.daemon_name}:${e.payload.new_status}`);
          for (const spec of daemons) {
            for (const dep of spec.dependsOn ?? []) {
              expect(
                timeline.indexOf(`${spec.type}:starting`),
                `${spec.type} started before ${dep} was ready`,
              ).toBeGreaterThan(timeline.indexOf(`${dep}:running`));
            }
          }
          // Each HOST_ONLINE published after daemon X was running must be answered by X.
          const running = new Map<string, number>();
          events.forEach((e, i) => {
            if (e.type === 'DAEMON_STATUS_CHANGED' && e.payload.new_status === 'running')
              running.set(String(e.payload.daemon_name), i);
          });
          events.forEach((e, i) => {
            if (e.type !== 'HOST_ONLINE') return;
            for (const [daemon, since] of running) {
              if (since > i) continue;
              const answered = events.some(
                (a) => a.type === 'HOST_OFFLINE' && a.source === daemon && a.parentId === e.id,
              );
              expect(answered, `${daemon} missed HOST_ONLINE(${e.payload.host})`).toBe(true);
            }
          });
          await runtime.stop();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('with daemons that crash on start: each crashing one ends FAILED with its error, its dependents never start, the rest run, and whenReady() rejects exactly when a critical one failed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            deps: fc.array(fc.nat(), { maxLength: 3 }),
            crashes: fc.boolean(),
            critical: fc.boolean(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (raw) => {
          const { clock, settle } = simulatedTime();
          const daemons: DaemonSpec[] = raw.map((d, i) => {
            const dependsOn = i === 0 ? [] : [...new Set(d.deps.map((x) => `D${x % i}`))];
            if (!d.crashes) return { ...testDaemon(`D${i}`, { dependsOn }), critical: d.critical };
            return {
              type: `D${i}`,
              machine: crashingMachine(`D${i}`),
              machineVersion: '1',
              subscribes: [],
              emits: [],
              dependsOn,
              critical: d.critical,
              backoff: { jitter: 0 },
            };
          });
          const runtime = createRuntime({
            profile: daemons.map((d) => d.type),
            daemons,
            dbPath: false,
            logger: pino({ level: 'silent' }),
            clock,
          });
          await runtime.start();
          const ready = runtime.whenReady().then(
            () => null,
            (error: unknown) => error,
          );
          // Far past every backoff of the intensity limit (1+2+4+8+16 s).
          for (let i = 0; i < 80; i++) {
            clock.increment(1_000);
            await settle();
          }
          const byName = new Map(runtime.status().daemons.map((d) => [d.daemon, d]));
          const blocked = new Set<string>();
          for (const spec of daemons) {
            const upstream = (spec.dependsOn ?? []).some(
              (dep) => blocked.has(dep) || raw[Number(dep.slice(1))]?.crashes,
            );
            if (upstream) blocked.add(spec.type);
          }
          for (const [i, spec] of daemons.entries()) {
            const status = byName.get(spec.type);
            if (blocked.has(spec.type)) {
              expect(status?.state, `${spec.type} depends on a failed daemon`).toBe(
                'waiting_for_dependencies',
              );
            } else if (raw[i]?.crashes) {
              expect(status?.state, spec.type).toBe('failed');
              expect(status?.lastError).toContain(`${spec.type} cannot start`);
            } else {
              expect(status?.state, spec.type).toBe('running');
            }
          }
          // A critical daemon that failed, or that waits on one that failed, will not be ready.
          const criticalLost = daemons.some(
            (d, i) => d.critical && (blocked.has(d.type) || raw[i]?.crashes),
          );
          const outcome = await Promise.race([ready, settle().then(() => 'pending')]);
          if (criticalLost) expect(outcome).toBeInstanceOf(DaemonFailedError);
          else expect(outcome).toBe(null);
          await runtime.stop();
        },
      ),
      { numRuns: 25 },
    );
  });
});

/** A daemon whose entry action throws: it never gets to be ready. */
function crashingMachine(name: string) {
  return setup({
    actions: {
      boom: () => {
        throw new Error(`${name} cannot start`);
      },
    },
  }).createMachine({ id: name, initial: 'booting', states: { booting: { entry: 'boom' } } });
}
