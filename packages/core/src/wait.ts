/**
 * Waiting for a lock: the retry loop with backoff, the overall wait budget, cancellation through
 * an `AbortSignal` (which ends the wait at once even while an attempt is in flight), and wake-up
 * on release notifications where the runner offers them, with jittered polling as the fallback.
 */
import { retryDelayFor } from './backoff.js';
import { monotonicNow } from './clock.js';
import { LockAcquireError } from './errors.js';
import type { Unsubscribe } from './notifications.js';
import type { ResolvedLockOptions } from './options.js';

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
  readonly signal: AbortSignal | undefined;
  /**
   * One acquire attempt: resolves true when the lock was taken. `mayRetry` is false for the last
   * attempt the retry count allows (a fair lock then does not queue).
   */
  readonly attempt: (mayRetry: boolean) => Promise<boolean>;
  /**
   * Called with the attempt that was in flight when the signal aborted: it may still take the
   * lock, which must then be released rather than forgotten.
   */
  readonly onAbandonedAttempt: (attempt: Promise<boolean>) => void;
  /**
   * Subscribes to this lock's release notifications, when the runner offers them; resolves once
   * the subscription is confirmed.
   */
  readonly subscribeToReleases?: (listener: () => void) => Promise<Unsubscribe>;
}

/**
 * Runs attempts until one acquires, the retries or the wait budget run out (resolves with
 * `acquired: false`), or the signal aborts (rejects with a `LOCK_ACQUIRE_ABORTED` error).
 * An attempt that fails with an error (e.g. Redis unreachable) rejects at once: retries are for
 * a lock held elsewhere, not for a broken connection, which the client already retries.
 */
export async function waitForLock(params: WaitParams): Promise<WaitOutcome> {
  const { options, signal } = params;
  const startedAt = monotonicNow();
  let attempts = 0;
  const aborted = (cause: unknown) =>
    new LockAcquireError('LOCK_ACQUIRE_ABORTED', {
      lockName: params.lockName,
      attempts,
      waited: monotonicNow() - startedAt,
      cause,
    });
  const attemptOnce = async (mayRetry: boolean) => {
    // Never send an attempt after the caller gave up, even one that was already planned.
    if (signal?.aborted) throw new AbortedWait(signal.reason);
    attempts += 1;
    const attempt = params.attempt(mayRetry);
    return raceWithAbort(attempt, signal, () => params.onAbandonedAttempt(attempt));
  };
  const subscribe = async (): Promise<Unsubscribe | undefined> => {
    if (params.subscribeToReleases === undefined) return undefined;
    const subscribing = params.subscribeToReleases(() => doorbell.ring());
    // A subscription that completes after an abort is dropped at once.
    const abandon = () =>
      void subscribing.then(
        (unsubscribe) => unsubscribe(),
        () => {},
      );
    return raceWithAbort(subscribing, signal, abandon).catch((error: unknown) => {
      if (error instanceof AbortedWait) throw error;
      return undefined; // no notifications: poll
    });
  };

  if (signal?.aborted) throw aborted(signal.reason);
  const doorbell = new Doorbell();
  let unsubscribe: Unsubscribe | undefined;
  try {
    if (await attemptOnce(options.retryCount > 0)) {
      return { acquired: true, attempts, waited: monotonicNow() - startedAt };
    }
    for (let retry = 1; retry <= options.retryCount; retry += 1) {
      if (unsubscribe === undefined && params.subscribeToReleases !== undefined) {
        // Subscribe first, then try once more at once: a release that happened between the failed
        // attempt and the subscription is caught by that attempt, and any later one rings.
        unsubscribe = await subscribe();
        if (unsubscribe !== undefined && (await attemptOnce(true))) {
          return { acquired: true, attempts, waited: monotonicNow() - startedAt };
        }
      }
      const budgetLeft = options.waitTimeout - (monotonicNow() - startedAt);
      if (budgetLeft <= 0) break;
      await doorbell.wait(Math.min(retryDelayFor(retry, options), budgetLeft), signal);
      if (await attemptOnce(retry < options.retryCount)) {
        return { acquired: true, attempts, waited: monotonicNow() - startedAt };
      }
    }
    return { acquired: false, attempts, waited: monotonicNow() - startedAt };
  } catch (error) {
    throw error instanceof AbortedWait ? aborted(error.reason) : error;
  } finally {
    unsubscribe?.();
  }
}

/**
 * Wakes a sleeping waiter early. A ring that comes while nobody sleeps (an attempt is in flight)
 * is kept, so the next sleep returns at once: a release notification is never lost that way.
 */
class Doorbell {
  #rung = false;
  #wake: (() => void) | undefined;

  ring(): void {
    if (this.#wake === undefined) this.#rung = true;
    else this.#wake();
  }

  /** Resolves after `ms`, or at once when rung; rejects with `AbortedWait` when `signal` aborts. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AbortedWait(signal.reason));
        return;
      }
      if (this.#rung) {
        this.#rung = false;
        resolve();
        return;
      }
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#wake = undefined;
      };
      const onAbort = () => {
        finish();
        reject(new AbortedWait(signal?.reason));
      };
      const timer = setTimeout(() => {
        finish();
        resolve();
      }, ms);
      this.#wake = () => {
        finish();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Internal marker for "the signal aborted while we waited". */
class AbortedWait {
  constructor(readonly reason: unknown) {}
}

/**
 * Settles with `operation`, or rejects with `AbortedWait` as soon as `signal` aborts; then
 * `onAbandoned` is called so the caller can clean up after the operation that is still running.
 */
function raceWithAbort<T>(
  operation: Promise<T>,
  signal: AbortSignal | undefined,
  onAbandoned: () => void,
): Promise<T> {
  if (signal === undefined) return operation;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      reject(new AbortedWait(signal.reason));
      onAbandoned();
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    operation.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        reject(error);
      },
    );
  });
}
