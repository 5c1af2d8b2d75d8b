/**
 * ringrift-coordination: the public API. Everything a host program, a test or the CLI uses is
 * exported here, grouped by purpose.
 */

// ---- infrastructure: logging and time
export { type Clock, realClock } from './actors/clock.js';
export {
  DAEMON_TYPES,
  type DaemonType,
  type DaemonTypeInfo,
  PROFILES,
} from './actors/daemon-types.js';
// ---- router: publish, subscribe, inspect
export { getRouter, publish, resetRouter, subscribe } from './actors/default-router.js';
export * from './actors/emitters.js';
// ---- seeing it: the local inspector and statecharts
export { type ClusterView, showCluster } from './actors/inspector/cluster-view.js';
export { chartsOf } from './actors/inspector/local.js';
export { type LogFeed, type LogFeedOptions, startLogFeed } from './actors/inspector/log-feed.js';
export {
  type ActorNode,
  DEFAULT_INSPECTOR_LIMITS,
  type Delivery,
  type EventRecord,
  type InspectorLimits,
  InspectorModel,
  type Moment,
} from './actors/inspector/model.js';
export {
  type InspectorServer,
  type InspectorServerOptions,
  startInspectorServer,
} from './actors/inspector/server.js';
export { stateDiagram } from './actors/inspector/statechart.js';
export {
  createLogger,
  eventTraceFromEnv,
  type Logger,
  type LoggerSettings,
  type LogLevel,
  logLevelFromEnv,
} from './actors/logger.js';
export { DaemonRegistry, type RegisteredDaemon } from './actors/registry.js';
export {
  ALL_EVENTS,
  type CloseResult,
  createRouter,
  type DeliveryReport,
  type Handler,
  type OnceOptions,
  type PublishOptions,
  Router,
  type RouterHealth,
  type RouterOptions,
  type RouterStats,
  type SubscribeOptions,
  type SubscriberStats,
  type Unsubscribe,
} from './actors/router.js';
export {
  createRuntime,
  type Runtime,
  type RuntimeOptions,
  type RuntimeStatus,
} from './actors/runtime.js';
export {
  resolveStage,
  type StageBusStats,
  type StageCallback,
  type StageCompletionResult,
  StageEventBus,
} from './actors/stage-bus.js';
export { statePath } from './actors/state-path.js';
export {
  type DaemonStatus,
  SUPERVISOR_EMITS,
  Supervisor,
  type SupervisorOptions,
} from './actors/supervisor.js';
// ---- persistence: the SQLite event log, durable consumers, dead letters, snapshots
export type { EventTransport, RemoteSink } from './actors/transport.js';
export { checkWiring, type DeclaredWiring, type WiringReport } from './actors/wiring.js';
// ---- errors
export { type BridgeStats as ClusterBridgeStats, CROSS_HOST_TYPES } from './cluster/bridge.js';
export {
  type ClusterHealth,
  ClusterMember,
  LEADER_SCOPED_DAEMONS,
} from './cluster/member.js';
export {
  type ClusterOptions,
  clusterFromFlags,
  describeCluster,
  type ResolvedCluster,
  resolveCluster,
} from './cluster/options.js';
export { WORK_ROUTES } from './cluster/work.js';
export * from './errors.js';
export {
  ALIAS_CONFLICTS,
  aliasesFor,
  type Resolution,
  resolveEventType,
  suggestEventTypes,
} from './events/aliases.js';
// ---- events: the catalog, names, payloads, envelopes
export {
  CATALOG,
  EVENT_DEFINITIONS,
  EVENT_NAMES,
  type EventName,
  getEventDefinition,
  isCrossProcess,
  type PayloadInput,
  type PayloadOf,
} from './events/catalog/index.js';
export {
  CONFIG_KEY_PATTERN,
  CONFIG_KEY_RULE,
  isValidConfigKey,
} from './events/config-key.js';
export type { EventDefinition, EventDomain } from './events/define-event.js';
export type { CausalityOptions, Envelope, Origin } from './events/envelope.js';
export { GUIDE_EVENTS, GUIDE_ROWS, type GuideRow } from './events/guide-tables.js';
export { STAGE_EVENTS, STAGE_TO_DATA, type StageEventName } from './events/stage-events.js';
export {
  daemonLifecycleMachine,
  type LifecycleEvent,
  STATUS_OF_STATE,
} from './machines/daemon-lifecycle.js';
export {
  type DaemonEvent,
  type DaemonSpec,
  RESTORED_EVENT,
  rearmOnRestore,
  STOP_EVENT,
} from './machines/daemon-spec.js';
// ---- the daemon-machine protocol: typed events in, typed emits out
export type { CatalogEmit, Emitted, Rejection } from './machines/emitted.js';
export {
  type CatalogEvent,
  type DaemonMachineEvent,
  type HostEvent,
  handledEvents,
  type SubscribedEvent,
  subscriptions,
} from './machines/protocol.js';
export { CRITICAL_ORDER, planStart, type StartPlan } from './machines/start-plan.js';
export {
  addRestart,
  type Backoff,
  backoffDelay,
  DEFAULT_BACKOFF,
  DEFAULT_INTENSITY,
  decideRestart,
  type ExitReason,
  type Intensity,
  type RestartType,
  restartSet,
  type Strategy,
} from './machines/supervision.js';
export { type OpenDatabaseOptions, openDatabase, SqliteDatabase } from './persistence/database.js';
export {
  type DeadLetter,
  type DeadLetterQuery,
  listDeadLetters,
  replayDeadLetters,
} from './persistence/dead-letters.js';
export {
  busyConsumers,
  type DeliveryInfo,
  type DurableHandler,
  type DurableOptions,
  type DurableStats,
  type DurableSubscription,
  holdsLease,
  type StartAt,
  subscribeDurable,
} from './persistence/durable-consumer.js';
export {
  type BridgeStats,
  type EventLogOptions,
  type FileRead,
  openEventLog,
  type ReadListener,
  type ReadRow,
  SqliteEventLog,
} from './persistence/event-log.js';
export {
  type ConsumerStatus,
  type EventLogStatus,
  inspectEventLog,
} from './persistence/introspection.js';
export { defaultCoordinationDir, defaultDbPath } from './persistence/paths.js';
export {
  type RetentionOptions,
  type RetentionReport,
  runRetention,
  scheduleRetention,
} from './persistence/retention.js';
export { type EventRow, LAST_EVENT_ID_SQL, ROW_COLUMNS } from './persistence/row-codec.js';
export {
  type Liveness,
  listRuntimes,
  livenessOf,
  type RuntimeRow,
} from './persistence/runtimes.js';
export { type LoadedSnapshot, type SnapshotInfo, SnapshotStore } from './persistence/snapshots.js';
export type { StorageHealth, StorageState } from './persistence/storage-health.js';
// ---- runtime: daemons, supervision, the embeddable runtime
export {
  checkGuideCoverage,
  type DaemonWiring,
  GUIDE_DEVIATIONS,
  type GuideCoverage,
} from './pipeline/guide-coverage.js';
export {
  createPipelineDaemons,
  PIPELINE_PROFILES,
  type PipelineDaemonOptions,
  type PipelineProfile,
  pipelineProfile,
  unimplementedOfOriginalProfile,
} from './pipeline/pipeline-daemons.js';
export {
  type CommandConfig,
  type CommandSpec,
  createCommandWorker,
  loadCommandConfig,
  parseCommandConfig,
} from './workers/command.js';
export {
  defineConfig,
  loadConfigFile,
  loadRingriftConfig,
  type RingriftConfig,
} from './workers/config-file.js';
export { createSimulatedWorker, type SimulatedWorkerOptions } from './workers/simulated.js';
// ---- workers: how daemons do real work
export {
  JOB_INPUTS,
  JOB_RESULTS,
  type Job,
  type JobContext,
  type JobInput,
  type JobResult,
  type Progress,
  WORK_KINDS,
  type Worker,
  type WorkKind,
} from './workers/worker.js';
