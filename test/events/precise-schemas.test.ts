/**
 * No daemon reads an unchecked field: every event a daemon of this package emits or handles
 * (the pipeline's, the supervisor's, the cluster member's) and every event of the guide's tables
 * has a precise schema. The count of the rest is in docs/EVENT_CATALOG.md.
 */
import { describe, expect, it } from 'vitest';
import { CLUSTER_EMITS } from '../../src/cluster/member.js';
import {
  createPipelineDaemons,
  createSimulatedWorker,
  EVENT_DEFINITIONS,
  GUIDE_EVENTS,
  SUPERVISOR_EMITS,
} from '../../src/index.js';

describe('precise schemas', () => {
  it("every event a daemon emits or handles, and every event of the guide's tables, has one", () => {
    const specs = createPipelineDaemons({
      worker: createSimulatedWorker(),
      masterLoop: { configs: ['hex8_2p'], iterations: 1, gamesPerBatch: 1 },
    });
    const touched = new Set<string>([
      ...specs.flatMap((s) => [...s.subscribes, ...s.emits]),
      ...CLUSTER_EMITS,
      ...SUPERVISOR_EMITS,
      ...GUIDE_EVENTS,
    ]);
    const byName = new Map(EVENT_DEFINITIONS.map((d) => [d.name as string, d]));
    const open = [...touched].filter((e) => byName.get(e)?.precise !== true);
    expect(open).toEqual([]);
    const openTotal = EVENT_DEFINITIONS.filter((d) => !d.precise).length;
    console.log(
      `${touched.size} events touched by daemons or in the guide, all precise; ${openTotal} of ${EVENT_DEFINITIONS.length} open`,
    );
  });
});
