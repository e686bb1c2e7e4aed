/**
 * Waiting for a lock: the retry loop with backoff, the overall wait budget, cancellation (an
 * `AbortSignal`, or the handle's own `release()`), which ends the wait at once even while an
 * attempt is in flight, and wake-up on release notifications where the runner offers them, with
 * jittered polling as the fallback and until the subscription is confirmed.
 */

import { monotonicNow } from '../clock.js';
import { LockAcquireError, LockRedisError } from '../errors.js';
import { type ResolvedLockOptions, WAIT_TIMEOUT_MARGIN } from '../options.js';
import type { Unsubscribe } from '../port/capabilities.js';
import { retryDelayFor } from './backoff.js';
import { MAX_TIMER_MS } from './deadline.js';

/** How a wait ended, when it was not aborted. */
export interface WaitOutcome {
  readonly acquired: boolean;
  /** Attempts sent to Redis. */
  readonly attempts: number;
  /** Time spent, in ms. */
  readonly waited: number;
}

export interface WaitParams {
  readonly lockName: string;
  readonly options: ResolvedLockOptions;
  /** Ends the wait: the caller's signal, or the handle's own `release()`. */
  readonly stop: WaitStop;
  /**
   * One acquire attempt: resolves true when the lock was taken. `mayQueue` is false for an attempt
   * after which the wait surely ends (a fair lock then does not queue). `settleBy` is the
   * monotonic time by which the attempt must have settled: the attempt rejects with a
   * `REDIS_TIMEOUT` {@link LockRedisError} when Redis has not answered by then.
   */
  readonly attempt: (mayQueue: boolean, settleBy: number) => Promise<boolean>;
  /**
   * Called with the attempt that was in flight when the wait was stopped: it may still take the
   * lock, which must then be released rather than forgotten.
   */
  readonly onAbandonedAttempt: (attempt: Promise<boolean>) => void;
  /**
   * Subscribes to this lock's release notifications, when the runner offers them; resolves once
   * the subscription is confirmed.
   */
  readonly subscribeToReleases?: (listener: () => void) => Promise<Unsubscribe>;
  /**
   * True once a release has handed the lock to this waiter (its wake-up said so): the wait then
   * ends acquired without another attempt. Asked whenever the waiter wakes or an attempt failed.
   */
  readonly handedOver?: () => boolean;
  /**
   * How long the wait may sleep between attempts once the subscription is confirmed, when a
   * release wakes this waiter itself (its own wake channel): the attempts then only renew its
   * place and cover a lost wake-up. Without it the wait keeps polling at `retryDelay`.
   */
  readonly keepAliveInterval?: number;
}

/**
 * Runs attempts until one acquires, or the retries (`retryCount + 1` attempts in all) or the wait
 * budget run out, or the wait is stopped (rejects with a `LOCK_ACQUIRE_ABORTED` error). Settles
 * at the latest 200 ms after `waitTimeout`.
 *
 * An attempt that fails because Redis failed or did not answer is retried like one that found the
 * lock held: a failover of a few seconds must not fail every waiter that has budget left. When
 * the wait ends and its last attempt had failed that way, that {@link LockRedisError} is thrown,
 * so the caller can tell "Redis failed" from "held elsewhere" (`acquired: false`).
 *
 * The release subscription is made in the background after the first failed attempt and never
 * delays an attempt: until it is confirmed (or if it never is) the wait polls. Once it is
 * confirmed, a waiter with a `keepAliveInterval` sleeps until woken or for that long.
 *
 * A wait of one attempt (`retryCount: 0`) sends it and returns: it never sleeps or subscribes.
 */
export function waitForLock(params: WaitParams): Promise<WaitOutcome> {
  return params.options.retryCount === 0 ? attemptOnce(params) : waitWithRetries(params);
}

/**
 * A wait of one attempt (`retryCount: 0`): sends it and returns; it never sleeps or subscribes.
 * Not `async`: this is every `tryAcquire`'s path.
 */
function attemptOnce(params: WaitParams): Promise<WaitOutcome> {
  const { stop, lockName } = params;
  const startedAt = monotonicNow();
  const outcome = (acquired: boolean): WaitOutcome => ({
    acquired,
    attempts: 1,
    waited: monotonicNow() - startedAt,
  });
  if (stop.stopped) {
    return Promise.reject(aborted(lockName, { acquired: false, attempts: 0, waited: 0 }, stop.reason));
  }
  const settleBy = startedAt + params.options.waitTimeout + WAIT_TIMEOUT_MARGIN;
  return raceWithStop(params.attempt(false, settleBy), stop, params.onAbandonedAttempt).then(
    outcome,
    (error: unknown) => {
      throw error instanceof AbortedWait ? aborted(lockName, outcome(false), error.reason) : error;
    },
  );
}

async function waitWithRetries(params: WaitParams): Promise<WaitOutcome> {
  const { options, stop } = params;
  const startedAt = monotonicNow();
  const budgetEnd = startedAt + options.waitTimeout;
  const settleBy = budgetEnd + WAIT_TIMEOUT_MARGIN;
  let attempts = 0;
  const outcome = (acquired: boolean): WaitOutcome => ({
    acquired,
    attempts,
    waited: monotonicNow() - startedAt,
  });
  if (stop.stopped) throw aborted(params.lockName, outcome(false), stop.reason);

  const doorbell = new Doorbell();
  let unsubscribe: Unsubscribe | undefined;
  // The last attempt failed because of Redis (not because the lock was held).
  let lastFailure: LockRedisError | undefined;
  try {
    for (let retry = 0; ; retry += 1) {
      const mayQueue = retry < options.retryCount && monotonicNow() < budgetEnd;
      if (stop.stopped) throw new AbortedWait(stop.reason);
      attempts += 1;
      const attempt = params.attempt(mayQueue, settleBy);
      try {
        const acquired = await raceWithStop(attempt, stop, params.onAbandonedAttempt);
        if (acquired) return outcome(true);
        lastFailure = undefined;
      } catch (error) {
        if (!LockRedisError.isInstance(error)) throw error;
        lastFailure = error;
      }
      // Handed over while that attempt (which ran before the release) was on its way back.
      if (params.handedOver?.()) return outcome(true);
      if (!mayQueue) break;
      // The attempt may have used up the budget: then the wait ends without subscribing.
      const budgetLeft = budgetEnd - monotonicNow();
      if (budgetLeft <= 0) break;
      unsubscribe ??= subscribeInBackground(params, doorbell);
      const sleep =
        doorbell.subscribed && params.keepAliveInterval !== undefined
          ? params.keepAliveInterval
          : retryDelayFor(retry + 1, options);
      await doorbell.wait(Math.min(sleep, budgetLeft), stop);
      if (params.handedOver?.()) return outcome(true);
    }
  } catch (error) {
    throw error instanceof AbortedWait ? aborted(params.lockName, outcome(false), error.reason) : error;
  } finally {
    unsubscribe?.();
  }
  if (lastFailure !== undefined) throw lastFailure;
  return outcome(false);
}

function aborted(lockName: string, outcome: WaitOutcome, cause: unknown): LockAcquireError {
  return new LockAcquireError('LOCK_ACQUIRE_ABORTED', {
    lockName,
    attempts: outcome.attempts,
    waited: outcome.waited,
    cause,
  });
}

/**
 * Starts the release subscription without waiting for it: the doorbell rings for every release
 * once it is confirmed. Returns what drops it, also if it is confirmed only after the wait ended.
 */
function subscribeInBackground(params: WaitParams, doorbell: Doorbell): Unsubscribe | undefined {
  const subscribe = params.subscribeToReleases;
  if (subscribe === undefined) return undefined;
  let unsubscribe: Unsubscribe | undefined;
  let dropped = false;
  const confirmed = (drop: Unsubscribe) => {
    if (dropped) {
      drop();
      return;
    }
    unsubscribe = drop;
    doorbell.subscribed = true;
  };
  try {
    subscribe(() => doorbell.ring()).then(confirmed, () => {
      // No notifications: the wait polls.
    });
  } catch {
    return undefined;
  }
  return () => {
    dropped = true;
    unsubscribe?.();
  };
}

/**
 * What ends a wait early: the caller's `AbortSignal`, or `stop()` (the handle's own `release()`).
 * Made once per acquire; the signal's listener is removed by `dispose()`.
 */
export class WaitStop {
  #stopped = false;
  #reason: unknown;
  // A wait does one thing at a time (an attempt, or a sleep), so one listener is the rule; more
  // are kept in a set made only then.
  #listener: (() => void) | undefined;
  #moreListeners: Set<() => void> | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onSignal: (() => void) | undefined;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.#stopped = true;
      this.#reason = signal.reason;
      return;
    }
    this.#onSignal = () => this.stop(signal.reason);
    signal.addEventListener('abort', this.#onSignal, { once: true });
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Ends the wait with `reason` as the `cause` of its `LOCK_ACQUIRE_ABORTED` error. */
  stop(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reason = reason;
    const listener = this.#listener;
    const more = this.#moreListeners;
    this.#listener = undefined;
    this.#moreListeners = undefined;
    listener?.();
    for (const other of more ?? []) other();
  }

  /** Calls `listener` once when the wait is stopped, unless {@link WaitStop.offStop} comes first. */
  onStop(listener: () => void): void {
    if (this.#listener === undefined) {
      this.#listener = listener;
      return;
    }
    this.#moreListeners ??= new Set();
    this.#moreListeners.add(listener);
  }

  /** Removes a listener given to {@link WaitStop.onStop}. */
  offStop(listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
    else this.#moreListeners?.delete(listener);
  }

  /** Detaches from the caller's signal. */
  dispose(): void {
    if (this.#onSignal !== undefined) this.#signal?.removeEventListener('abort', this.#onSignal);
  }
}

/**
 * Wakes a sleeping waiter early. A ring that comes while nobody sleeps (an attempt is in flight)
 * is kept, so the next sleep returns at once: a release notification is never lost that way.
 */
class Doorbell {
  /** The subscription that rings it is confirmed: a release is no longer missed. */
  subscribed = false;
  #rung = false;
  #wake: (() => void) | undefined;

  ring(): void {
    if (this.#wake === undefined) this.#rung = true;
    else this.#wake();
  }

  /** Resolves after `ms`, or at once when rung; rejects with `AbortedWait` when `stop` stops. */
  wait(ms: number, stop: WaitStop): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (stop.stopped) {
        reject(new AbortedWait(stop.reason));
        return;
      }
      if (this.#rung) {
        this.#rung = false;
        resolve();
        return;
      }
      const onStop = () => {
        finish();
        reject(new AbortedWait(stop.reason));
      };
      const finish = () => {
        clearTimeout(timer);
        stop.offStop(onStop);
        this.#wake = undefined;
      };
      stop.onStop(onStop);
      // Not unref'd: the caller is waiting for this acquire, so it keeps the process alive.
      const timer = setTimeout(
        () => {
          finish();
          resolve();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      this.#wake = () => {
        finish();
        resolve();
      };
    });
  }
}

/** Internal marker for "the signal aborted while we waited". */
class AbortedWait {
  constructor(readonly reason: unknown) {}
}

/**
 * Settles with `operation`, or rejects with `AbortedWait` as soon as `stop` stops; then
 * `onAbandoned` is called so the caller can clean up after the operation that is still running.
 */
function raceWithStop<T>(
  operation: Promise<T>,
  stop: WaitStop,
  onAbandoned: (operation: Promise<T>) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onStop = () => {
      if (settled) return;
      settled = true;
      reject(new AbortedWait(stop.reason));
      onAbandoned(operation);
    };
    stop.onStop(onStop);
    operation.then(
      (value) => {
        stop.offStop(onStop);
        if (settled) return;
        settled = true;
        resolve(value);
      },
      (error: unknown) => {
        stop.offStop(onStop);
        if (settled) return;
        settled = true;
        reject(error);
      },
    );
  });
}
