/**
 * `wiring check --trace`: the guide's rows proven from a run, not from the specs. A seeded
 * simulated pipeline (three configs, a world whose faults start at once, simulated hosts coming
 * and going) runs in this process; every envelope published says who emitted it (its source),
 * and XState's inspection says which daemon's machine received which event. A row is proven when
 * each daemon that plays one of its emitters emitted the event, and each that plays one of its
 * subscribers received it.
 */
import { pino } from 'pino';
import type { InspectionEvent } from 'xstate';
import { createRuntime } from '../actors/runtime.js';
import { SUPERVISOR_EMITS } from '../actors/supervisor.js';
import { CLUSTER_EMITS } from '../cluster/member.js';
import { checkGuideCoverage } from '../pipeline/guide-coverage.js';
import { createPipelineDaemons } from '../pipeline/pipeline-daemons.js';
import { createSimulatedWorker } from '../workers/simulated.js';

type Out = (line: string) => void;

export interface TraceOptions {
  readonly iterations?: number;
  readonly seed?: number;
  /** Gives up on a run that has not finished by then; 120 s. */
  readonly timeoutMs?: number;
}

/** Who played a cell in the run: the daemon type, `supervisor` or the presence (`cluster member`). */
const SOURCE_OF_PLAYER: Readonly<Record<string, string>> = {
  supervisor: 'supervisor',
  'cluster member': 'presence',
};

/** Returns how many rows the run did not prove (0: every row). */
export async function traceGuide(out: Out, options: TraceOptions = {}): Promise<number> {
  const iterations = options.iterations ?? 40;
  const seed = options.seed ?? 7;
  const daemons = createPipelineDaemons({
    worker: createSimulatedWorker({
      seed,
      durationsMs: {
        selfplay: 10,
        sync: 5,
        export: 5,
        training: 10,
        evaluation: 10,
        distribution: 5,
      },
      regressionRate: 0.3,
      lowQualityRate: 0.2,
      partialSyncRate: 0.2,
      repairFailureRate: 0.5,
      outageRates: { sync: 0.05, training: 0.03 },
      outageAttempts: { sync: 30 },
      preemptedGauntletRate: 0.2,
    }),
    trainingThreshold: 50,
    recovery: { baseDelayMs: 100 },
    idleSeconds: 0.05,
    // At the world's pace, as `run` does: a 1 s retry of a 5 ms sync made this run last 80 s.
    jobRetryDelayMs: (attempt) => 50 * 2 ** (attempt - 1),
    masterLoop: {
      configs: ['hex8_2p', 'square8_2p', 'hex8_4p'],
      iterations,
      gamesPerBatch: 50,
    },
  });
  const emitted = new Map<string, Map<string, number>>();
  const received = new Map<string, Map<string, number>>();
  const count = (m: Map<string, Map<string, number>>, type: string, who: string) => {
    const byWho = m.get(type) ?? new Map<string, number>();
    byWho.set(who, (byWho.get(who) ?? 0) + 1);
    m.set(type, byWho);
  };
  const runtime = createRuntime({
    profile: daemons.map((d) => d.type),
    daemons,
    dbPath: false,
    logger: pino({ level: 'silent' }),
    isolatedRouter: true,
    localPresence: {
      host: 'localhost',
      simulatedHosts: 3,
      seed,
      dropRate: 0.3,
      leaseLapseRate: 0.3,
    },
    inspect: (e: InspectionEvent) => {
      if (e.type !== '@xstate.event') return;
      const type = (e.event as { type?: unknown }).type;
      if (typeof type === 'string' && /^[A-Z]/.test(type))
        count(received, type, (e.actorRef as { id?: string }).id ?? '');
    },
  });
  runtime.router.subscribe('*', (e) => count(emitted, e.type, e.source));
  const done = new Promise<boolean>((resolve) => {
    let n = 0;
    runtime.router.subscribe('ITERATION_COMPLETE', () => {
      if (++n >= iterations) resolve(true);
    });
    setTimeout(() => resolve(false), options.timeoutMs ?? 120_000).unref();
  });
  out(`trace: a simulated run of ${iterations} iterations over 3 configs (seed ${seed})...`);
  const started = performance.now();
  await runtime.start();
  const finished = await done;
  await runtime.router.whenIdle();
  await runtime.stop();
  out(
    `trace: ${finished ? 'finished' : 'TIMED OUT'} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const guide = checkGuideCoverage(daemons, SUPERVISOR_EMITS, [], CLUSTER_EMITS);
  let unproven = 0;
  for (const row of guide.rows) {
    const missing: string[] = [];
    const cells = row.cells
      .filter((c) => c.daemon !== null && c.state === 'wired')
      .map((c) => {
        const who = SOURCE_OF_PLAYER[c.daemon as string] ?? (c.daemon as string);
        const n = (c.side === 'emits' ? emitted : received).get(row.event)?.get(who) ?? 0;
        if (n === 0)
          missing.push(
            `${c.component} (${c.daemon}) ${c.side === 'emits' ? 'emitted' : 'received'} none`,
          );
        return `${c.side === 'emits' ? 'by' : 'to'} ${c.daemon} ${n}`;
      });
    if (missing.length > 0) unproven++;
    out(
      `  ${row.event.padEnd(26)} ${missing.length === 0 ? 'proven' : 'NOT PROVEN'}: ${cells.join(', ')}${missing.length > 0 ? ` - ${missing.join('; ')}` : ''}`,
    );
  }
  out(
    `trace: ${guide.rows.length - unproven} of ${guide.rows.length} rows proven by the run (cells deliberately not followed or not built are left out)`,
  );
  return unproven;
}
