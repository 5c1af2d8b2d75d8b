/**
 * The rows of the original guide's "Core Event Types" tables: who emits each event, who
 * subscribes, and why. Typed emit helpers exist for every event here, the catalog document marks
 * them, and later the wiring check verifies that the daemons cover every row.
 */
import type { EventName } from './catalog/index.js';

export interface GuideRow {
  readonly section: string;
  readonly event: EventName;
  readonly emitters: readonly string[];
  readonly subscribers: readonly string[];
  readonly purpose: string;
}

const row = (
  section: string,
  event: EventName,
  emitters: string,
  subscribers: string,
  purpose: string,
): GuideRow => ({
  section,
  event,
  emitters: emitters.split(', '),
  subscribers: subscribers.split(', '),
  purpose,
});

export const GUIDE_ROWS: readonly GuideRow[] = [
  row(
    'Training Pipeline',
    'TRAINING_STARTED',
    'TrainingCoordinator',
    'SyncRouter, IdleShutdown',
    'Pause idle detection, prioritize sync',
  ),
  row(
    'Training Pipeline',
    'TRAINING_COMPLETED',
    'TrainingCoordinator',
    'FeedbackLoop, DataPipeline, ModelDistribution',
    'Trigger evaluation, sync',
  ),
  row(
    'Training Pipeline',
    'TRAINING_FAILED',
    'TrainingCoordinator',
    'DaemonManager, RecoveryOrchestrator',
    'Handle failure, retry',
  ),
  row(
    'Training Pipeline',
    'TRAINING_EARLY_STOPPED',
    'train.py',
    'FeedbackLoop',
    'Track early stopping',
  ),
  row(
    'Evaluation',
    'EVALUATION_COMPLETED',
    'GameGauntlet',
    'FeedbackLoop, CurriculumIntegration, AutoPromotion',
    'Update curriculum, promotion decisions',
  ),
  row(
    'Evaluation',
    'EVALUATION_PROGRESS',
    'GameGauntlet',
    'MetricsAnalysisOrchestrator',
    'Real-time tracking',
  ),
  row(
    'Evaluation',
    'EVALUATION_STARTED',
    'EvaluationDaemon',
    'Monitoring',
    'Track evaluation lifecycle',
  ),
  row(
    'Model',
    'MODEL_PROMOTED',
    'PromotionController',
    'UnifiedDistributionDaemon, FeedbackLoop',
    'Distribute to cluster',
  ),
  row('Model', 'MODEL_UPDATED', 'ModelRegistry', 'UnifiedDistributionDaemon', 'Sync metadata'),
  row(
    'Model',
    'PROMOTION_FAILED',
    'AutoPromotionDaemon',
    'ModelLifecycleCoordinator, DataPipeline',
    'Track failures',
  ),
  row(
    'Model',
    'REGRESSION_DETECTED',
    'ModelPerformanceWatchdog',
    'ModelLifecycleCoordinator, DataPipeline',
    'Rollback bad models',
  ),
  row(
    'Model',
    'REGRESSION_CRITICAL',
    'RegressionDetector',
    'DaemonManager, AlertManager',
    'Critical alert, pause training',
  ),
  row('Data Sync', 'DATA_SYNC_STARTED', 'P2POrchestrator', 'Monitoring', 'Track sync lifecycle'),
  row(
    'Data Sync',
    'DATA_SYNC_COMPLETED',
    'P2POrchestrator, SyncPlanner',
    'DataPipelineOrchestrator',
    'Trigger NPZ export',
  ),
  row(
    'Data Sync',
    'DATA_SYNC_FAILED',
    'AutoSyncDaemon',
    'RecoveryOrchestrator',
    'Handle sync failures',
  ),
  row(
    'Data Sync',
    'NEW_GAMES_AVAILABLE',
    'DataPipelineOrchestrator',
    'SelfplayScheduler, ExportScheduler',
    'Trigger training pipeline',
  ),
  row(
    'Cluster',
    'HOST_ONLINE',
    'P2POrchestrator',
    'SyncRouter, SelfplayScheduler',
    'Node available',
  ),
  row(
    'Cluster',
    'HOST_OFFLINE',
    'P2POrchestrator',
    'UnifiedHealthManager, SyncRouter',
    'Node unavailable',
  ),
  row('Cluster', 'LEADER_ELECTED', 'P2POrchestrator', 'LeadershipCoordinator', 'Leader change'),
  row(
    'Cluster',
    'NODE_RECOVERED',
    'NodeRecoveryDaemon',
    'SyncRouter, SelfplayScheduler',
    'Node back online',
  ),
  row(
    'Cluster',
    'IDLE_RESOURCE_DETECTED',
    'IdleDetectionLoop',
    'SelfplayScheduler',
    'Spawn selfplay',
  ),
  row(
    'Curriculum & Quality',
    'CURRICULUM_REBALANCED',
    'CurriculumIntegration',
    'SelfplayScheduler, SelfplayOrchestrator',
    'Update priorities',
  ),
  row(
    'Curriculum & Quality',
    'CURRICULUM_ADVANCED',
    'CurriculumController',
    'DataPipeline',
    'Track progression',
  ),
  row(
    'Curriculum & Quality',
    'ELO_VELOCITY_CHANGED',
    'QueuePopulator',
    'SelfplayScheduler, UnifiedFeedback',
    'Adjust selfplay rate',
  ),
  row(
    'Curriculum & Quality',
    'ELO_SIGNIFICANT_CHANGE',
    'EloSyncManager',
    'CurriculumIntegration, DataPipeline',
    'Trigger rebalance',
  ),
  row(
    'Curriculum & Quality',
    'QUALITY_SCORE_UPDATED',
    'QualityMonitor',
    'DataPipeline',
    'Aggregate metrics',
  ),
  row(
    'Curriculum & Quality',
    'QUALITY_DEGRADED',
    'QualityMonitor',
    'AlertManager',
    'Alert on quality drop',
  ),
  row(
    'Daemon Lifecycle',
    'DAEMON_STATUS_CHANGED',
    'DaemonManager',
    'DaemonWatchdog, Monitoring',
    'Track daemon health',
  ),
  row(
    'Daemon Lifecycle',
    'ALL_CRITICAL_DAEMONS_READY',
    'DaemonManager',
    'MasterLoop',
    'Startup complete',
  ),
  row(
    'Daemon Lifecycle',
    'HYPERPARAMETER_UPDATED',
    'ImprovementOptimizer',
    'EvaluationFeedbackHandler, TrainingTrigger',
    'Apply LR adjustments',
  ),
  row(
    'Daemon Lifecycle',
    'ADAPTIVE_PARAMS_CHANGED',
    'ImprovementOptimizer',
    'EvaluationFeedbackHandler',
    'Real-time tuning',
  ),
  row('Recovery', 'REPAIR_COMPLETED', 'RepairDaemon', 'DataPipelineOrchestrator', 'Retrigger sync'),
  row(
    'Recovery',
    'REPAIR_FAILED',
    'RepairDaemon',
    'DataPipelineOrchestrator',
    'Track for circuit breaker',
  ),
  row(
    'Recovery',
    'ORPHAN_GAMES_DETECTED',
    'OrphanDetectionDaemon',
    'DataPipelineOrchestrator',
    'Priority sync',
  ),
  row('Recovery', 'TASK_ABANDONED', 'JobManager', 'SelfplayOrchestrator', 'Track cancelled jobs'),
];

/** The events of the guide's tables, in table order. */
export const GUIDE_EVENTS: readonly EventName[] = GUIDE_ROWS.map((r) => r.event);
