/**
 * One lock handle: a name, a unique owner token, and the hold it may have. Created by
 * `Locker.createLock` (not held yet) or returned held by `Locker.acquire`.
 *
 * A handle holds its lock at most once: after its hold ends (released, disposed or lost) it is
 * spent, and a new hold needs a new handle. That keeps `signal` meaningful: it aborts exactly once,
 * when this handle's hold ends.
 */
import { nanoid } from 'nanoid';
import { clockDrift, monotonicNow } from '../clock.js';
import type {
  AcquireReply,
  HandOff,
  HoldProtocol,
  HoldStatus,
  ReleaseResult,
} from '../deployments/protocol.js';
import {
  LockAcquireError,
  LockLostError,
  type LockLostReason,
  LockMisuseError,
  LockReleasedError,
} from '../errors.js';
import {
  checkPositiveInteger,
  checkSignal,
  optionsObject,
  type ResolvedLockOptions,
  renewalMargin,
} from '../options.js';
import { withDeadline } from './deadline.js';
import { callHook, type LockHooks } from './hooks.js';
import { Lease, type RenewalResult } from './lease.js';
import { type WaitOutcome, WaitStop, waitForLock } from './wait.js';

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

/**
 * What {@link Lock}'s background clean-up is told about the attempt it follows: whether that
 * attempt may have taken the lock (then it is released with this handle's token) or surely took
 * nothing (then only a queue place it may have left is given back).
 */
const TOOK_IT: Promise<boolean> = Promise.resolve(true);
const TOOK_NOTHING: Promise<boolean> = Promise.resolve(false);

const acquiredOf = (outcome: WaitOutcome): boolean => outcome.acquired;
const NOT_RELEASED: Promise<boolean> = Promise.resolve(false);
const reentered = (acquired: boolean): WaitOutcome => ({ acquired, attempts: 1, waited: 0 });

/** Where a handle is in its life. */
export type LockState = 'unlocked' | 'acquiring' | 'held' | 'released' | 'lost';

/** How a hold ended: this handle's release, or one of the ways it can be lost. */
type HoldEnd = 'released' | LockLostReason;

/** What a lock handle needs from its Locker. @internal */
export interface LockContext {
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

  readonly #hooks: LockHooks;
  readonly #protocol: HoldProtocol;
  // Made on first read of `signal`: most holds end in a plain release nobody listens for, so a
  // hold nobody watches pays for no AbortController and no error with a stack.
  #lifetime: AbortController | undefined;
  #endReason: { readonly reason: HoldEnd; readonly cause: unknown } | undefined;
  #state: LockState = 'unlocked';
  #holdCount = 0;
  #fencingToken: number | undefined;
  // The last attempt left this token waiting in a queue in Redis (fair lock): giving up must
  // leave it, or the waiters behind it would wait for the place to lapse.
  #queued = false;
  #lease: Lease | undefined;
  // Clean-up of an abandoned or failed attempt (its in-flight call, then a release with this
  // handle's token). The next attempt on this handle waits for it, or the late release could
  // delete the new hold, which uses the same token.
  #cleanup: Promise<void> | undefined;
  // The acquire in progress (or the last one), and what stops its wait: release() cancels it.
  #acquiring: Promise<WaitOutcome> | undefined;
  #waitStop: WaitStop | undefined;
  // When the attempt that took the lock was sent (or when a release handed it over, on this
  // process's clock): its validity counts from then, for `#acquiredFor` ms.
  #acquiredSentAt = 0;
  #acquiredFor = 0;
  // The least this process's monotonic clock is ahead of the server's clock, from the attempts
  // that found the lock held: `sentAt − serverTime`, since each ran no earlier than it was sent.
  // A hand-off's server time plus this is never later than when the hand-off happened here.
  #serverClockAhead: number | undefined;
  // A release handed the lock to this handle while it waited; the wait takes it when it wakes.
  #handOff:
    | { readonly fencingToken: number | undefined; readonly grantedMs: number; readonly heldFrom: number }
    | undefined;
  // The last of this handle's re-entries and releases, which run one at a time.
  #countChange: Promise<unknown> | undefined;
  // A full release has been sent: what later replies say about the lock is its doing.
  #releaseSent = false;

  /** @internal Use `Locker.createLock` or `Locker.acquire`. */
  constructor(context: LockContext) {
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
   * Aborted when this handle's hold ends, however it ends. Its `reason` is a
   * {@link LockReleasedError} after this handle's own release (the normal end), or a
   * {@link LockLostError} (`expired`, `taken`, `unreachable`) when the lock was lost. Pass it to
   * work that must stop when the lock is no longer held: work still running after a release holds
   * no lock either, so the signal aborts then too.
   *
   * Only a loss is reported as one: it moves the handle to `state: 'lost'` and calls the `onLost`
   * hook, while a release moves it to `'released'` and calls `onReleased`. Code that reacts to the
   * signal and cares only about losses checks `LockLostError.isInstance(lock.signal.reason)`.
   */
  get signal(): AbortSignal {
    if (this.#lifetime === undefined) {
      this.#lifetime = new AbortController();
      const ended = this.#endReason;
      if (ended !== undefined) this.#lifetime.abort(this.#endError(ended.reason, ended.cause));
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
   * `release()` on this handle while it is acquiring cancels the acquire: it rejects with
   * `LOCK_ACQUIRE_ABORTED`, and whatever its attempt took is released.
   *
   * @throws {LockAcquireError} `LOCK_ACQUIRE_ABORTED` when `signal` aborts the wait or `release()`
   *   cancels it.
   * @throws {LockRedisError} when the last attempt failed because Redis failed (`REDIS_ERROR`) or
   *   did not answer in time (`REDIS_TIMEOUT`); earlier failures are retried like a busy lock.
   * @throws {LockMisuseError} when the handle is spent, already acquiring, or already holds a
   *   non-reentrant lock.
   */
  acquire(callOptions?: AcquireCallOptions): Promise<boolean> {
    return this.acquireWithOutcome(callOptions).then(acquiredOf);
  }

  /** @internal `acquire()`, also telling how many attempts it took and how long it waited. */
  // Not `async`, and `acquire` neither: every acquire passes here, and each async layer costs a
  // promise and a suspended frame. Throws become rejections by hand.
  acquireWithOutcome(callOptions?: AcquireCallOptions | null): Promise<WaitOutcome> {
    let signal: AbortSignal | undefined;
    try {
      signal = optionsObject(callOptions)?.signal;
      checkSignal(signal);
      this.#assertNotSpent('acquire');
      if (this.#state === 'acquiring') {
        throw new LockMisuseError(`Lock "${this.name}" is already being acquired by this handle.`);
      }
      if (this.#state === 'held') {
        if (!this.options.reentrant) {
          throw new LockMisuseError(
            `Lock "${this.name}" is already held by this handle; use reentrant: true to enter it again, or extend() to prolong it.`,
          );
        }
        return this.#serialized(() => this.#reenter()).then(reentered);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = 'acquiring';
    // Kept after it settled too: it is only awaited while the state is still 'acquiring'.
    this.#acquiring = this.#acquireFirstEntry(signal);
    return this.#acquiring;
  }

  /**
   * Leaves the lock once. Resolves `true` when this handle held it; the key is deleted when the
   * hold count reaches zero (at once for a non-reentrant lock). Resolves `false`, deleting
   * nothing of anyone else's, when the lock was not held by this handle: never acquired, or lost.
   * Concurrent calls are applied one after the other, each leaving one entry.
   *
   * While this handle is still acquiring, cancels that acquire (which rejects with
   * `LOCK_ACQUIRE_ABORTED`) and resolves `false` once what its attempt took is given back.
   *
   * @throws {LockRedisError} when Redis fails or does not answer within `commandTimeout`; the
   *   handle then counts as lost (its lock expires within one ttl), and calling `release()` again
   *   retries the deletion.
   * @throws {LockMisuseError} when the hold already ended by release or dispose.
   */
  // Not `async`: every release passes here (see acquireWithOutcome).
  release(): Promise<boolean> {
    try {
      this.#assertNotSpent('release', { allowLost: true });
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state === 'acquiring') return this.#cancelAcquire();
    if (this.#state === 'lost') return this.#bounded(this.#sendRelease(0), 'release').then(() => false);
    if (this.#state !== 'held') return NOT_RELEASED;
    return this.#serialized(() => this.#leave(this.#holdCount - 1));
  }

  /**
   * Prolongs the hold: adds `ms` to the remaining time, or with `{ replace: true }` sets the
   * remaining time to `ms`. Resolves `false` when this handle no longer holds the lock (and then
   * marks it lost). Bounded by `commandTimeout` and by the validity the lock has left.
   *
   * @throws {LockOptionError} when `ms` is not a positive integer.
   * @throws {LockRedisError} when Redis fails or does not answer in time; with `replace`, the
   *   handle then counts its validity as if the extend had been applied.
   * @throws {LockMisuseError} when the hold already ended by release or dispose.
   */
  async extend(ms: number, extendOptions?: ExtendOptions): Promise<boolean> {
    checkPositiveInteger('ms', ms);
    const replace = optionsObject(extendOptions)?.replace === true;
    this.#assertNotSpent('extend', { allowLost: true });
    const lease = this.#liveLease();
    if (lease === undefined) return false;
    const ticket = lease.ticket();
    let result: RenewalResult;
    try {
      result = await withDeadline(this.#extendInRedis(ms, replace), this.#timeLeftFor(lease), 'extend');
    } catch (error) {
      lease.unknownOutcome(ticket, ms, replace);
      throw error;
    }
    if (!result.held) {
      // Gone because our own release got there first: that is a release, not a loss.
      if (!this.#releaseSent) this.#end(result.reason);
      return false;
    }
    lease.confirm(ticket, result.ttl);
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
    if (this.#state === 'held') await this.#serialized(() => this.#leave(0));
  }

  /** @internal Releases fully if held; used by `Locker.withLock`. */
  async releaseIfHeld(): Promise<void> {
    await this[Symbol.asyncDispose]();
  }

  async #acquireFirstEntry(signal: AbortSignal | undefined): Promise<WaitOutcome> {
    const stop = new WaitStop(signal);
    this.#waitStop = stop;
    this.#handOff = undefined;
    // A one-attempt wait (tryAcquire) neither subscribes nor is handed the lock.
    const subscribe = this.options.retryCount === 0 ? undefined : this.#protocol.subscribe;
    let outcome: WaitOutcome;
    try {
      outcome = await waitForLock({
        lockName: this.name,
        options: this.options,
        stop,
        attempt: (mayQueue, settleBy) => this.#attemptFirstEntry(mayQueue, settleBy),
        onAbandonedAttempt: (attempt) => this.#releaseInBackground(attempt),
        subscribeToReleases:
          subscribe === undefined
            ? undefined
            : (listener) =>
                subscribe(this.token, (message) => {
                  this.#noteHandOff(message);
                  listener();
                }),
        keepAliveInterval: this.#protocol.keepAliveInterval,
        handedOver: subscribe === undefined ? undefined : () => this.#takeHandOff(),
      });
    } catch (error) {
      this.#state = 'unlocked';
      if (this.#queued) this.#releaseInBackground(TOOK_NOTHING);
      throw error;
    } finally {
      stop.dispose();
      this.#waitStop = undefined;
    }
    if (!outcome.acquired) {
      this.#state = 'unlocked';
      if (this.#queued) this.#releaseInBackground(TOOK_NOTHING);
      return outcome;
    }
    if (stop.stopped) {
      // release() came in after the winning reply but before this continuation ran.
      this.#state = 'unlocked';
      this.#releaseInBackground(TOOK_IT);
      throw new LockAcquireError('LOCK_ACQUIRE_ABORTED', {
        lockName: this.name,
        ...outcome,
        cause: stop.reason,
      });
    }
    this.#holdCount = 1;
    this.#state = 'held';
    this.#startLease(this.#acquiredSentAt, this.#acquiredFor);
    callHook(this.#hooks.onAcquired, { lock: this, waited: outcome.waited, attempts: outcome.attempts });
    return outcome;
  }

  /**
   * One attempt at a first entry, settled by `settleBy` (and within `commandTimeout`, and before
   * a hold it took would already have run out). An attempt whose reply is late or lost may still
   * take the lock, so it is released in the background with this handle's token.
   */
  async #attemptFirstEntry(mayQueue: boolean, settleBy: number): Promise<boolean> {
    const { ttl, fencing, commandTimeout } = this.options;
    const deadline = Math.min(monotonicNow() + Math.min(commandTimeout, ttl - clockDrift(ttl)), settleBy);
    // The clean-up of an earlier attempt uses the same token: it must land before this attempt.
    if (this.#cleanup !== undefined) {
      await withDeadline(this.#cleanup, deadline - monotonicNow(), 'acquire');
    }
    const sentAt = monotonicNow();
    const inFlight = this.#protocol.acquire({ token: this.token, ttl, holdCount: 1, fencing, mayQueue });
    let reply: AcquireReply;
    try {
      reply = await withDeadline(inFlight, deadline - sentAt, 'acquire');
    } catch (error) {
      this.#releaseInBackground(
        inFlight.then(
          (late) => late.acquired || late.queued,
          () => true,
        ),
      );
      throw error;
    }
    this.#queued = reply.queued;
    if (reply.serverTime !== undefined) {
      const ahead = sentAt - reply.serverTime;
      this.#serverClockAhead = Math.max(ahead, this.#serverClockAhead ?? ahead);
    }
    if (reply.acquired) {
      this.#fencingToken = reply.fencingToken;
      this.#acquiredSentAt = sentAt;
      this.#acquiredFor = ttl;
    }
    return reply.acquired;
  }

  /** Keeps a hand-off that a wake-up message announces, for the wait to take when it wakes. */
  #noteHandOff(message: string | undefined): void {
    if (this.#state !== 'acquiring') return;
    const handOff: HandOff | undefined = this.#protocol.readHandOff?.(message);
    const ahead = this.#serverClockAhead;
    // Without a reading of the server's clock the hold's start cannot be placed: the wake-up
    // still makes the waiter try, and its attempt finds the lock its own.
    if (handOff === undefined || ahead === undefined) return;
    // 1 ms earlier: both server readings are whole ms, rounded down.
    const heldFrom = Math.min(monotonicNow(), handOff.serverTime + ahead - 1);
    this.#handOff = { fencingToken: handOff.fencingToken, grantedMs: handOff.grantedMs, heldFrom };
  }

  /**
   * Takes the hold a release handed over, if one did and it is still surely ours (a process that
   * stalled past the claim window has lost it: its next attempt tells); true when it took it.
   */
  #takeHandOff(): boolean {
    const handOff = this.#handOff;
    if (handOff === undefined) return false;
    this.#handOff = undefined;
    const validUntil = handOff.heldFrom + handOff.grantedMs - clockDrift(handOff.grantedMs);
    if (validUntil - monotonicNow() <= renewalMargin(handOff.grantedMs)) return false;
    this.#fencingToken = handOff.fencingToken;
    this.#acquiredSentAt = handOff.heldFrom;
    this.#acquiredFor = handOff.grantedMs;
    return true;
  }

  /** Stops this handle's acquire in progress, then waits for its clean-up (bounded). */
  async #cancelAcquire(): Promise<false> {
    const acquiring = this.#acquiring;
    this.#waitStop?.stop(new LockReleasedError(this.name));
    await acquiring?.catch(() => {});
    const cleanup = this.#cleanup;
    if (cleanup !== undefined) await this.#bounded(cleanup, 'release').catch(() => {});
    return false;
  }

  async #reenter(): Promise<boolean> {
    // The hold may have ended (released or lost) while this re-entry waited for its turn.
    const lease = this.#liveLease();
    if (lease === undefined) return false;
    const { ttl, fencing } = this.options;
    const target = this.#holdCount + 1;
    const ticket = lease.ticket();
    const inFlight = this.#protocol.acquire({
      token: this.token,
      ttl,
      holdCount: target,
      fencing,
      mayQueue: false,
    });
    let reply: AcquireReply;
    try {
      reply = await withDeadline(inFlight, this.#timeLeftFor(lease), 'acquire');
    } catch (error) {
      lease.unknownOutcome(ticket, ttl, true);
      throw error;
    }
    if (this.#state !== 'held') {
      // The hold ended locally (deadline passed) while the re-entry was in flight: the handle is
      // spent, so give back whatever the re-entry refreshed.
      if (reply.acquired) this.#releaseInBackground(TOOK_IT);
      return false;
    }
    if (!reply.acquired) {
      this.#end(monotonicNow() < lease.validUntil ? 'taken' : 'expired');
      return false;
    }
    this.#holdCount = target;
    lease.confirm(ticket, ttl);
    return true;
  }

  async #leave(remainingCount: number): Promise<boolean> {
    // Ended while this release waited for its turn behind another one.
    if (this.#state !== 'held') return false;
    const target = Math.max(0, remainingCount);
    if (target === 0) {
      this.#releaseSent = true;
      this.#lease?.stop();
    }
    let result: ReleaseResult;
    try {
      result = await this.#bounded(this.#sendRelease(target), 'release');
    } catch (error) {
      if (target === 0) this.#end('unreachable', error);
      throw error;
    }
    switch (result.kind) {
      case 'not-held':
        this.#end('taken');
        return false;
      case 'released':
        this.#end('released');
        return true;
      case 'still-held':
        this.#holdCount = result.holdCount;
        return true;
    }
  }

  /**
   * Runs re-entries and releases of this handle one at a time, each seeing the count the previous
   * one left: two concurrent releases of a twice-entered lock must free both entries.
   */
  #serialized<T>(operation: () => Promise<T>): Promise<T> {
    const previous = this.#countChange;
    // The first one (for most handles the only one, their release) runs at once. The chain is
    // never cut: a later one waits one tick on a settled promise, which costs less than a
    // callback on every change to notice that the chain is idle.
    const next = previous === undefined ? operation() : previous.then(operation, operation);
    this.#countChange = next;
    return next;
  }

  /**
   * `sentAt` and `grantedMs`: the hold is surely ours for `grantedMs` from `sentAt`; less than the
   * ttl for a hand-off, which the lease then prolongs to the ttl in time.
   */
  #startLease(sentAt: number, grantedMs: number): void {
    const { ttl, autoRenewal, renewalInterval, commandTimeout } = this.options;
    this.#lease = new Lease(
      {
        ttl,
        renewalInterval: autoRenewal ? renewalInterval : undefined,
        commandTimeout,
        renew: async (deadline) => {
          const renewal = this.#extendInRedis(ttl, true);
          const result = await withDeadline(renewal, deadline, 'extend', { background: true });
          if (result.held)
            callHook(this.#hooks.onExtended, { lock: this, remaining: result.ttl, renewal: true });
          return result;
        },
        onRenewalFailed: (error) => callHook(this.#hooks.onRenewalFailed, { lock: this, error }),
        onLost: (reason, cause) => this.#end(reason, cause),
      },
      sentAt,
      grantedMs,
    );
  }

  /** Ends the hold: stops the lease, marks the state, and aborts the signal. Runs once. */
  #endError(reason: HoldEnd, cause: unknown): LockLostError | LockReleasedError {
    return reason === 'released'
      ? new LockReleasedError(this.name)
      : new LockLostError(this.name, reason, { cause });
  }

  #end(reason: HoldEnd, cause?: unknown): void {
    if (this.#state === 'released' || this.#state === 'lost') return;
    this.#lease?.stop();
    this.#lease = undefined;
    this.#holdCount = 0;
    this.#state = reason === 'released' ? 'released' : 'lost';
    this.#endReason = { reason, cause };
    if (reason === 'released') {
      this.#lifetime?.abort(new LockReleasedError(this.name));
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

  #sendRelease(holdCount: number): Promise<ReleaseResult> {
    this.#queued = false;
    return this.#protocol.release(this.token, holdCount);
  }

  /**
   * The lease of a hold that is still in force and not being released, or `undefined`. A hold
   * whose validity ran out before its deadline timer had its turn (a stalled event loop) is ended
   * as `expired` here: it is no longer surely ours, whatever Redis would say.
   */
  #liveLease(): Lease | undefined {
    const lease = this.#lease;
    if (this.#state !== 'held' || this.#releaseSent || lease === undefined) return undefined;
    if (lease.remaining > 0) return lease;
    this.#end('expired');
    return undefined;
  }

  /** Bounds a call on this handle by `commandTimeout`. */
  #bounded<T>(call: Promise<T>, script: string): Promise<T> {
    return withDeadline(call, this.options.commandTimeout, script);
  }

  /** How long a call on the held lock may take: `commandTimeout`, and no longer than its validity. */
  #timeLeftFor(lease: Lease): number {
    return Math.max(1, Math.min(this.options.commandTimeout, lease.remaining));
  }

  /**
   * Once `attempt` settles (true: it may have taken the lock), releases what it may have taken,
   * and leaves the queue it may have joined; never rejects. Clean-ups run one after the other, and the next attempt of this handle
   * waits for them: a late release must never delete a hold taken with the same token after it.
   */
  #releaseInBackground(attempt: Promise<boolean>): void {
    const previous = this.#cleanup;
    const cleanup = (async () => {
      await previous;
      if ((await attempt.catch(() => true)) || this.#queued) await this.#sendRelease(0);
    })().catch(() => {
      // Unreachable Redis: the lock, if it was taken at all, expires within its ttl.
    });
    this.#cleanup = cleanup;
    void cleanup.then(() => {
      if (this.#cleanup === cleanup) this.#cleanup = undefined;
    });
  }

  async #extendInRedis(ms: number, replace: boolean): Promise<RenewalResult> {
    const result = await this.#protocol.extend(this.token, ms, replace);
    switch (result.kind) {
      case 'extended':
        return { held: true, ttl: result.remaining };
      case 'taken':
        return { held: false, reason: 'taken' };
      case 'gone': {
        // Gone before our own deadline: deleted, flushed or failed over, not expired.
        const stillValid = this.#lease !== undefined && monotonicNow() < this.#lease.validUntil;
        return { held: false, reason: stillValid ? 'taken' : 'expired' };
      }
    }
  }

  #status(): Promise<HoldStatus> {
    return this.#bounded(this.#protocol.status(this.token), 'inspect');
  }
}
