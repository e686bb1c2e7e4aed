/**
 * `@lock/test-suite`: the conformance suite of `@lock/core` runners. A runner author calls
 * {@link runConformanceSuite} (and the other `run…Suite` functions) from a vitest test file with
 * an {@link AdapterUnderTest}; the suite finds or starts a Redis for that file and checks, against
 * it, everything a `ScriptRunner` and `ReleaseNotifier` must get right.
 *
 * @packageDocumentation
 */

export type { AdapterRunner, AdapterUnderTest, ConnectedClient } from './adapter-under-test.js';
export { conformanceModules, runConformanceSuite, type SuiteModule } from './conformance.js';
export { SUITE_PREFIX, type SuiteContext, type SuiteTarget } from './context.js';
export {
  elapse,
  parseCommandStats,
  type RecordingRunner,
  recordingNotifyingRunner,
  recordingRunner,
  serverTimeMs,
  sumCommandStats,
  uniqueName,
  waitFor,
  whenAborted,
} from './helpers.js';
export { runOneHandleSuite } from './one-handle.js';
export { addCrashedFairWaiter } from './primitives/fair-lock.js';
export { type PrimitiveSuiteContext, runPrimitivesSuite } from './primitives.js';
export {
  type BlackholeMode,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
  type LatencyDirection,
  startFaultProxy,
} from './redis/fault-proxy.js';
export {
  type ClusterNode,
  parseClusterNodes,
  type RedisCluster,
  type SlotRange,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis/redis-cluster.js';
export {
  type ProvisionRedisOptions,
  provisionRedis,
  type RedisInstance,
  type TestcontainersModules,
} from './redis/redis-server.js';
export {
  runSubscriberSuite,
  type SubscriberAdapterUnderTest,
  type SubscriberChildTask,
  type SubscriberClientVariant,
} from './subscriber.js';
