/**
 * Waiting for a lock: the retry loop with backoff, the overall wait budget, and cancellation
 * through an `AbortSignal`, which ends the wait at once even while an attempt is in flight.
 */
import { retryDelayFor } from './backoff.js';
import { monotonicNow } from './clock.js';
import { LockAcquireError } from './errors.js';
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
  /** One acquire attempt: resolves true when the lock was taken. */
  readonly attempt: () => Promise<boolean>;
  /**
   * Called when an attempt the caller stopped waiting for (because the signal aborted) later
   * turns out to have taken the lock, so the lock can be released rather than forgotten.
   */
  readonly onAbandonedAcquire: () => void;
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

  if (signal?.aborted) throw aborted(signal.reason);

  for (;;) {
    attempts += 1;
    const acquired = await raceWithAbort(params.attempt(), signal, params.onAbandonedAcquire).catch(
      (error: unknown) => {
        throw error instanceof AbortedWait ? aborted(error.reason) : error;
      },
    );
    const waited = monotonicNow() - startedAt;
    if (acquired) return { acquired, attempts, waited };

    const retry = attempts;
    const budgetLeft = options.waitTimeout - waited;
    if (retry > options.retryCount || budgetLeft <= 0) return { acquired: false, attempts, waited };

    const delay = Math.min(retryDelayFor(retry, options), budgetLeft);
    try {
      await sleep(delay, signal);
    } catch (error) {
      if (error instanceof AbortedWait) throw aborted(error.reason);
      throw error;
    }
  }
}

/** Internal marker for "the signal aborted while we waited". */
class AbortedWait {
  constructor(readonly reason: unknown) {}
}

function raceWithAbort(
  attempt: Promise<boolean>,
  signal: AbortSignal | undefined,
  onAbandonedAcquire: () => void,
): Promise<boolean> {
  if (signal === undefined) return attempt;
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      reject(new AbortedWait(signal.reason));
      // The attempt is still in flight: if it takes the lock after all, give it back.
      attempt.then(
        (acquired) => {
          if (acquired) onAbandonedAcquire();
        },
        () => {},
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    attempt.then(
      (acquired) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        resolve(acquired);
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedWait(signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedWait(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
