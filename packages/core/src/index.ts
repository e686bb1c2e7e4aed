/**
 * `@lock/core`: distributed locks on Redis, written against a one-method {@link ScriptRunner} so
 * that any Redis client can drive it. Adapters: `@lock/ioredis`, `@lock/node-redis`; to write
 * one for another client, see `@lock/core/adapter`.
 *
 * @packageDocumentation
 */

export type { ReplicaAcknowledgement } from './deployments/replicas.js';
export {
  LockAcquireError,
  LockError,
  type LockErrorCode,
  LockLostError,
  type LockLostReason,
  LockMisuseError,
  LockOptionError,
  LockRedisError,
  LockReleasedError,
  RedisCallTimeout,
  type RedisServerFailure,
} from './errors.js';
export type { LockHooks } from './handle/hooks.js';
export { type AcquireCallOptions, type ExtendOptions, Lock, type LockState } from './handle/lock.js';
export {
  type AcquireOptions,
  type LockedName,
  type LockedOptions,
  type LockedWrapper,
  Locker,
  type LockReport,
} from './locker.js';
export type { BackoffStrategy, LockerOptions, LockOptions, ResolvedLockOptions } from './options.js';
export type { ScriptRunner } from './port/runner.js';
export { MAX_LOCK_SET_SIZE, MultiLock } from './primitives/multi-mutex.js';
export type { LockInspection } from './primitives/mutex.js';
export {
  type ReadWriteAcquireOptions,
  type ReadWriteHolder,
  ReadWriteLock,
  type ReadWriteLockOptions,
  type ReadWriteLockReport,
} from './primitives/read-write-lock.js';
export {
  type AcquirePermitOptions,
  MAX_SEMAPHORE_LIMIT,
  type PermitLockOptions,
  type PermitOptions,
  Semaphore,
  type SemaphoreHolder,
  type SemaphoreOptions,
  type SemaphoreReport,
} from './primitives/semaphore.js';
