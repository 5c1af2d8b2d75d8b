/**
 * `ringrift-coord diagrams`: Mermaid diagrams generated from the code, committed under
 * `diagrams/` (a test fails when they are stale): one state diagram per machine, the wiring graph
 * (daemon -> event -> daemon) from the specs, and the guide's three flows as sequence diagrams
 * from the causality (parent ids) of a real simulated run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  CROSS_HOST_TYPES,
  createPipelineDaemons,
  createRuntime,
  createSimulatedWorker,
  daemonLifecycleMachine,
  type Envelope,
  LEADER_SCOPED_DAEMONS,
  PIPELINE_PROFILES,
  stateDiagram,
} from '../index.js';

function pipelineSpecs() {
  return createPipelineDaemons({
    worker: createSimulatedWorker({
      seed: 1,
      durationsMs: { selfplay: 2, sync: 2, export: 2, training: 2, evaluation: 2, distribution: 2 },
    }),
    trainingThreshold: 10,
    promotion: { minWinRate: 0, minEloGain: -1e9 },
    masterLoop: { configs: ['hex8_2p'], iterations: 1, gamesPerBatch: 10 },
  });
}

/** daemon -> event -> daemon, from the specs. */
export function wiringDiagram(): string {
  const specs = pipelineSpecs();
  const lines = ['flowchart LR'];
  const events = new Set<string>();
  for (const s of specs) for (const e of [...s.emits, ...s.subscribes]) events.add(e);
  for (const e of [...events].sort()) lines.push(`  ${e}([${e}])`);
  for (const s of specs) {
    lines.push(`  ${s.type}[${s.type}]`);
    for (const e of s.emits) lines.push(`  ${s.type} --> ${e}`);
    for (const e of s.subscribes) lines.push(`  ${e} --> ${s.type}`);
  }
  return lines.join('\n');
}

/**
 * The pipeline split into a coordinator and a training node: each process's daemons and the events
 * they keep to themselves in its own box, the events that pass between them in the event log's.
 */
export function splitWiringDiagram(): string {
  const specs = pipelineSpecs();
  const sides = ['coordinator', 'training_node'] as const;
  const sideOf = (type: string) =>
    sides.find((p) => PIPELINE_PROFILES[p].includes(type)) ?? 'coordinator';
  const crossing = new Set<string>();
  for (const emitter of specs)
    for (const e of emitter.emits)
      for (const subscriber of specs)
        if (subscriber.subscribes.includes(e) && sideOf(subscriber.type) !== sideOf(emitter.type))
          crossing.add(e);
  const lines = ['flowchart LR'];
  for (const side of sides) {
    lines.push(`  subgraph ${side}[${side} process]`);
    const mine = specs.filter((s) => sideOf(s.type) === side);
    for (const s of mine) lines.push(`    ${s.type}[${s.type}]`);
    const events = new Set(mine.flatMap((s) => s.emits).filter((e) => !crossing.has(e)));
    for (const e of [...events].sort()) lines.push(`    ${e}([${e}])`);
    lines.push('  end');
  }
  lines.push('  subgraph log[SQLite event log]');
  for (const e of [...crossing].sort()) lines.push(`    ${e}([${e}])`);
  lines.push('  end');
  for (const s of specs) {
    for (const e of s.emits) lines.push(`  ${s.type} --> ${e}`);
    for (const e of s.subscribes) lines.push(`  ${e} --> ${s.type}`);
  }
  return lines.join('\n');
}

/**
 * The cluster's wiring: a coordinator host and a training host, each with its processes' file and
 * its bridge; the stream with the cross-host events each side sends and hears (from the specs and
 * the catalog's `crossHost` flag); the presence and leader buckets and what is derived from them.
 */
export function clusterWiringDiagram(): string {
  const specs = pipelineSpecs();
  const crossHost = new Set<string>(CROSS_HOST_TYPES);
  const hosts = [
    { id: 'coord', title: 'coordinator host (run --profile coordinator)', profile: 'coordinator' },
    { id: 'train', title: 'training host (run --profile training_node)', profile: 'training_node' },
  ] as const;
  const lines = ['flowchart LR'];
  const sends = new Map<string, Set<string>>();
  const hears = new Map<string, Set<string>>();
  for (const h of hosts) {
    const mine = specs.filter((s) =>
      PIPELINE_PROFILES[h.profile as keyof typeof PIPELINE_PROFILES].includes(s.type),
    );
    lines.push(`  subgraph ${h.id}["${h.title}"]`);
    lines.push(`    ${h.id}_daemons[${mine.map((s) => s.type).join('<br/>')}]`);
    lines.push(`    ${h.id}_file[(SQLite file: the outbox and inbox)]`);
    lines.push(`    ${h.id}_bridge[cluster bridge + member]`);
    if (mine.some((s) => LEADER_SCOPED_DAEMONS.includes(s.type)))
      lines.push(
        `    ${h.id}_leader[leader-scoped: ${LEADER_SCOPED_DAEMONS.join(', ')}<br/>work tracker assigns target_host]`,
      );
    lines.push('  end');
    lines.push(`  ${h.id}_daemons <--> ${h.id}_file`, `  ${h.id}_file <--> ${h.id}_bridge`);
    sends.set(h.id, new Set(mine.flatMap((s) => s.emits).filter((e) => crossHost.has(e))));
    hears.set(h.id, new Set(mine.flatMap((s) => s.subscribes).filter((e) => crossHost.has(e))));
  }
  lines.push('  subgraph nats[NATS JetStream]');
  lines.push(
    '    stream[(stream RINGRIFT_cluster<br/>ringrift.cluster.events.TYPE<br/>msgID = envelope id)]',
  );
  lines.push('    presence[(KV presence<br/>TTL 10 s, refreshed every 3 s)]');
  lines.push('    lease[(KV leader lease<br/>TTL 9 s, CAS renewal every 3 s)]');
  lines.push('  end');
  for (const h of hosts) {
    const out = [...(sends.get(h.id) ?? [])].sort();
    const inn = [...(hears.get(h.id) ?? [])].sort();
    if (out.length > 0) lines.push(`  ${h.id}_bridge -->|${out.join('<br/>')}| stream`);
    if (inn.length > 0) lines.push(`  stream -->|${inn.join('<br/>')}| ${h.id}_bridge`);
    lines.push(`  ${h.id}_bridge -->|refresh| presence`);
    lines.push(`  presence -->|HOST_ONLINE, HOST_OFFLINE, NODE_RECOVERED| ${h.id}_bridge`);
  }
  lines.push('  coord_bridge -->|campaign, renew| lease');
  lines.push('  lease -->|LEADER_ELECTED with the token| coord_bridge');
  lines.push('  lease -->|LEADER_ELECTED with the token| train_bridge');
  return lines.join('\n');
}

/** The events of one simulated iteration, for the flow diagrams. */
export async function traceRun(): Promise<Envelope[]> {
  const specs = pipelineSpecs();
  const runtime = createRuntime({
    profile: specs.map((d) => d.type),
    daemons: specs,
    dbPath: false,
    logger: pino({ level: 'silent' }),
  });
  const events: Envelope[] = [];
  runtime.router.subscribe('*', (e) => void events.push(e));
  const done = new Promise<void>((resolve) =>
    runtime.router.subscribe('DAEMON_STATUS_CHANGED', (e) => {
      if (e.payload.daemon_name === 'MASTER_LOOP' && e.payload.new_status === 'stopped') resolve();
    }),
  );
  await runtime.start();
  await done;
  await runtime.stop();
  return events.filter((e) => !e.type.startsWith('DAEMON_') && e.type !== 'EVALUATION_PROGRESS');
}

/**
 * A sequence diagram of the causal chain from `from` to `to`: who published what, and every
 * daemon it was delivered to (whether or not it answered), in the order the events were
 * published. `subscribers` maps an event type to the daemons whose specs subscribe to it.
 */
export function flowDiagram(
  trace: readonly Envelope[],
  from: string,
  to: readonly string[],
  subscribers: (type: string) => readonly string[],
): string {
  const byId = new Map(trace.map((e) => [e.id, e]));
  const start = trace.find((e) => e.type === from);
  if (!start) throw new Error(`the trace has no ${from}`);
  const causedByStart = (e: Envelope): boolean => {
    for (
      let cur: Envelope | undefined = e;
      cur;
      cur = cur.parentId ? byId.get(cur.parentId) : undefined
    )
      if (cur.id === start.id) return true;
    return false;
  };
  // Publish order (the trace's): a cause always comes before its effects, and a job's
  // *_STARTED before its *_COMPLETED.
  const flow = trace.filter((e) => e === start || (to.includes(e.type) && causedByStart(e)));
  const lines = ['sequenceDiagram'];
  for (const e of flow) {
    const receivers = [...subscribers(e.type)].filter((d) => d !== e.source).sort();
    if (receivers.length === 0) lines.push(`  Note over ${e.source}: ${e.type} (no subscriber)`);
    for (const target of receivers) lines.push(`  ${e.source}->>${target}: ${e.type}`);
  }
  return lines.join('\n');
}

export async function renderDiagrams(): Promise<Record<string, string>> {
  const specs = pipelineSpecs();
  const files: Record<string, string> = {};
  const fence = (title: string, body: string) =>
    `# ${title}\n\n<!-- Generated by \`ringrift-coord diagrams\`. Do not edit. -->\n\n\`\`\`mermaid\n${body}\n\`\`\`\n`;
  files['daemon-lifecycle.md'] = fence(
    'Daemon lifecycle (the supervisor, per daemon)',
    stateDiagram(daemonLifecycleMachine),
  );
  for (const s of specs)
    files[`${s.type.toLowerCase()}.md`] = fence(`${s.type}`, stateDiagram(s.machine));
  files['wiring.md'] = fence('Wiring: daemon -> event -> daemon', wiringDiagram());
  files['wiring-split.md'] = fence(
    'Wiring split across a coordinator and a training node (run --profile)',
    splitWiringDiagram(),
  );
  files['wiring-cluster.md'] = fence(
    'Wiring across hosts (run --nats): bridge, stream, presence, leader',
    clusterWiringDiagram(),
  );
  const trace = await traceRun();
  const subscribers = (type: string) =>
    specs.filter((d) => d.subscribes.includes(type)).map((d) => d.type);
  files['flow-data-sync.md'] = fence(
    'Data sync flow',
    flowDiagram(
      trace,
      'SELFPLAY_COMPLETE',
      [
        'DATA_SYNC_STARTED',
        'DATA_SYNC_COMPLETED',
        'NPZ_EXPORT_STARTED',
        'NPZ_EXPORT_COMPLETE',
        'NEW_GAMES_AVAILABLE',
      ],
      subscribers,
    ),
  );
  files['flow-training-completion.md'] = fence(
    'Training completion flow',
    flowDiagram(
      trace,
      'TRAINING_COMPLETED',
      [
        'EVALUATION_REQUESTED',
        'EVALUATION_STARTED',
        'EVALUATION_COMPLETED',
        'MODEL_PROMOTED',
        'PROMOTION_REJECTED',
      ],
      subscribers,
    ),
  );
  files['flow-model-promotion.md'] = fence(
    'Model promotion flow',
    flowDiagram(
      trace,
      'MODEL_PROMOTED',
      ['MODEL_DISTRIBUTION_STARTED', 'MODEL_DISTRIBUTION_COMPLETE', 'HYPERPARAMETER_UPDATED'],
      subscribers,
    ),
  );
  const index = [
    '# Diagrams',
    '',
    '<!-- Generated by `ringrift-coord diagrams`. Do not edit. -->',
    '',
  ];
  const about = (name: string): string => {
    if (name === 'daemon-lifecycle.md')
      return 'the states the supervisor keeps for each daemon: starting, running, backing off, FAILED, stopping';
    if (name === 'wiring.md')
      return 'every pipeline daemon, the events it emits and those it hears';
    if (name === 'wiring-split.md')
      return 'the same wiring split into a coordinator and a training node process, with the events that cross the SQLite event log between them';
    if (name === 'wiring-cluster.md')
      return "two hosts of a cluster: each host's file and bridge, the cross-host events each side sends and hears on the stream, presence and the leader lease";
    if (name.startsWith('flow-'))
      return `the guide's ${name.slice(5, -3).replace(/-/g, ' ')} flow from a simulated run: each event in the order it was published, to every daemon it was delivered to`;
    return `the states and transitions of the ${name.slice(0, -3).toUpperCase()} daemon's machine`;
  };
  for (const name of Object.keys(files).sort())
    index.push(`- [${name.replace(/\.md$/, '')}](${name}): ${about(name)}`);
  files['index.md'] = `${index.join('\n')}\n`;
  return files;
}

export async function writeDiagrams(dir: string): Promise<string[]> {
  const files = await renderDiagrams();
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files);
}
