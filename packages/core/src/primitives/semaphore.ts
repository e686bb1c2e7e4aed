/**
 * The semaphore: up to `limit` permits of one name out at once, across every client. Each
 * acquisition is a {@link Lock} handle of its own (own token, expiry, renewal, lost signal,
 * release, fencing token), which takes one or more permits; its Redis side is a
 * {@link HoldProtocol} over the scripts in `scripts/semaphore.ts`. Expiry is decided by the
 * server's clock inside those scripts, never by a client's.
 */

import {
  checkPrimitiveOptions,
  checkPrimitiveReplicas,
  type Deployment,
  type PermitShape,
  type SemaphoreKeys,
} from '../deployments/deployment.js';
import {
  type AcquireReply,
  type AcquireRequest,
  type ExtendResult,
  extendResult,
  type HoldProtocol,
  type HoldStatus,
  parseAcquireReply,
  parseHandOff,
  type ReleaseResult,
  releaseResult,
  runScript,
  type Subscribe,
} from '../deployments/protocol.js';
import { sendQueueingAttempt, type WakeChannel } from '../deployments/wake-channel.js';
import { LockOptionError } from '../errors.js';
import { withDeadline } from '../handle/deadline.js';
import { acquireHold, type MakeHold, tryAcquireHold, withHold } from '../handle/holding.js';
import type { LockHooks } from '../handle/hooks.js';
import { Lock } from '../handle/lock.js';
import {
  fencingCounterKey,
  semaphoreArrivalsKey,
  semaphoreFencesKey,
  semaphoreKey,
  semaphoreWaitersKey,
  waiterTermsKey,
} from '../keys.js';
import {
  checkLockName,
  type LockOptions,
  optionsObject,
  resolveLockOptions,
  stripUndefined,
} from '../options.js';
import type { ScriptRunner } from '../port/runner.js';
import {
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  SEMAPHORE_INSPECT_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
} from '../scripts/index.js';
import { bargeBound, keepAliveInterval, queuePlaceTtl } from './mutex.js';

/**
 * The lock options that apply to a semaphore permit: every {@link LockOptions} option except
 * `reentrant`, `fair` and `replicas`, which a semaphore does not support (passing `true` for the
 * first two, or any `replicas`, is a {@link LockOptionError}). A Locker's `reentrant` and `fair`
 * defaults do not apply to semaphores; a Locker-wide `replicas` makes `locker.semaphore` refuse.
 */
export interface PermitLockOptions extends Omit<LockOptions, 'reentrant' | 'fair' | 'replicas'> {
  /** Permits are never reentrant: every acquire takes permits of its own. Only `false` is accepted. */
  reentrant?: false;
  /** Semaphores do not queue waiters in arrival order. Only `false` is accepted. */
  fair?: false;
  /** Semaphores do not wait for replicas (only the mutex does): leave it unset. */
  replicas?: undefined;
}

/**
 * The largest semaphore `limit` (and so the most `permits` one hold can take). Each permit out is
 * one member of a sorted set, written, renewed and removed inside one script, during which the
 * server serves nobody else: the cap keeps the heaviest of those scripts (taking, renewing or
 * giving back every permit at once) to tens of milliseconds of server time and the set to about
 * a megabyte and a half.
 */
export const MAX_SEMAPHORE_LIMIT = 10_000;

/** Options of `Locker.semaphore`: the limit, and lock options that every permit of it uses. */
export interface SemaphoreOptions extends PermitLockOptions {
  /**
   * How many permits may be out at once: a positive integer, at most
   * {@link MAX_SEMAPHORE_LIMIT} (10 000), so that no script on the semaphore blocks the server
   * for long. Every caller passes its own; the check runs against the caller's limit, so callers
   * of one name should agree (see the README).
   */
  limit: number;
}

/** Options of {@link Semaphore.createPermit}: how many permits, and lock options for this hold. */
export interface PermitOptions extends PermitLockOptions {
  /**
   * How many permits this hold takes at once, from 1 to the semaphore's limit (so at most
   * {@link MAX_SEMAPHORE_LIMIT}). They are taken together or not at all, and expire, renew and go
   * back together; each is a sorted-set member that every acquire, renewal and release writes.
   * @default 1
   */
  permits?: number;
}

/** Options of {@link Semaphore.acquire}, {@link Semaphore.tryAcquire} and {@link Semaphore.withPermit}. */
export interface AcquirePermitOptions extends PermitOptions {
  /** Aborting it ends the wait at once with a `LOCK_ACQUIRE_ABORTED` {@link LockAcquireError}. */
  signal?: AbortSignal;
}

/** One holder of a semaphore, as {@link Semaphore.inspect} reports it. */
export interface SemaphoreHolder {
  /** The holding handle's token (`lock.token`). */
  readonly token: string;
  /** How many permits it holds. */
  readonly permits: number;
  /** Milliseconds until its permits expire, by the server's clock. */
  readonly remaining: number;
}

/** What {@link Semaphore.inspect} reports. */
export interface SemaphoreReport {
  /** The semaphore's name (without prefix). */
  readonly name: string;
  /** The Redis key of its permits. */
  readonly key: string;
  /** The limit this `Semaphore` object was made with. */
  readonly limit: number;
  /** Permits out right now (expired ones excluded). */
  readonly inUse: number;
  /** Permits free right now by this object's limit: `max(0, limit − inUse)`. */
  readonly available: number;
  /** Every holder, soonest to expire first. */
  readonly holders: readonly SemaphoreHolder[];
  /** Waiters registered to be woken by a release. */
  readonly waiting: number;
  /** The highest fencing token ever minted for this semaphore, or `null` if none was. */
  readonly lastFencingToken: number | null;
}

/** What a semaphore needs from its Locker. @internal */
export interface SemaphoreContext {
  readonly deployment: Deployment;
  readonly prefix: string;
  /** The Locker's lock defaults (their `reentrant` and `fair` are ignored). */
  readonly defaults: LockOptions;
  readonly hooks: LockHooks;
}

/**
 * A counting semaphore over Redis: up to `limit` permits of one name out at once, across every
 * process and client. Get one from `locker.semaphore(name, { limit })`; it is a light front object
 * (no Redis call until you acquire), so making one per use is fine.
 *
 * Every acquisition returns a {@link Lock}: the handle of that hold, with its own token, expiry,
 * auto-renewal, `signal`, `fencingToken`, `extend`, `release` and `await using`.
 *
 * @example
 * ```ts
 * const pool = locker.semaphore('payments-api', { limit: 3, ttl: 10_000 });
 * await pool.withPermit(async (permit) => callPaymentsApi({ signal: permit.signal }));
 * ```
 */
export class Semaphore {
  /** The semaphore's name, as given to the Locker (without prefix). */
  readonly name: string;
  /** The Redis key of its permits, `${prefix}{${name}}:semaphore`. */
  readonly key: string;
  /** How many permits this object lets be out at once. */
  readonly limit: number;
  readonly #context: SemaphoreContext;
  readonly #keys: SemaphoreKeys;
  /** The Locker's defaults under this semaphore's own options: the base of every permit. */
  readonly #permitDefaults: LockOptions;
  readonly #inspectTimeout: number;

  /**
   * @internal Use `Locker.semaphore`.
   * @throws {LockOptionError} for an invalid name, limit (not a positive integer, or above
   *   {@link MAX_SEMAPHORE_LIMIT}) or option.
   */
  constructor(context: SemaphoreContext, name: string, options: SemaphoreOptions) {
    checkLockName(name);
    if (typeof options !== 'object' || options === null) {
      throw new LockOptionError('options', 'a semaphore needs options with a limit: { limit: 3 }.');
    }
    const { limit, ...lockOptions } = options;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0) {
      throw new LockOptionError('limit', `expected a positive integer, got ${describe(limit)}.`);
    }
    if (limit > MAX_SEMAPHORE_LIMIT) {
      throw new LockOptionError(
        'limit',
        `must be at most ${MAX_SEMAPHORE_LIMIT}: each permit is a sorted-set member that one script ` +
          `writes while the server waits, and more would block every client of the server; got ${limit}.`,
      );
    }
    checkPrimitiveOptions('semaphore', lockOptions);
    const { reentrant: _reentrant, fair: _fair, ...lockerDefaults } = context.defaults;
    const resolved = checkPrimitiveReplicas('semaphore', resolveLockOptions(lockerDefaults, lockOptions));
    this.#inspectTimeout = resolved.commandTimeout;
    this.#permitDefaults = { ...lockerDefaults, ...stripUndefined(lockOptions) };
    this.#context = context;
    this.name = name;
    this.key = semaphoreKey(context.prefix, name);
    this.limit = limit;
    this.#keys = [this.key, fencingCounterKey(this.key), semaphoreWaitersKey(this.key)];
  }

  /**
   * A handle for `permits` permits (default 1) of this semaphore, not yet acquired: call
   * `acquire()` on it.
   * @throws {LockOptionError} for an invalid `permits` (not a positive integer, or above the
   *   limit) or option; nothing is sent to Redis.
   */
  createPermit(options?: PermitOptions): Lock {
    const { permits = 1, ...lockOptions } = optionsObject(options) ?? {};
    if (typeof permits !== 'number' || !Number.isSafeInteger(permits) || permits <= 0) {
      throw new LockOptionError('permits', `expected a positive integer, got ${describe(permits)}.`);
    }
    if (permits > this.limit) {
      throw new LockOptionError('permits', `${permits} is more than the limit of ${this.limit}.`);
    }
    checkPrimitiveOptions('semaphore', lockOptions);
    const resolved = checkPrimitiveReplicas(
      'semaphore',
      resolveLockOptions(this.#permitDefaults, lockOptions),
    );
    const { deployment, hooks } = this.#context;
    const shape = { limit: this.limit, permits, options: resolved };
    return new Lock({
      name: this.name,
      key: this.key,
      options: resolved,
      hooks,
      protocol: deployment.semaphorePermit(this.#keys, shape),
    });
  }

  readonly #makePermit: MakeHold<PermitOptions> = (options, oneAttempt) =>
    this.createPermit(oneAttempt ? { ...options, retryCount: 0 } : options);

  /**
   * Takes `options.permits` permits (default 1), waiting and retrying as the options say, and
   * resolves the held {@link Lock}. Pair with `await using` to give them back at the end of the
   * scope.
   * @throws {LockAcquireError} `LOCK_NOT_ACQUIRED` when not enough permits came free in time;
   *   `LOCK_ACQUIRE_ABORTED` when `options.signal` aborts.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async acquire(options?: AcquirePermitOptions): Promise<Lock> {
    return acquireHold(this.#makePermit, options);
  }

  /**
   * One attempt, never waiting: resolves the held {@link Lock}, or `null` when not enough permits
   * are free. Retry options are ignored.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async tryAcquire(options?: AcquirePermitOptions): Promise<Lock | null> {
    return tryAcquireHold(this.#makePermit, options);
  }

  /**
   * Runs `fn` while holding `options.permits` permits (default 1), and gives them back afterwards
   * on every path. `fn` receives the held handle; pass `permit.signal` to work that must stop if
   * the permits are lost. If `fn` throws, that error is rethrown (never a release error in its
   * place). Unlike `withLock`, a nested `withPermit` takes permits of its own.
   * @throws {LockAcquireError} when the permits cannot be had; `fn` is not called.
   */
  async withPermit<T>(fn: (permit: Lock) => Promise<T> | T, options?: AcquirePermitOptions): Promise<T> {
    return withHold(this.#makePermit, fn, options, {
      usage: 'withPermit(fn, options?)',
      lockName: this.name,
    });
  }

  /**
   * What Redis shows about this semaphore, in one round trip: its holders with their permits and
   * remaining time, the permits in use and free, the waiters and the last fencing token.
   * @throws {LockRedisError} when Redis fails.
   */
  async inspect(): Promise<SemaphoreReport> {
    const reading = this.#context.deployment.inspectSemaphore(this.#keys).then(parseSemaphore);
    const state = await withDeadline(reading, this.#inspectTimeout, 'semaphore-inspect');
    return {
      name: this.name,
      key: this.key,
      limit: this.limit,
      inUse: state.inUse,
      available: Math.max(0, this.limit - state.inUse),
      holders: [...state.holders.values()],
      waiting: state.waiting,
      lastFencingToken: state.lastFencingToken,
    };
  }
}

/**
 * The Redis side of one semaphore permit handle on one server (or one Cluster). A release hands
 * free permits to the longest-waiting waiters and tells each on its Locker's `wakeChannel`;
 * without one, waiters poll. @internal
 */
export class SemaphoreProtocol implements HoldProtocol {
  readonly #runner: ScriptRunner;
  readonly #keys: SemaphoreKeys;
  // The keys of the acquire and release scripts: also the waiters by arrival, their hand-off
  // terms and the fencing tokens of permits handed over.
  readonly #waitKeys: readonly string[];
  readonly #limit: number;
  readonly #permits: number;
  readonly #placeTtl: number;
  readonly #bargeBound: number;
  readonly #wakeChannel: WakeChannel | undefined;
  readonly subscribe: Subscribe | undefined;
  readonly keepAliveInterval: number;
  readonly readHandOff = parseHandOff;

  constructor(
    runner: ScriptRunner,
    wakeChannel: WakeChannel | undefined,
    keys: SemaphoreKeys,
    shape: PermitShape,
  ) {
    this.#runner = runner;
    this.#keys = keys;
    const [permitsKey, , waitersKey] = keys;
    this.#waitKeys = [
      ...keys,
      semaphoreArrivalsKey(permitsKey),
      waiterTermsKey(waitersKey),
      semaphoreFencesKey(permitsKey),
    ];
    this.#limit = shape.limit;
    this.#permits = shape.permits;
    this.#placeTtl = queuePlaceTtl(shape.options);
    this.keepAliveInterval = keepAliveInterval(this.#placeTtl);
    this.#bargeBound = bargeBound(shape.options);
    this.#wakeChannel = wakeChannel;
    this.subscribe =
      wakeChannel === undefined ? undefined : (token, listener) => wakeChannel.listen(token, listener);
  }

  acquire({ token, ttl, fencing, mayQueue }: AcquireRequest): Promise<AcquireReply> {
    const placeTtl = mayQueue ? this.#placeTtl : 0;
    const args = [token, ttl, this.#permits, this.#limit, fencing ? 1 : 0, placeTtl, this.#bargeBound];
    const channel = this.#wakeChannel;
    if (mayQueue && channel !== undefined) {
      args.push(0, '');
      return sendQueueingAttempt(this.#runner, SEMAPHORE_ACQUIRE_SCRIPT, this.#waitKeys, args, channel, true);
    }
    return runScript(this.#runner, SEMAPHORE_ACQUIRE_SCRIPT, this.#waitKeys, args, parseAcquireReply);
  }

  release(token: string, _holdCount: number): Promise<ReleaseResult> {
    const args = [token, this.#permits, this.#limit];
    return runScript(this.#runner, SEMAPHORE_RELEASE_SCRIPT, this.#waitKeys, args, releaseResult);
  }

  extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    const args = [token, ms, replace ? 1 : 0, this.#permits];
    return runScript(this.#runner, SEMAPHORE_EXTEND_SCRIPT, [this.#keys[0]], args, extendResult);
  }

  async status(token: string): Promise<HoldStatus> {
    const reply = await runScript(this.#runner, SEMAPHORE_INSPECT_SCRIPT, this.#keys, []);
    const { inUse, holders } = parseSemaphore(reply);
    return { heldByAnyone: inUse > 0, remainingForToken: holders.get(token)?.remaining ?? 0 };
  }
}

/** A semaphore's state, read in one round trip. */
interface SemaphoreState {
  readonly inUse: number;
  /** By token, soonest to expire first. */
  readonly holders: ReadonlyMap<string, SemaphoreHolder>;
  readonly waiting: number;
  readonly lastFencingToken: number | null;
}

/** Reads the semaphore inspect script's reply. */
function parseSemaphore(reply: unknown): SemaphoreState {
  const [now, members, lastFence, waiting] = Array.isArray(reply) ? reply : [];
  const flat: unknown[] = Array.isArray(members) ? members : [];
  const holders = new Map<string, SemaphoreHolder>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    // Members are `<token>:<i>`; a token (a nanoid) never contains ':'.
    const member = String(flat[i]);
    const token = member.slice(0, member.lastIndexOf(':'));
    const remaining = Math.max(0, Number(flat[i + 1]) - Number(now));
    const seen = holders.get(token);
    holders.set(token, {
      token,
      permits: (seen?.permits ?? 0) + 1,
      remaining: Math.min(seen?.remaining ?? remaining, remaining),
    });
  }
  return {
    inUse: flat.length / 2,
    holders,
    waiting: Number(waiting ?? 0),
    lastFencingToken: Number(lastFence) > 0 ? Number(lastFence) : null,
  };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
