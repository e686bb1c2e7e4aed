/**
 * `@lock/testing`: the private harness of the @lock safety tests. Private; consumed as TypeScript
 * source by vitest only. The history checker lives here; Redis provisioning, the fault proxy and
 * the conformance suites come from the public `@lock/test-suite` and are re-exported for the
 * safety tests' convenience.
 *
 * @packageDocumentation
 */

export {
  type AdapterUnderTest,
  addCrashedFairWaiter,
  type BlackholeMode,
  type ClusterNode,
  type ConnectedClient,
  elapse,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
  type LatencyDirection,
  type PrimitiveSuiteContext,
  type ProvisionRedisOptions,
  parseClusterNodes,
  parseCommandStats,
  provisionRedis,
  type RecordingRunner,
  type RedisCluster,
  type RedisInstance,
  recordingRunner,
  runConformanceSuite,
  runOneHandleSuite,
  runPrimitivesSuite,
  runSubscriberSuite,
  type SlotRange,
  type StartRedisClusterOptions,
  type SubscriberAdapterUnderTest,
  type SubscriberChildTask,
  type SubscriberClientVariant,
  serverTimeMs,
  startFaultProxy,
  startRedisCluster,
  type TestcontainersModules,
  waitFor,
  whenAborted,
} from '@lock/test-suite';
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
