/**
 * How far a set of daemons covers the rows of the original guide's event tables: for each row,
 * the components of this runtime that play the guide's emitters must emit the event and those
 * that play its subscribers must subscribe to it. Components this runtime does not build are
 * listed, not failed; the few rows a built daemon deliberately does not follow are listed with
 * their reason.
 */
import { GUIDE_ROWS } from '../events/guide-tables.js';

/** The guide's component names that a pipeline daemon plays (null: not built here). */
export function daemonOfComponent(component: string, event: string): string | null {
  // The P2POrchestrator's data sync rows are AUTO_SYNC's; its host and leader rows are the
  // cluster member's (`clusterPlays`).
  if (component === 'P2POrchestrator') return event.startsWith('DATA_SYNC_') ? 'AUTO_SYNC' : null;
  return COMPONENTS[component] ?? null;
}

/**
 * Whether the runtime's cluster member (not a daemon: every host's member derives presence and
 * leadership from the KV buckets) plays this emitter of the guide: the P2POrchestrator's host and
 * leader events, and the NodeRecoveryDaemon's NODE_RECOVERED (a host back with a new incarnation).
 */
export function clusterPlays(component: string, event: string): boolean {
  if (component === 'P2POrchestrator') return !event.startsWith('DATA_SYNC_');
  return component === 'NodeRecoveryDaemon';
}

/**
 * Guide components that a daemon built for another role plays as well, with why that is the
 * right home for the guide's row (printed by `wiring check`).
 */
export const PLAYED_BY: Readonly<Record<string, { daemon: string; why: string }>> = {
  IdleShutdown: {
    daemon: 'IDLE_RESOURCE',
    why: "IDLE_RESOURCE plays it: a training run is GPU work, so idle detection pauses while it runs (the original's node shutdown of idle cloud instances is not built)",
  },
  JobManager: {
    daemon: 'SELFPLAY_COORDINATOR',
    why: 'SELFPLAY_COORDINATOR plays it for selfplay: it holds the queued batches, and withdraws those of a config whose training is paused or of a host gone offline',
  },
  EvaluationFeedbackHandler: {
    daemon: 'FEEDBACK_LOOP',
    why: "FEEDBACK_LOOP plays it (the original's handler was a helper of the training run): it applies the learning-rate multiplier to the rate it announces and the games multiplier to its next gauntlet",
  },
  ExportScheduler: {
    daemon: 'TRAINING_TRIGGER',
    why: "TRAINING_TRIGGER plays it (no component of this name exists in the original): the export already ran before NEW_GAMES_AVAILABLE, and triggering the training pipeline is TRAINING_TRIGGER's",
  },
};

const COMPONENTS: Readonly<Record<string, string>> = {
  TrainingCoordinator: 'CONTINUOUS_TRAINING_LOOP',
  FeedbackLoop: 'FEEDBACK_LOOP',
  DataPipeline: 'DATA_PIPELINE',
  DataPipelineOrchestrator: 'DATA_PIPELINE',
  ModelDistribution: 'MODEL_DISTRIBUTION',
  UnifiedDistributionDaemon: 'MODEL_DISTRIBUTION',
  GameGauntlet: 'EVALUATION',
  EvaluationDaemon: 'EVALUATION',
  AutoPromotion: 'AUTO_PROMOTION',
  AutoPromotionDaemon: 'AUTO_PROMOTION',
  PromotionController: 'AUTO_PROMOTION',
  AutoSyncDaemon: 'AUTO_SYNC',
  SelfplayScheduler: 'SELFPLAY_COORDINATOR',
  TrainingTrigger: 'TRAINING_TRIGGER',
  MasterLoop: 'MASTER_LOOP',
  // As a subscriber; as an emitter the supervisor plays it.
  DaemonManager: 'DAEMON_MANAGER',
  ModelRegistry: 'MODEL_REGISTRY',
  ModelPerformanceWatchdog: 'MODEL_PERFORMANCE_WATCHDOG',
  RegressionDetector: 'REGRESSION_DETECTOR',
  ModelLifecycleCoordinator: 'MODEL_LIFECYCLE',
  AlertManager: 'ALERT_MANAGER',
  QualityMonitor: 'QUALITY_MONITOR',
  Monitoring: 'MONITORING',
  MetricsAnalysisOrchestrator: 'METRICS_ANALYSIS',
  DaemonWatchdog: 'DAEMON_WATCHDOG',
  RecoveryOrchestrator: 'PIPELINE_RECOVERY',
  SyncRouter: 'AUTO_SYNC',
  LeadershipCoordinator: 'LEADERSHIP_COORDINATOR',
  UnifiedHealthManager: 'CLUSTER_HEALTH',
  // The guide's IdleDetectionLoop emits nothing in the original; its IdleResourceDaemon does.
  IdleDetectionLoop: 'IDLE_RESOURCE',
  // The training script's early stop reaches the bus through the training daemon's result.
  'train.py': 'CONTINUOUS_TRAINING_LOOP',
  RepairDaemon: 'REPLICATION_REPAIR',
  OrphanDetectionDaemon: 'ORPHAN_DETECTION',
  EloSyncManager: 'ELO_SYNC',
  QueuePopulator: 'QUEUE_POPULATOR',
  CurriculumIntegration: 'CURRICULUM_INTEGRATION',
  CurriculumController: 'CURRICULUM_CONTROLLER',
  UnifiedFeedback: 'UNIFIED_FEEDBACK',
  SelfplayOrchestrator: 'SELFPLAY_ORCHESTRATOR',
  ImprovementOptimizer: 'IMPROVEMENT_OPTIMIZER',
  SyncPlanner: 'SYNC_PLANNER',
  ...Object.fromEntries(Object.entries(PLAYED_BY).map(([c, p]) => [c, p.daemon])),
};

/** Rows a built daemon does not follow, on purpose. */
export const GUIDE_DEVIATIONS: readonly { event: string; component: string; why: string }[] = [
  {
    event: 'TRAINING_COMPLETED',
    component: 'ModelDistribution',
    why: 'a model is copied to the cluster on MODEL_PROMOTED, once the gate passed it; pre-staging candidates is not built',
  },
  {
    event: 'EVALUATION_COMPLETED',
    component: 'FeedbackLoop',
    why: "promotion decisions are AUTO_PROMOTION's; the curriculum half is CurriculumIntegration's",
  },
];

export interface DaemonWiring {
  readonly type: string;
  readonly subscribes: readonly string[];
  readonly emits: readonly string[];
}

/** One component of one guide row, as this set of daemons plays it. */
export interface GuideCell {
  readonly component: string;
  readonly side: 'emits' | 'subscribes';
  /** The daemon that plays it here; null when no daemon does. */
  readonly daemon: string | null;
  /**
   * `wired`: it emits (or subscribes to) the event as the guide says; `deviation`: on purpose
   * not, `why` says; `elsewhere`: its daemon is built but not in this set (another process);
   * `missing`: no daemon plays it, or the one that does is not wired as the guide says.
   */
  readonly state: 'wired' | 'deviation' | 'elsewhere' | 'missing';
  readonly why?: string;
}

export interface GuideRowState {
  readonly section: string;
  readonly event: string;
  readonly cells: readonly GuideCell[];
}

export interface GuideCoverage {
  /** Each of the guide's rows, component by component. */
  readonly rows: readonly GuideRowState[];
  /** Rows whose every component is built here and wired as the guide says. */
  readonly complete: number;
  readonly gaps: readonly string[];
  readonly deviations: readonly string[];
  /** Rows a daemon here would subscribe to, but whose event nothing here emits (not wired). */
  readonly idle: readonly string[];
  /** Guide components no daemon of these plays (sorted). */
  readonly notBuilt: readonly string[];
}

/**
 * `supervisorEmits`: what the supervisor publishes (it plays the guide's DaemonManager as an
 * emitter). `arriving`: events that reach these daemons from another process. `clusterEmits`:
 * what the cluster member publishes when the runtime is in a cluster (`clusterPlays`).
 */
export function checkGuideCoverage(
  daemons: readonly DaemonWiring[],
  supervisorEmits: readonly string[],
  arriving: readonly string[] = [],
  clusterEmits: readonly string[] = [],
): GuideCoverage {
  const byType = new Map(daemons.map((d) => [d.type, d]));
  const emittedHere = new Set([
    ...supervisorEmits,
    ...clusterEmits,
    ...arriving,
    ...daemons.flatMap((d) => d.emits),
  ]);
  const gaps: string[] = [];
  const deviations: string[] = [];
  const idle: string[] = [];
  const notBuilt = new Set<string>();
  let complete = 0;
  const rows: GuideRowState[] = [];
  for (const row of GUIDE_ROWS) {
    let whole = true;
    const cells: GuideCell[] = [];
    const check = (component: string, side: 'emits' | 'subscribes') => {
      const cell = (state: GuideCell['state'], daemon: string | null, why?: string) =>
        cells.push({ component, side, daemon, state, ...(why ? { why } : {}) });
      if (component === 'DaemonManager' && side === 'emits') {
        // The supervisor plays the guide's DaemonManager as an emitter; DAEMON_MANAGER handles
        // the events the guide sends the manager.
        if (!supervisorEmits.includes(row.event)) {
          gaps.push(`${row.event}: the supervisor (the guide's DaemonManager) does not emit it`);
          cell('missing', 'supervisor', 'the supervisor does not emit it');
        } else cell('wired', 'supervisor');
        return;
      }
      if (side === 'emits' && clusterPlays(component, row.event)) {
        if (clusterEmits.includes(row.event)) cell('wired', 'cluster member');
        else {
          notBuilt.add(component);
          whole = false;
          cell('missing', null, 'not built (no cluster member here)');
        }
        return;
      }
      const type = daemonOfComponent(component, row.event);
      const daemon = type ? byType.get(type) : undefined;
      if (!daemon) {
        // Built but in another profile, or not built at all: either way not this set's to wire.
        if (!type) notBuilt.add(component);
        whole = false;
        if (type) cell('elsewhere', type, 'built, not in this profile');
        else cell('missing', null, 'not built');
        return;
      }
      if (daemon[side].includes(row.event)) {
        cell(
          'wired',
          type,
          PLAYED_BY[component]?.daemon === type ? PLAYED_BY[component].why : undefined,
        );
        return;
      }
      whole = false;
      if (side === 'subscribes' && !emittedHere.has(row.event)) {
        idle.push(
          `${row.event} -> ${component} (${type}): nothing here emits it (${row.emitters.join(', ')} not built)`,
        );
        cell('missing', type, 'does not subscribe to it (and nothing here emits it)');
        return;
      }
      const deviation = GUIDE_DEVIATIONS.find(
        (d) => d.event === row.event && d.component === component,
      );
      const what = `${row.event}: ${component} (${type}) does not ${side === 'emits' ? 'emit' : 'subscribe to'} it`;
      if (deviation) {
        deviations.push(`${what}: ${deviation.why}`);
        cell('deviation', type, deviation.why);
      } else {
        gaps.push(what);
        cell('missing', type, `does not ${side === 'emits' ? 'emit' : 'subscribe to'} it`);
      }
    };
    for (const c of row.emitters) check(c, 'emits');
    for (const c of row.subscribers) check(c, 'subscribes');
    if (whole) complete++;
    rows.push({ section: row.section, event: row.event, cells });
  }
  return { rows, complete, gaps, deviations, idle, notBuilt: [...notBuilt].sort() };
}
