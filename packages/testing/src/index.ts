/**
 * `@lock/testing`: the shared test harness of the @lock packages. Private; consumed as TypeScript
 * source by vitest only.
 *
 * @packageDocumentation
 */

export {
  type AdapterUnderTest,
  type ConnectedClient,
  elapse,
  parseCommandStats,
  type RecordingRunner,
  recordingRunner,
  runConformanceSuite,
  waitFor,
  whenAborted,
} from './conformance.js';
export {
  type BlackholeMode,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
  type LatencyDirection,
  startFaultProxy,
} from './fault-proxy.js';
export {
  type CapacityReport,
  type CapacityViolation,
  checkCapacity,
  checkHistory,
  checkReadWriteHistory,
  type FencingViolation,
  HistoryRecorder,
  type HistoryRecorderOptions,
  type HistoryReport,
  type HoldInterval,
  type HoldMode,
  monotonicMicros,
  type OpenHold,
  type Overlap,
  type RecordableLock,
} from './history.js';
export { runMultiResourceSuite } from './multi-resource.js';
export { runOneHandleSuite } from './one-handle.js';
export { addCrashedFairWaiter } from './primitives/fair-lock.js';
export { type PrimitiveSuiteContext, runPrimitivesSuite, serverTimeMs } from './primitives.js';
export {
  type ClusterNode,
  parseClusterNodes,
  type RedisCluster,
  type SlotRange,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster.js';
export {
  type ProvisionRedisOptions,
  provisionRedis,
  type RedisInstance,
  type TestcontainersModules,
} from './redis-server.js';
export {
  runSubscriberSuite,
  type SubscriberAdapterUnderTest,
  type SubscriberChildTask,
  type SubscriberClientVariant,
} from './subscriber.js';
