/**
 * One lock handle: a name, a unique owner token, and the hold it may have. Created by
 * `Locker.createLock` (not held yet) or returned held by `Locker.acquire`.
 *
 * A handle holds its lock at most once: after its hold ends (released, disposed or lost) it is
 * spent, and a new hold needs a new handle. That keeps `signal` meaningful: it aborts exactly once,
 * when this handle's hold ends.
 */
import { nanoid } from 'nanoid';
import { monotonicNow } from './clock.js';
import { LockLostError, type LockLostReason, LockMisuseError, LockRedisError } from './errors.js';
import { callHook, type LockHooks } from './hooks.js';
import { hasReleaseNotifier } from './notifications.js';
import { checkPositiveInteger, checkSignal, type ResolvedLockOptions } from './options.js';
import type { HoldProtocol, HoldStatus } from './protocol.js';
import { Lease, type RenewalResult } from './renewal.js';
import type { ScriptRunner } from './runner.js';
import { type WaitOutcome, waitForLock } from './wait.js';

/** Per-call options of {@link Lock.acquire}. */
export interface AcquireCallOptions {
  /** Aborting it ends the wait at once with a `LOCK_ACQUIRE_ABORTED` {@link LockAcquireError}. */
  signal?: AbortSignal;
}

/** Options of {@link Lock.extend}. */
export interface ExtendOptions {
  /**
   * `false`: add the ms to the lock's remaining time. `true`: set the remaining time to the ms.
   * @default false
   */
  replace?: boolean;
}

/** Where a handle is in its life. */
export type LockState = 'unlocked' | 'acquiring' | 'held' | 'released' | 'lost';

/** What a lock handle needs from its Locker. @internal */
export interface LockContext {
  readonly runner: ScriptRunner;
  readonly name: string;
  readonly key: string;
  readonly options: ResolvedLockOptions;
  readonly hooks: LockHooks;
  /** The Redis side of the hold: mutex, fair mutex, semaphore permit, read or write hold. */
  readonly protocol: HoldProtocol;
}

/**
 * A distributed lock handle. See the module comment for its life cycle. Semaphore permits and
 * read/write holds are `Lock` handles too: only what they take in Redis differs.
 */
export class Lock implements AsyncDisposable {
  /** The lock's name, as given to the Locker (without prefix). */
  readonly name: string;
  /** The Redis key of the lock. */
  readonly key: string;
  /** This handle's unique owner token; only it can release or extend the hold. */
  readonly token: string = nanoid();
  /** The options in force for this handle, with defaults applied. */
  readonly options: ResolvedLockOptions;

  readonly #runner: ScriptRunner;
  readonly #hooks: LockHooks;
  readonly #protocol: HoldProtocol;
  // Made on first read of `signal`: most holds end in a plain release nobody listens for, and an
  // AbortController plus an error with a stack per lock was the largest cost of a fast lock.
  #lifetime: AbortController | undefined;
  #endReason: { readonly reason: LockLostReason; readonly cause: unknown } | undefined;
  #state: LockState = 'unlocked';
  #holdCount = 0;
  #fencingToken: number | undefined;
  // The last attempt left this token waiting in a queue in Redis (fair lock): giving up must
  // leave it, or the waiters behind it would wait for the place to lapse.
  #queued = false;
  #lease: Lease | undefined;
  // Clean-up of an abandoned or failed acquire (its in-flight attempt, then a release with this
  // handle's token). A new acquire on this handle waits for it, or the late release could delete
  // the new hold, which uses the same token.
  #cleanup: Promise<void> | undefined;

  /** @internal Use `Locker.createLock` or `Locker.acquire`. */
  constructor(context: LockContext) {
    this.#runner = context.runner;
    this.#hooks = context.hooks;
    this.#protocol = context.protocol;
    this.name = context.name;
    this.key = context.key;
    this.options = context.options;
  }

  /**
   * The fencing token of this hold: an integer that strictly increases with every hold of this
   * lock name, across all clients. Send it with each write to a store that keeps the highest token
   * it has seen and rejects lower ones, so that a holder that lost the lock (GC pause, network
   * partition) cannot overwrite a newer holder's work. `undefined` before the lock is held, or
   * with `fencing: false`.
   */
  get fencingToken(): number | undefined {
    return this.#fencingToken;
  }

  /**
   * Aborted when this handle's hold ends, with a {@link LockLostError} as `reason` whose
   * `reason` field says why: `released`, or `expired`/`taken`/`unreachable` when the lock was lost.
   * Pass it to work that must stop when the lock is no longer held.
   */
  get signal(): AbortSignal {
    if (this.#lifetime === undefined) {
      this.#lifetime = new AbortController();
      const ended = this.#endReason;
      if (ended !== undefined) {
        this.#lifetime.abort(new LockLostError(this.name, ended.reason, { cause: ended.cause }));
      }
    }
    return this.#lifetime.signal;
  }

  /** Where the handle is in its life. */
  get state(): LockState {
    return this.#state;
  }

  /** True while this handle believes it holds the lock (it has not been told otherwise). */
  get isHeld(): boolean {
    return this.#state === 'held';
  }

  /** How many times this handle has entered the lock (above 1 only for reentrant locks). */
  get holdCount(): number {
    return this.#holdCount;
  }

  /**
   * Takes the lock, retrying as the options say. Resolves `true` when held, `false` when every
   * allowed attempt found it held elsewhere. On a reentrant lock already held by this handle,
   * enters it once more and refreshes its expiry.
   *
   * @throws {LockAcquireError} `LOCK_ACQUIRE_ABORTED` when `signal` aborts the wait.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockMisuseError} when the handle is spent, already acquiring, or already holds a
   *   non-reentrant lock.
   */
  async acquire(callOptions: AcquireCallOptions = {}): Promise<boolean> {
    return (await this.acquireWithOutcome(callOptions)).acquired;
  }

  /** @internal `acquire()`, also telling how many attempts it took and how long it waited. */
  async acquireWithOutcome(callOptions: AcquireCallOptions = {}): Promise<WaitOutcome> {
    checkSignal(callOptions.signal);
    this.#assertNotSpent('acquire');
    if (this.#state === 'acquiring') {
      throw new LockMisuseError(`Lock "${this.name}" is already being acquired by this handle.`);
    }
    if (this.#state === 'held') {
      return { acquired: await this.#reenter(), attempts: 1, waited: 0 };
    }

    this.#state = 'acquiring';
    let sentAt = 0;
    let outcome: WaitOutcome;
    const runner = this.#runner;
    try {
      await this.#cleanup;
      outcome = await waitForLock({
        lockName: this.name,
        options: this.options,
        signal: callOptions.signal,
        attempt: async (mayRetry) => {
          sentAt = monotonicNow();
          return this.#attemptAcquire(1, mayRetry);
        },
        onAbandonedAttempt: (attempt) => this.#releaseInBackground(attempt),
        subscribeToReleases: hasReleaseNotifier(runner)
          ? (listener) => runner.subscribe(this.#protocol.wakeChannel(this.token), listener)
          : undefined,
      });
      if (!outcome.acquired) {
        this.#state = 'unlocked';
        if (this.#queued) this.#releaseInBackground(Promise.resolve(false));
        return outcome;
      }
    } catch (error) {
      this.#state = 'unlocked';
      // A failed call may still have taken the lock in Redis (the reply was lost); the token makes
      // this cleanup safe, and the ttl bounds the lock if the cleanup cannot get through either.
      if (LockRedisError.isInstance(error)) this.#releaseInBackground(Promise.resolve(true));
      else if (this.#queued) this.#releaseInBackground(Promise.resolve(false));
      throw error;
    }
    this.#holdCount = 1;
    this.#state = 'held';
    this.#startLease(sentAt);
    callHook(this.#hooks.onAcquired, { lock: this, waited: outcome.waited, attempts: outcome.attempts });
    return outcome;
  }

  /**
   * Leaves the lock once. Resolves `true` when this handle held it; the key is deleted when the
   * hold count reaches zero (at once for a non-reentrant lock). Resolves `false`, deleting
   * nothing of anyone else's, when the lock was not held by this handle: never acquired, or lost.
   *
   * @throws {LockRedisError} when Redis fails; the handle then counts as lost (its lock expires
   *   within one ttl), and calling `release()` again retries the deletion.
   * @throws {LockMisuseError} when the hold already ended by release or dispose.
   */
  async release(): Promise<boolean> {
    this.#assertNotSpent('release', { allowLost: true });
    if (this.#state === 'lost') {
      await this.#sendRelease(0);
      return false;
    }
    if (this.#state !== 'held') return false;
    return this.#leave(this.#holdCount - 1);
  }

  /**
   * Prolongs the hold: adds `ms` to the remaining time, or with `{ replace: true }` sets the
   * remaining time to `ms`. Resolves `false` when this handle no longer holds the lock (and then
   * marks it lost).
   *
   * @throws {LockOptionError} when `ms` is not a positive integer.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockMisuseError} when the hold already ended by release or dispose.
   */
  async extend(ms: number, extendOptions: ExtendOptions = {}): Promise<boolean> {
    checkPositiveInteger('ms', ms);
    this.#assertNotSpent('extend', { allowLost: true });
    if (this.#state !== 'held') return false;
    const sentAt = monotonicNow();
    const result = await this.#extendInRedis(ms, extendOptions.replace === true);
    if (!result.held) {
      this.#end(result.reason);
      return false;
    }
    this.#lease?.confirm(sentAt, result.ttl);
    callHook(this.#hooks.onExtended, { lock: this, remaining: result.ttl, renewal: false });
    return true;
  }

  /** True when anyone (this handle or another) holds the lock right now. */
  async isLockedByAnyone(): Promise<boolean> {
    return (await this.#status()).heldByAnyone;
  }

  /** True when this handle holds the lock right now, according to Redis. */
  async isLockedByMe(): Promise<boolean> {
    return (await this.#status()).remainingForToken > 0;
  }

  /** Milliseconds until this handle's lock expires in Redis, or 0 when this handle does not hold it. */
  async remainingTime(): Promise<number> {
    return (await this.#status()).remainingForToken;
  }

  /**
   * Releases the lock fully (every re-entry) if this handle holds it; does nothing otherwise.
   * Called by `await using`.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'held') await this.#leave(0);
  }

  /** @internal Releases fully if held; used by `Locker.withLock`. */
  async releaseIfHeld(): Promise<void> {
    await this[Symbol.asyncDispose]();
  }

  async #reenter(): Promise<boolean> {
    if (!this.options.reentrant) {
      throw new LockMisuseError(
        `Lock "${this.name}" is already held by this handle; use reentrant: true to enter it again, or extend() to prolong it.`,
      );
    }
    const sentAt = monotonicNow();
    const target = this.#holdCount + 1;
    const entered = await this.#attemptAcquire(target, false);
    if (this.#state !== 'held') {
      // The hold ended locally (deadline passed) while the re-entry was in flight: the handle is
      // spent, so give back whatever the re-entry refreshed.
      if (entered) this.#releaseInBackground(Promise.resolve(true));
      return false;
    }
    if (!entered) {
      const stillValid = this.#lease !== undefined && monotonicNow() < this.#lease.validUntil;
      this.#end(stillValid ? 'taken' : 'expired');
      return false;
    }
    this.#holdCount = target;
    this.#lease?.confirm(sentAt, this.options.ttl);
    return true;
  }

  async #leave(remainingCount: number): Promise<boolean> {
    const target = Math.max(0, remainingCount);
    if (target === 0) this.#lease?.stop();
    let result: number;
    try {
      result = await this.#sendRelease(target);
    } catch (error) {
      if (target === 0) this.#end('unreachable', error);
      throw error;
    }
    if (result < 0) {
      this.#end('taken');
      return false;
    }
    this.#holdCount = result;
    if (result === 0) this.#end('released');
    return true;
  }

  #startLease(sentAt: number): void {
    const { ttl, autoRenewal, renewalInterval } = this.options;
    this.#lease = new Lease(
      {
        ttl,
        renewalInterval: autoRenewal ? renewalInterval : undefined,
        renew: async () => {
          const result = await this.#extendInRedis(ttl, true);
          if (result.held)
            callHook(this.#hooks.onExtended, { lock: this, remaining: result.ttl, renewal: true });
          return result;
        },
        onRenewalFailed: (error) => callHook(this.#hooks.onRenewalFailed, { lock: this, error }),
        onLost: (reason, cause) => this.#end(reason, cause),
      },
      sentAt,
    );
  }

  /** Ends the hold: stops the lease, marks the state, and aborts the signal. Runs once. */
  #end(reason: LockLostReason, cause?: unknown): void {
    if (this.#state === 'released' || this.#state === 'lost') return;
    this.#lease?.stop();
    this.#lease = undefined;
    this.#holdCount = 0;
    this.#state = reason === 'released' ? 'released' : 'lost';
    this.#endReason = { reason, cause };
    if (reason === 'released') {
      this.#lifetime?.abort(new LockLostError(this.name, reason, { cause }));
      callHook(this.#hooks.onReleased, { lock: this });
      return;
    }
    const error = new LockLostError(this.name, reason, { cause });
    this.#lifetime?.abort(error);
    callHook(this.#hooks.onLost, { lock: this, error });
  }

  #assertNotSpent(operation: string, { allowLost = false } = {}): void {
    if (this.#state === 'released' || (this.#state === 'lost' && !allowLost)) {
      throw new LockMisuseError(
        `Cannot ${operation} lock "${this.name}": this handle's hold has ended (${this.#state}). Create a new lock handle for a new hold.`,
      );
    }
  }

  async #attemptAcquire(holdCount: number, mayQueue: boolean): Promise<boolean> {
    const { ttl, fencing } = this.options;
    const reply = await this.#protocol.acquire({ token: this.token, ttl, holdCount, fencing, mayQueue });
    this.#queued = reply.queued;
    if (reply.acquired) this.#fencingToken = reply.fencingToken;
    return reply.acquired;
  }

  #sendRelease(holdCount: number): Promise<number> {
    this.#queued = false;
    return this.#protocol.release(this.token, holdCount);
  }

  /**
   * Once `attempt` settles, releases what it may have taken, and leaves the queue it may have
   * joined; never rejects.
   */
  #releaseInBackground(attempt: Promise<boolean>): void {
    const previous = this.#cleanup;
    this.#cleanup = (async () => {
      await previous;
      if ((await attempt.catch(() => true)) || this.#queued) await this.#sendRelease(0);
    })().catch(() => {
      // Unreachable Redis: the lock, if it was taken at all, expires within its ttl.
    });
  }

  async #extendInRedis(ms: number, replace: boolean): Promise<RenewalResult> {
    const reply = await this.#protocol.extend(this.token, ms, replace);
    if (reply === -1) {
      // Gone before our own deadline: deleted, flushed or failed over, not expired.
      const stillValid = this.#lease !== undefined && monotonicNow() < this.#lease.validUntil;
      return { held: false, reason: stillValid ? 'taken' : 'expired' };
    }
    if (reply === -2) return { held: false, reason: 'taken' };
    return { held: true, ttl: reply };
  }

  #status(): Promise<HoldStatus> {
    return this.#protocol.status(this.token);
  }
}
