/**
 * The entry point: a `Locker` is made once from a `ScriptRunner` and defaults, and hands out
 * locks in every style: handles, `await using`, callbacks, and wrapped functions/decorators.
 */
import { LockAcquireError, LockOptionError } from './errors.js';
import { lockKey } from './keys.js';
import { Lock } from './lock.js';
import {
  checkLockName,
  type LockerOptions,
  type LockOptions,
  resolveLockOptions,
  resolvePrefix,
} from './options.js';
import type { ScriptRunner } from './runner.js';

/** Options of {@link Locker.acquire}, {@link Locker.tryAcquire} and {@link Locker.withLock}. */
export interface AcquireOptions extends LockOptions {
  /** Aborting it ends the wait at once with a `LOCK_ACQUIRE_ABORTED` {@link LockAcquireError}. */
  signal?: AbortSignal;
}

/** Options of {@link Locker.locked}. */
export interface LockedOptions extends LockOptions {
  /**
   * What a call does when the lock cannot be had: `'throw'` rejects with a
   * {@link LockAcquireError}; `'skip'` resolves `undefined` without running the function (the
   * "only one instance runs the cron job" case).
   * @default 'throw'
   */
  onLocked?: 'throw' | 'skip';
}

/**
 * Wraps a function so that each call runs under the lock; also usable as a TypeScript (stage 3)
 * method decorator. With `onLocked: 'skip'` the wrapped function may resolve `undefined`.
 */
export type LockedWrapper<MayResolveUndefined extends boolean> = <This, Args extends unknown[], Result>(
  fn: (this: This, ...args: Args) => Result,
  context?: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Result>,
) => (
  this: This,
  ...args: Args
) => Promise<Awaited<Result> | (MayResolveUndefined extends true ? undefined : never)>;

/**
 * Hands out distributed locks over one {@link ScriptRunner}.
 *
 * @example
 * ```ts
 * const locker = new Locker(createIoredisRunner(redis), { ttl: 10_000 });
 * await locker.withLock('daily-report', async (lock) => {
 *   await generateReport({ signal: lock.signal });
 * });
 * ```
 */
export class Locker {
  /** The prefix of every lock key. */
  readonly prefix: string;
  readonly #runner: ScriptRunner;
  readonly #defaults: LockOptions;

  /**
   * @param runner - runs scripts on Redis; get one from `@lock/ioredis` or `@lock/node-redis`.
   * @param options - the prefix and default options of every lock from this Locker.
   * @throws {LockOptionError} when an option is invalid.
   */
  constructor(runner: ScriptRunner, options: LockerOptions = {}) {
    if (typeof runner !== 'object' || runner === null || typeof runner.run !== 'function') {
      throw new LockOptionError('runner', 'expected a ScriptRunner (an object with a run() method).');
    }
    this.#runner = runner;
    this.prefix = resolvePrefix(options);
    const { prefix: _prefix, ...defaults } = options;
    resolveLockOptions({}, defaults); // validate once, up front
    this.#defaults = Object.freeze(defaults);
  }

  /**
   * A handle for the lock called `name`, not yet acquired: call `acquire()` on it.
   * @throws {LockOptionError} for an invalid name or option; nothing is sent to Redis.
   */
  createLock(name: string, options?: LockOptions): Lock {
    checkLockName(name);
    return new Lock({
      runner: this.#runner,
      name,
      key: lockKey(this.prefix, name),
      options: resolveLockOptions(this.#defaults, options),
    });
  }

  /**
   * Acquires the lock called `name`, waiting and retrying as the options say, and resolves the
   * held {@link Lock}. Pair with `await using` to release it at the end of the scope:
   *
   * ```ts
   * await using lock = await locker.acquire('inventory:42');
   * ```
   *
   * @throws {LockAcquireError} `LOCK_NOT_ACQUIRED` when it stays held elsewhere;
   *   `LOCK_ACQUIRE_ABORTED` when `options.signal` aborts.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid name or option.
   */
  async acquire(name: string, options?: AcquireOptions): Promise<Lock> {
    const lock = this.createLock(name, withoutSignal(options));
    const outcome = await lock.acquireWithOutcome({ signal: options?.signal });
    if (outcome.acquired) return lock;
    throw new LockAcquireError('LOCK_NOT_ACQUIRED', { lockName: name, ...outcome });
  }

  /**
   * One attempt, never waiting: resolves the held {@link Lock}, or `null` when the lock is held
   * elsewhere. Retry options are ignored.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid name or option.
   */
  async tryAcquire(name: string, options?: AcquireOptions): Promise<Lock | null> {
    const lock = this.createLock(name, { ...withoutSignal(options), retryCount: 0 });
    return (await lock.acquire({ signal: options?.signal })) ? lock : null;
  }

  /**
   * Runs `fn` while holding the lock called `name`, and releases it afterwards on every path.
   * `fn` receives the held lock; pass `lock.signal` to work that must stop if the lock is lost.
   * If `fn` throws, that error is rethrown (never a release error in its place).
   *
   * @throws {LockAcquireError} when the lock cannot be had; `fn` is not called.
   */
  async withLock<T>(name: string, fn: (lock: Lock) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') {
      throw new LockOptionError('fn', 'withLock(name, fn, options?) needs a function to run.');
    }
    const lock = await this.acquire(name, options);
    let result: T;
    try {
      result = await fn(lock);
    } catch (error) {
      // The callback's error is what the caller needs; a failed release only means the lock
      // expires within its ttl, which its signal already reports.
      await lock.releaseIfHeld().catch(() => {});
      throw error;
    }
    await lock.releaseIfHeld();
    return result;
  }

  /**
   * Wraps a function so that every call runs under a lock, like {@link Locker.withLock}. Works as
   * a plain wrapper and as a TypeScript method decorator. The lock name defaults to the
   * function's (or method's) name.
   *
   * @example
   * ```ts
   * const runReport = locker.locked('daily-report', { onLocked: 'skip' })(generateReport);
   *
   * class Jobs {
   *   @locker.locked()
   *   async rebuildIndex() { ... }
   * }
   * ```
   * @throws {LockOptionError} at wrap time for an invalid name or option, or an anonymous
   *   function without a name.
   */
  locked(name: string | undefined, options: LockedOptions & { onLocked: 'skip' }): LockedWrapper<true>;
  locked(name?: string, options?: LockedOptions): LockedWrapper<false>;
  locked(name?: string, options: LockedOptions = {}): LockedWrapper<boolean> {
    if (name !== undefined) checkLockName(name);
    const { onLocked = 'throw', ...lockOptions } = options;
    if (onLocked !== 'throw' && onLocked !== 'skip') {
      throw new LockOptionError('onLocked', `expected 'throw' or 'skip', got ${String(onLocked)}.`);
    }
    resolveLockOptions(this.#defaults, lockOptions);
    const locker = this;

    return <This, Args extends unknown[], Result>(
      fn: (this: This, ...args: Args) => Result,
      context?: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Result>,
    ) => {
      if (typeof fn !== 'function') throw new LockOptionError('fn', 'locked() wraps a function.');
      const lockName = name ?? (context === undefined ? fn.name : String(context.name));
      if (!lockName) {
        throw new LockOptionError(
          'name',
          'cannot name the lock after an anonymous function; pass a name to locked().',
        );
      }
      return async function lockedFunction(this: This, ...args: Args): Promise<Awaited<Result> | undefined> {
        const lock = locker.createLock(lockName, lockOptions);
        const outcome = await lock.acquireWithOutcome();
        if (!outcome.acquired) {
          if (onLocked === 'skip') return undefined;
          throw new LockAcquireError('LOCK_NOT_ACQUIRED', { lockName, ...outcome });
        }
        try {
          return await fn.apply(this, args);
        } finally {
          await lock.releaseIfHeld().catch(() => {});
        }
      };
    };
  }
}

function withoutSignal(options: AcquireOptions | undefined): LockOptions | undefined {
  if (options === undefined) return undefined;
  const { signal: _signal, ...lockOptions } = options;
  return lockOptions;
}
