/**
 * The entry point: a `Locker` is made once from a `ScriptRunner` and defaults, and hands out
 * locks in every style: handles, `await using`, callbacks, and wrapped functions/decorators.
 */

import {
  checkDeploymentOptions,
  checkPrimitive,
  checkReplicaSupport,
  type Deployment,
} from './deployments/deployment.js';
import type { HoldProtocol } from './deployments/protocol.js';
import { RedlockDeployment } from './deployments/redlock.js';
import { SingleServerDeployment } from './deployments/single-server.js';
import { LockAcquireError, LockOptionError } from './errors.js';
import { CallChainLocks } from './handle/call-chain-locks.js';
import { withDeadline } from './handle/deadline.js';
import { type LockedWrapper, lockedWrapper } from './handle/decorators.js';
import {
  acquireHold,
  type HeldRun,
  type MakeHold,
  runHold,
  tryAcquireHold,
  withHold,
} from './handle/holding.js';
import type { LockHooks } from './handle/hooks.js';
import { Lock } from './handle/lock.js';
import { fencingCounterKey, lockKey, readWriteLockKey } from './keys.js';
import {
  checkLockName,
  type LockerOptions,
  type LockOptions,
  optionsObject,
  type ResolvedLockOptions,
  resolveLockerOptions,
  resolveLockOptions,
  stripUndefined,
} from './options.js';
import type { ScriptRunner } from './port/runner.js';
import { checkLockSetOptions, lockSetMembers, MultiLock } from './primitives/multi-mutex.js';
import type { LockInspection } from './primitives/mutex.js';
import { ReadWriteLock, type ReadWriteLockOptions } from './primitives/read-write-lock.js';
import { Semaphore, type SemaphoreOptions } from './primitives/semaphore.js';

export type { LockedWrapper } from './handle/decorators.js';

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

/** What {@link Locker.inspect} reports about one lock. */
export interface LockReport extends LockInspection {
  /** The lock's name (without prefix). */
  readonly name: string;
  /** The lock's Redis key. */
  readonly key: string;
}

/**
 * The name of a `locked()` lock: fixed, or computed from each call's arguments.
 * (`never[]` accepts a function of any parameters; it is called with the wrapped function's.)
 */
export type LockedName = string | ((...args: never[]) => string);

/** How many names' mutex protocols a Locker keeps for reuse, per set of shared options. */
const MAX_SHARED_PROTOCOLS = 1_000;

/**
 * Hands out distributed locks over one {@link ScriptRunner}, or, given an array of runners on
 * independent servers, Redlock locks held by a majority of them (see the constructor).
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
  readonly #deployment: Deployment;
  readonly #defaults: LockOptions;
  readonly #hooks: LockHooks;
  readonly #callChain: CallChainLocks | undefined;
  #resolvedDefaults: ResolvedLockOptions | undefined;
  #resolvedOneAttempt: ResolvedLockOptions | undefined;
  readonly #defaultProtocols = new Map<string, HoldProtocol>();
  readonly #oneAttemptProtocols = new Map<string, HoldProtocol>();
  // Read-write holds by call chain, apart from mutex holds: the names are separate namespaces.
  #readWriteCallChain: CallChainLocks | undefined;

  /**
   * @param runner - runs scripts on Redis; get one from `@lock/ioredis` or `@lock/node-redis`.
   *   An array of runners on N independent servers (N = 3 or 5; a primary and its replicas do not
   *   count as independent) makes a Redlock `Locker`: each lock is held when a majority
   *   (`⌊N/2⌋ + 1`) of the servers hold it, with time left after the round trip. Redlock locks
   *   have no fencing token and cannot be fair. An array of one runner is that runner.
   * @param options - the prefix and default options of every lock from this Locker.
   * @throws {LockOptionError} when an option is invalid, or the runners are not distinct
   *   `ScriptRunner`s; with several runners, also for `fair: true` or `fencing: true`, and when
   *   two runners describe the same server (their `describe()`).
   */
  constructor(runner: ScriptRunner | readonly ScriptRunner[], options?: LockerOptions) {
    const runners = Array.isArray(runner) ? (runner as readonly ScriptRunner[]) : [runner as ScriptRunner];
    checkRunners(runners);
    const resolved = resolveLockerOptions(options);
    this.#deployment =
      runners.length > 1
        ? new RedlockDeployment(runners)
        : new SingleServerDeployment(runners[0] as ScriptRunner, resolved.prefix);
    checkDeploymentOptions(this.#deployment.support, resolved.lockDefaults);
    this.prefix = resolved.prefix;
    this.#defaults = resolved.lockDefaults;
    this.#hooks = resolved.hooks;
    this.#callChain = resolved.asyncReentrancy ? new CallChainLocks() : undefined;
  }

  /**
   * A handle for the lock set over `names` (see {@link Locker.acquire} with an array), not yet
   * acquired: call `acquire()` on it.
   * @throws {LockOptionError} for an invalid set, name or option; nothing is sent to Redis.
   */
  createLock(names: readonly string[], options?: LockOptions): MultiLock;
  /**
   * A handle for the lock called `name`, not yet acquired: call `acquire()` on it.
   * @throws {LockOptionError} for an invalid name or option; nothing is sent to Redis.
   */
  createLock(name: string, options?: LockOptions): Lock;
  createLock(name: string | readonly string[], options?: LockOptions): Lock {
    if (isLockSet(name)) return this.#lockSetHolds(lockSetMembers(this.prefix, name))(options, false);
    checkLockName(name);
    return this.#createLock(name, this.#resolve(options));
  }

  /**
   * Resolves per-call options over the Locker's defaults. Most calls pass none, so the result for
   * "no options" is resolved once per Locker (and once for one-attempt calls), off the fast path
   * of an uncontended acquire.
   */
  #resolve(given: LockOptions | null | undefined, oneAttempt = false): ResolvedLockOptions {
    const options = optionsObject(given);
    const noOptions = options === undefined || Object.keys(options).length === 0;
    if (!noOptions) return this.#resolveNow(options, oneAttempt);
    if (oneAttempt) {
      this.#resolvedOneAttempt ??= this.#resolveNow(undefined, true);
      return this.#resolvedOneAttempt;
    }
    this.#resolvedDefaults ??= this.#resolveNow(undefined, false);
    return this.#resolvedDefaults;
  }

  #resolveNow(options: LockOptions | undefined, oneAttempt: boolean): ResolvedLockOptions {
    const deployment = this.#deployment;
    if (options !== undefined) checkDeploymentOptions(deployment.support, options);
    return resolveLockOptions(this.#defaults, {
      ...options,
      ...deployment.forcedOptions,
      ...(oneAttempt ? { retryCount: 0 } : {}),
    });
  }

  #createLock(name: string, resolved: ResolvedLockOptions): Lock {
    const key = lockKey(this.prefix, name);
    return new Lock({
      name,
      key,
      options: resolved,
      hooks: this.#hooks,
      protocol: this.#mutex(key, resolved),
    });
  }

  /**
   * The protocol of mutex `key`. Where a protocol keeps nothing of a handle's (one server, not
   * Redlock), the handles of one name made with the Locker's defaults (most calls pass no
   * options) share one, made once; the store keeps the latest {@link MAX_SHARED_PROTOCOLS} names.
   */
  #mutex(key: string, resolved: ResolvedLockOptions): HoldProtocol {
    const shared = this.#sharedProtocols(resolved);
    const known = shared?.get(key);
    if (known !== undefined) return known;
    const protocol = this.#deployment.mutex(key, resolved);
    if (shared !== undefined) {
      if (shared.size >= MAX_SHARED_PROTOCOLS) shared.clear();
      shared.set(key, protocol);
    }
    return protocol;
  }

  /** Where the protocols made with `resolved` are kept for reuse, if they are. */
  #sharedProtocols(resolved: ResolvedLockOptions): Map<string, HoldProtocol> | undefined {
    if (!this.#deployment.sharesMutexProtocols) return undefined;
    if (resolved === this.#resolvedDefaults) return this.#defaultProtocols;
    if (resolved === this.#resolvedOneAttempt) return this.#oneAttemptProtocols;
    return undefined;
  }

  /**
   * The handles of the lock set over `members` (checked by `lockSetMembers`), for the shared
   * front: one script over every member, on one server or by Redlock quorum.
   */
  #lockSetHolds(members: ReturnType<typeof lockSetMembers>): MakeHold<LockOptions> {
    return (options, oneAttempt) => {
      const given = optionsObject(options);
      checkLockSetOptions({ ...this.#defaults, ...stripUndefined(given) });
      const resolved = this.#resolveNow({ ...given, fencing: false }, oneAttempt);
      return new MultiLock({
        name: members.names.join(', '),
        key: members.keys[0] as string,
        options: resolved,
        hooks: this.#hooks,
        protocol: this.#deployment.mutexSet(members.keys, resolved),
        ...members,
      });
    };
  }

  /** The handles of mutex `name`, for the shared front. */
  #mutexHolds(name: string): MakeHold<LockOptions> {
    return (options, oneAttempt) => {
      checkLockName(name);
      return this.#createLock(name, this.#resolve(options, oneAttempt));
    };
  }

  /**
   * Acquires every lock in `names` at once, all or nothing, and resolves ONE held
   * {@link MultiLock} over the set: one token, one renewal, one `signal`; `extend`, `release` and
   * `await using` act on every member in one script, and losing any member loses the hold
   * (`lock.signal` aborts with a {@link LockLostError}). An attempt that finds any member held
   * elsewhere takes none of them and leaves nothing behind, and waits and retries as usual.
   *
   * ```ts
   * await using order = await locker.acquire(['{order:7}:stock', '{order:7}:payment']);
   * ```
   *
   * - Names are deduplicated and sorted: the order they are listed in never matters, so two
   *   callers locking overlapping sets cannot deadlock.
   * - Each member is the same key as the single lock of that name: a set excludes any other set
   *   or single lock sharing a name with it, and `inspect(name)` shows the set's token as owner.
   * - The members must share one Redis Cluster slot: start every name with the same hash tag
   *   (`'{order:7}:…'`). Checked on every deployment, before anything is sent.
   * - Under Redlock (a Locker over several servers), each server runs the same all-or-nothing
   *   script and a majority of servers must hold the whole set.
   * - `reentrant: true` works as for one lock (the handle enters every member again). A set has
   *   no fencing token and cannot be fair; it is not re-entered through the async call chain.
   *
   * @throws {LockAcquireError} `LOCK_NOT_ACQUIRED` when some member stays held elsewhere;
   *   `LOCK_ACQUIRE_ABORTED` when `options.signal` aborts.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} (option `names`) for an empty array, an invalid name, more than
   *   `MAX_LOCK_SET_SIZE` names, or names in different Cluster slots; for `fair: true` or
   *   `fencing: true` (also as Locker defaults); nothing is sent to Redis.
   */
  acquire(names: readonly string[], options?: AcquireOptions): Promise<MultiLock>;
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
  acquire(name: string, options?: AcquireOptions): Promise<Lock>;
  // Not `async` (nor `tryAcquire`): returning the front's promise from an async function would
  // cost another promise and three ticks on every call. Throws become rejections by hand.
  acquire(name: string | readonly string[], options?: AcquireOptions): Promise<Lock> {
    try {
      if (isLockSet(name)) return acquireHold(this.#lockSetHolds(lockSetMembers(this.prefix, name)), options);
      return acquireHold(this.#mutexHolds(name), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * One attempt at the lock set over `names` (see {@link Locker.acquire} with an array), never
   * waiting: resolves the held {@link MultiLock}, or `null` when any member is held elsewhere
   * (then nothing was taken).
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid set, name or option.
   */
  tryAcquire(names: readonly string[], options?: AcquireOptions): Promise<MultiLock | null>;
  /**
   * One attempt, never waiting: resolves the held {@link Lock}, or `null` when the lock is held
   * elsewhere. Retry options are ignored.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid name or option.
   */
  tryAcquire(name: string, options?: AcquireOptions): Promise<Lock | null>;
  tryAcquire(name: string | readonly string[], options?: AcquireOptions): Promise<Lock | null> {
    try {
      if (isLockSet(name))
        return tryAcquireHold(this.#lockSetHolds(lockSetMembers(this.prefix, name)), options);
      checkLockName(name);
      return tryAcquireHold(this.#mutexHolds(name), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs `fn` while holding the lock set over `names` (see {@link Locker.acquire} with an array),
   * and releases every member afterwards on every path. Not re-entered through the async call
   * chain: a nested `withLock` on the same set, or on one of its names, waits like any other.
   * @throws {LockAcquireError} when the set cannot be had; `fn` is not called.
   * @throws {LockOptionError} for an invalid set, name or option.
   */
  withLock<T>(
    names: readonly string[],
    fn: (lock: MultiLock) => Promise<T> | T,
    options?: AcquireOptions,
  ): Promise<T>;
  /**
   * Runs `fn` while holding the lock called `name`, and releases it afterwards on every path.
   * `fn` receives the held lock; pass `lock.signal` to work that must stop if the lock is lost.
   * If `fn` throws, that error is rethrown (never a release error in its place).
   *
   * Nested inside another `withLock` on the same name in the same async call chain, `fn` runs
   * within the outer hold (same lock, no Redis call) instead of deadlocking; see the
   * `asyncReentrancy` option.
   *
   * @throws {LockAcquireError} when the lock cannot be had; `fn` is not called.
   */
  withLock<T>(name: string, fn: (lock: Lock) => Promise<T> | T, options?: AcquireOptions): Promise<T>;
  async withLock<T>(
    name: string | readonly string[],
    fn: ((lock: Lock) => Promise<T> | T) | ((lock: MultiLock) => Promise<T> | T),
    options?: AcquireOptions,
  ): Promise<T> {
    if (isLockSet(name)) {
      const members = lockSetMembers(this.prefix, name);
      // Not through the call chain: its holds are by name, and a set is not one name.
      return withHold(this.#lockSetHolds(members), fn as (lock: Lock) => Promise<T> | T, options, {
        usage: 'withLock(names, fn, options?)',
        lockName: members.names.join(', '),
      });
    }
    const run = fn as (lock: Lock) => Promise<T> | T;
    return withHold(this.#mutexHolds(name), run, options, { ...this.#runOptions(name), lockName: name });
  }

  /**
   * What Redis shows about the lock called `name`: holder, remaining time, re-entry count and
   * fencing tokens, in one round trip. For operators and dashboards. On a Redlock `Locker`
   * (several servers): the owner a majority shows, the time until fewer than a majority still hold
   * it, and `null` fencing tokens. One name at a time: each name of a held lock set shows the
   * set handle's token as its owner.
   * @throws {LockRedisError} when Redis fails (Redlock: when the failed servers could change the
   *   answer; `failures` lists them).
   */
  async inspect(name: string): Promise<LockReport> {
    checkLockName(name);
    const key = lockKey(this.prefix, name);
    const keys = [key, fencingCounterKey(key)] as const;
    const { commandTimeout } = this.#resolve(undefined);
    const inspection = this.#deployment.inspectMutex(keys, commandTimeout);
    return { name, key, ...(await withDeadline(inspection, commandTimeout, 'inspect')) };
  }

  /**
   * The read-write lock called `name`: many readers or one writer, with writer preference. A
   * light front object (no Redis call) that hands out read and write holds as {@link Lock}
   * handles: `acquireRead`/`acquireWrite`, `tryAcquireRead`/`tryAcquireWrite`,
   * `withRead`/`withWrite`, `createReadLock`/`createWriteLock` and `inspect`. Its keys never
   * meet those of a mutex of the same name. `options` are defaults for its holds, over the
   * Locker's.
   *
   * @example
   * ```ts
   * const catalog = locker.readWriteLock('catalog');
   * const items = await catalog.withRead(async () => loadCatalog());
   * await catalog.withWrite(async (lock) => saveCatalog(next, { signal: lock.signal }));
   * ```
   * @throws {LockOptionError} for an invalid name or option (`reentrant`, `fair` and `replicas`
   *   are rejected), or on a Redlock `Locker`; nothing is sent to Redis.
   */
  readWriteLock(name: string, options?: ReadWriteLockOptions): ReadWriteLock {
    checkLockName(name);
    checkPrimitive(this.#deployment.support, 'read-write lock');
    if (this.#callChain !== undefined) this.#readWriteCallChain ??= new CallChainLocks();
    return new ReadWriteLock({
      deployment: this.#deployment,
      name,
      key: readWriteLockKey(this.prefix, name),
      defaults: this.#defaults,
      hooks: this.#hooks,
      callChain: this.#readWriteCallChain,
      options,
    });
  }

  /**
   * A counting semaphore called `name`: up to `options.limit` permits out at once, across every
   * client. Each acquisition is a {@link Lock} handle of its own; the other options are lock
   * options (over this Locker's defaults) for every permit of it. No Redis call until you acquire.
   *
   * ```ts
   * const pool = locker.semaphore('payments-api', { limit: 3 });
   * await using permit = await pool.acquire({ waitTimeout: 5_000 });
   * ```
   *
   * @throws {LockOptionError} for an invalid name, limit (a positive integer up to
   *   `MAX_SEMAPHORE_LIMIT`, 10 000) or option (`reentrant` and `fair: true` and `replicas` are
   *   rejected), or on a Redlock `Locker`; nothing is sent to Redis.
   */
  semaphore(name: string, options: SemaphoreOptions): Semaphore {
    checkLockName(name);
    checkPrimitive(this.#deployment.support, 'semaphore');
    const context = {
      deployment: this.#deployment,
      prefix: this.prefix,
      defaults: this.#defaults,
      hooks: this.#hooks,
    };
    return new Semaphore(context, name, options);
  }

  /**
   * Wraps a function so that every call runs under a lock, like {@link Locker.withLock}. Works as
   * a plain wrapper and as a TypeScript method decorator, with standard decorators and with
   * `"experimentalDecorators": true` alike (see {@link LockedWrapper}).
   *
   * The lock name defaults to the function's (or method's) name; pass a string to fix it, or a
   * function of the call's arguments to lock per call (`(sku: string) => \`inventory:${sku}\``).
   * Options may come first when the name is left to its default: `locked({ onLocked: 'skip' })`.
   *
   * @example
   * ```ts
   * const runReport = locker.locked('daily-report', { onLocked: 'skip' })(generateReport);
   * const reserve = locker.locked((sku: string) => `inventory:${sku}`)(reserveStock);
   *
   * // Standard decorators, or legacy ones ("experimentalDecorators": true, as in NestJS):
   * class Jobs {
   *   @locker.locked()
   *   async rebuildIndex(): Promise<void> { ... }
   *   @locker.locked('nightly', { onLocked: 'skip' })
   *   async nightly(): Promise<string | undefined> { ... }
   * }
   * ```
   * @throws {LockOptionError} at wrap time for an invalid name or option, an option this Locker
   *   cannot honour (the same checks as `createLock`: on a Redlock Locker `fair`, `fencing` and
   *   `replicas`; `replicas` on a runner that cannot wait for them), or an anonymous function
   *   without a name, or a decorator on anything but a method; a per-call name that is invalid
   *   rejects that call.
   */
  locked(options: LockedOptions & { onLocked: 'skip' }): LockedWrapper<true>;
  locked(name: LockedName | undefined, options: LockedOptions & { onLocked: 'skip' }): LockedWrapper<true>;
  locked(nameOrOptions?: LockedName | LockedOptions, options?: LockedOptions): LockedWrapper<false>;
  locked(nameOrOptions?: LockedName | LockedOptions, maybeOptions?: LockedOptions): LockedWrapper<boolean> {
    const optionsFirst = typeof nameOrOptions === 'object' && nameOrOptions !== null;
    const name = optionsFirst ? undefined : nameOrOptions;
    const options = optionsObject(optionsFirst ? nameOrOptions : maybeOptions) ?? {};
    if (name !== undefined && typeof name !== 'function') checkLockName(name);
    const { onLocked = 'throw', ...lockOptions } = options;
    if (onLocked !== 'throw' && onLocked !== 'skip') {
      throw new LockOptionError('onLocked', `expected 'throw' or 'skip', got ${String(onLocked)}.`);
    }
    // Every check a call would make, now: a wrapper that could only ever reject is a mistake best
    // reported where it was written.
    checkReplicaSupport(this.#deployment.support, this.#resolve(lockOptions));
    const locker = this;

    return lockedWrapper((fn, defaultName) => {
      const fixedName = typeof name === 'string' ? name : defaultName;
      if (typeof name !== 'function' && !fixedName) {
        throw new LockOptionError(
          'name',
          'cannot name the lock after an anonymous function; pass a name to locked().',
        );
      }
      const nameFor = typeof name === 'function' ? (name as (...args: unknown[]) => string) : () => fixedName;
      return async function lockedFunction(this: unknown, ...args: unknown[]): Promise<unknown> {
        const lockName = nameFor(...args);
        const outcome = await locker.#runLocked(lockName, () => fn.apply(this, args), lockOptions);
        if (outcome.acquired) return outcome.value;
        if (onLocked === 'skip') return undefined;
        throw new LockAcquireError('LOCK_NOT_ACQUIRED', { lockName, ...outcome });
      };
    });
  }

  /**
   * The core of `withLock` and `locked()`: runs `fn` under the lock, or reports that the lock could
   * not be had (kept apart from `fn`'s own errors, which are rethrown as they are).
   */
  #runLocked<T>(
    name: string,
    fn: (lock: Lock) => T,
    options: AcquireOptions | undefined,
  ): Promise<HeldRun<T>> {
    return runHold(this.#mutexHolds(name), fn, options, this.#runOptions(name));
  }

  #runOptions(name: string) {
    return { usage: 'withLock(name, fn, options?)', callChain: this.#callChain, chainName: name };
  }
}

/** An array of names is a lock set; anything else is checked as one name. */
function isLockSet(name: string | readonly string[]): name is readonly string[] {
  return Array.isArray(name);
}

function checkRunners(runners: readonly ScriptRunner[]): void {
  if (runners.length === 0) throw new LockOptionError('runner', 'expected at least one ScriptRunner.');
  for (const runner of runners) {
    if (typeof runner !== 'object' || runner === null || typeof runner.run !== 'function') {
      throw new LockOptionError('runner', 'expected a ScriptRunner (an object with a run() method).');
    }
  }
  if (new Set(runners).size !== runners.length) {
    throw new LockOptionError('runner', 'the same runner appears twice: Redlock needs independent servers.');
  }
}
