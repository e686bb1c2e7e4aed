/**
 * `@lock/core`: distributed locks on Redis, written against a one-method {@link ScriptRunner} so
 * that any Redis client can drive it. Adapters: `@lock/ioredis`, `@lock/node-redis`.
 *
 * @packageDocumentation
 */
export {
  LockAcquireError,
  LockError,
  type LockErrorCode,
  LockLostError,
  type LockLostReason,
  LockMisuseError,
  LockOptionError,
  LockRedisError,
  RedisCallTimeout,
  type RedisServerFailure,
} from './errors.js';
export type { LockHooks } from './hooks.js';
export { lockKey } from './keys.js';
export { type AcquireCallOptions, type ExtendOptions, Lock, type LockState } from './lock.js';
export {
  type AcquireOptions,
  type LockedName,
  type LockedOptions,
  type LockedWrapper,
  Locker,
  type LockReport,
} from './locker.js';
export type { LockInspection } from './mutex.js';
export {
  createReleaseNotifier,
  type ManagedReleaseNotifier,
  type OpenSubscriberConnection,
  type ReleaseNotifier,
  type ReleaseNotifierOptions,
  SUBSCRIBER_CLOSE_TIMEOUT,
  type SubscriberConnection,
  type Unsubscribe,
} from './notifications.js';
export {
  type BackoffStrategy,
  DEFAULTS,
  type LockerOptions,
  type LockOptions,
  MIN_TTL,
  type ResolvedLockOptions,
  WAIT_TIMEOUT_MARGIN,
} from './options.js';
export {
  type ReadWriteAcquireOptions,
  type ReadWriteHolder,
  ReadWriteLock,
  type ReadWriteLockOptions,
  type ReadWriteLockReport,
} from './read-write-lock.js';
export type { DescribedRunner } from './redlock.js';
export type { ReplicaAcknowledgement, ReplicaWaiter } from './replicas.js';
export {
  createScriptRunner,
  type EvalFunctions,
  isNoScriptError,
  type LuaScript,
  type ScriptArg,
  type ScriptRunner,
} from './runner.js';
export { ALL_SCRIPTS } from './scripts/index.js';
export {
  type AcquirePermitOptions,
  MAX_SEMAPHORE_LIMIT,
  type PermitLockOptions,
  type PermitOptions,
  Semaphore,
  type SemaphoreHolder,
  type SemaphoreOptions,
  type SemaphoreReport,
} from './semaphore.js';
