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
} from './conformance.js';
export {
  type ProvisionRedisOptions,
  provisionRedis,
  type RedisInstance,
  type TestcontainersModules,
} from './redis-server.js';
