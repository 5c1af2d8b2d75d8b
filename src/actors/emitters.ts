/**
 * Typed emit helpers for every event of the guide's tables (`GUIDE_ROWS`): each is a thin call of
 * `publish` on the given router, or on the process singleton when none is given, with the
 * payload type of its event.
 */
import type { EventName, PayloadInput } from '../events/catalog/index.js';
import type { Envelope } from '../events/envelope.js';
import { getRouter } from './default-router.js';
import type { PublishOptions, Router } from './router.js';

export interface EmitOptions extends PublishOptions {
  /** Publish on this router instead of the process singleton. */
  readonly router?: Router;
}

/** A typed emitter for one event. */
export type Emitter<T extends EventName> = (
  payload: PayloadInput<T>,
  options?: EmitOptions,
) => Envelope<T>;

/**
 * Builds the emitter of one event; the helpers below are all made this way.
 * @example
 * const emitMyNewEvent = emitterFor('MY_NEW_EVENT');
 */
export function emitterFor<T extends EventName>(type: T): Emitter<T> {
  return (payload, options) => (options?.router ?? getRouter()).publish(type, payload, options);
}

/** Publishes `TRAINING_STARTED`. @example emitTrainingStarted({ ... }, { source: 'my_daemon' }) */
export const emitTrainingStarted = emitterFor('TRAINING_STARTED');
/** Publishes `TRAINING_COMPLETED`. @example emitTrainingCompleted({ ... }, { source: 'my_daemon' }) */
export const emitTrainingCompleted = emitterFor('TRAINING_COMPLETED');
/** Publishes `TRAINING_FAILED`. @example emitTrainingFailed({ ... }, { source: 'my_daemon' }) */
export const emitTrainingFailed = emitterFor('TRAINING_FAILED');
/** Publishes `TRAINING_EARLY_STOPPED`. @example emitTrainingEarlyStopped({ ... }, { source: 'my_daemon' }) */
export const emitTrainingEarlyStopped = emitterFor('TRAINING_EARLY_STOPPED');
/** Publishes `EVALUATION_COMPLETED`. @example emitEvaluationCompleted({ ... }, { source: 'my_daemon' }) */
export const emitEvaluationCompleted = emitterFor('EVALUATION_COMPLETED');
/** Publishes `EVALUATION_PROGRESS`. @example emitEvaluationProgress({ ... }, { source: 'my_daemon' }) */
export const emitEvaluationProgress = emitterFor('EVALUATION_PROGRESS');
/** Publishes `EVALUATION_STARTED`. @example emitEvaluationStarted({ ... }, { source: 'my_daemon' }) */
export const emitEvaluationStarted = emitterFor('EVALUATION_STARTED');
/** Publishes `MODEL_PROMOTED`. @example emitModelPromoted({ ... }, { source: 'my_daemon' }) */
export const emitModelPromoted = emitterFor('MODEL_PROMOTED');
/** Publishes `MODEL_UPDATED`. @example emitModelUpdated({ ... }, { source: 'my_daemon' }) */
export const emitModelUpdated = emitterFor('MODEL_UPDATED');
/** Publishes `PROMOTION_FAILED`. @example emitPromotionFailed({ ... }, { source: 'my_daemon' }) */
export const emitPromotionFailed = emitterFor('PROMOTION_FAILED');
/** Publishes `REGRESSION_DETECTED`. @example emitRegressionDetected({ ... }, { source: 'my_daemon' }) */
export const emitRegressionDetected = emitterFor('REGRESSION_DETECTED');
/** Publishes `REGRESSION_CRITICAL`. @example emitRegressionCritical({ ... }, { source: 'my_daemon' }) */
export const emitRegressionCritical = emitterFor('REGRESSION_CRITICAL');
/** Publishes `DATA_SYNC_STARTED`. @example emitDataSyncStarted({ ... }, { source: 'my_daemon' }) */
export const emitDataSyncStarted = emitterFor('DATA_SYNC_STARTED');
/** Publishes `DATA_SYNC_COMPLETED`. @example emitDataSyncCompleted({ ... }, { source: 'my_daemon' }) */
export const emitDataSyncCompleted = emitterFor('DATA_SYNC_COMPLETED');
/** Publishes `DATA_SYNC_FAILED`. @example emitDataSyncFailed({ ... }, { source: 'my_daemon' }) */
export const emitDataSyncFailed = emitterFor('DATA_SYNC_FAILED');
/** Publishes `NEW_GAMES_AVAILABLE`. @example emitNewGamesAvailable({ ... }, { source: 'my_daemon' }) */
export const emitNewGamesAvailable = emitterFor('NEW_GAMES_AVAILABLE');
/** Publishes `HOST_ONLINE`. @example emitHostOnline({ ... }, { source: 'my_daemon' }) */
export const emitHostOnline = emitterFor('HOST_ONLINE');
/** Publishes `HOST_OFFLINE`. @example emitHostOffline({ ... }, { source: 'my_daemon' }) */
export const emitHostOffline = emitterFor('HOST_OFFLINE');
/** Publishes `LEADER_ELECTED`. @example emitLeaderElected({ ... }, { source: 'my_daemon' }) */
export const emitLeaderElected = emitterFor('LEADER_ELECTED');
/** Publishes `NODE_RECOVERED`. @example emitNodeRecovered({ ... }, { source: 'my_daemon' }) */
export const emitNodeRecovered = emitterFor('NODE_RECOVERED');
/** Publishes `IDLE_RESOURCE_DETECTED`. @example emitIdleResourceDetected({ ... }, { source: 'my_daemon' }) */
export const emitIdleResourceDetected = emitterFor('IDLE_RESOURCE_DETECTED');
/** Publishes `CURRICULUM_REBALANCED`. @example emitCurriculumRebalanced({ ... }, { source: 'my_daemon' }) */
export const emitCurriculumRebalanced = emitterFor('CURRICULUM_REBALANCED');
/** Publishes `CURRICULUM_ADVANCED`. @example emitCurriculumAdvanced({ ... }, { source: 'my_daemon' }) */
export const emitCurriculumAdvanced = emitterFor('CURRICULUM_ADVANCED');
/** Publishes `ELO_VELOCITY_CHANGED`. @example emitEloVelocityChanged({ ... }, { source: 'my_daemon' }) */
export const emitEloVelocityChanged = emitterFor('ELO_VELOCITY_CHANGED');
/** Publishes `ELO_SIGNIFICANT_CHANGE`. @example emitEloSignificantChange({ ... }, { source: 'my_daemon' }) */
export const emitEloSignificantChange = emitterFor('ELO_SIGNIFICANT_CHANGE');
/** Publishes `QUALITY_SCORE_UPDATED`. @example emitQualityScoreUpdated({ ... }, { source: 'my_daemon' }) */
export const emitQualityScoreUpdated = emitterFor('QUALITY_SCORE_UPDATED');
/** Publishes `QUALITY_DEGRADED`. @example emitQualityDegraded({ ... }, { source: 'my_daemon' }) */
export const emitQualityDegraded = emitterFor('QUALITY_DEGRADED');
/** Publishes `DAEMON_STATUS_CHANGED`. @example emitDaemonStatusChanged({ ... }, { source: 'my_daemon' }) */
export const emitDaemonStatusChanged = emitterFor('DAEMON_STATUS_CHANGED');
/** Publishes `ALL_CRITICAL_DAEMONS_READY`. @example emitAllCriticalDaemonsReady({ ... }, { source: 'my_daemon' }) */
export const emitAllCriticalDaemonsReady = emitterFor('ALL_CRITICAL_DAEMONS_READY');
/** Publishes `HYPERPARAMETER_UPDATED`. @example emitHyperparameterUpdated({ ... }, { source: 'my_daemon' }) */
export const emitHyperparameterUpdated = emitterFor('HYPERPARAMETER_UPDATED');
/** Publishes `ADAPTIVE_PARAMS_CHANGED`. @example emitAdaptiveParamsChanged({ ... }, { source: 'my_daemon' }) */
export const emitAdaptiveParamsChanged = emitterFor('ADAPTIVE_PARAMS_CHANGED');
/** Publishes `REPAIR_COMPLETED`. @example emitRepairCompleted({ ... }, { source: 'my_daemon' }) */
export const emitRepairCompleted = emitterFor('REPAIR_COMPLETED');
/** Publishes `REPAIR_FAILED`. @example emitRepairFailed({ ... }, { source: 'my_daemon' }) */
export const emitRepairFailed = emitterFor('REPAIR_FAILED');
/** Publishes `ORPHAN_GAMES_DETECTED`. @example emitOrphanGamesDetected({ ... }, { source: 'my_daemon' }) */
export const emitOrphanGamesDetected = emitterFor('ORPHAN_GAMES_DETECTED');
/** Publishes `TASK_ABANDONED`. @example emitTaskAbandoned({ ... }, { source: 'my_daemon' }) */
export const emitTaskAbandoned = emitterFor('TASK_ABANDONED');
