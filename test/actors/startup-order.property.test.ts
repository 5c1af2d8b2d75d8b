/**
 * Startup order (property): for random dependency DAGs and random readiness delays, a daemon
 * never starts before its dependencies are ready, and no event that a started daemon publishes
 * is lost by a daemon of the same profile that subscribes to it and started before it.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRuntime, type Envelope } from '../../src/index.js';
import { testDaemon } from '../support/daemons.js';
import { until } from '../support/log.js';

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
});
