/**
 * The ways of holding a lock handle that every primitive shares: acquire-or-throw, one attempt,
 * and run-a-callback-then-release. The mutex's `Locker` methods, the semaphore and the
 * read-write lock all go through these, so they behave the same on every path.
 *
 * @internal
 */
import { LockAcquireError } from '../errors.js';
import { optionsObject } from '../options.js';
import type { Lock } from './lock.js';
import type { WaitOutcome } from './wait.js';

/** Acquires `lock`, waiting as its options say, or throws `LOCK_NOT_ACQUIRED`. */
export async function acquireOrThrow(lock: Lock, signal: AbortSignal | undefined): Promise<Lock> {
  const outcome = await lock.acquireWithOutcome({ signal });
  if (outcome.acquired) return lock;
  throw new LockAcquireError('LOCK_NOT_ACQUIRED', { lockName: lock.name, ...outcome });
}

/** The result of {@link runWhileHeld}: `fn`'s value, or why the hold could not be had. */
export type HeldRun<T> = { acquired: true; value: Awaited<T> } | (WaitOutcome & { acquired: false });

/**
 * Acquires `lock`, runs `fn` with it, and releases it on every path. `fn`'s own error is rethrown
 * as it is (never a release error in its place). `around` wraps the call of `fn` (the Locker
 * uses it to mark the hold in the async call chain).
 */
export async function runWhileHeld<T>(
  lock: Lock,
  fn: (lock: Lock) => T,
  signal: AbortSignal | undefined,
  around: (run: () => T) => T | Promise<Awaited<T>> = (run) => run(),
): Promise<HeldRun<T>> {
  const outcome = await lock.acquireWithOutcome({ signal });
  if (!outcome.acquired) return { ...outcome, acquired: false };
  let value: Awaited<T>;
  try {
    value = await around(() => fn(lock));
  } catch (error) {
    // The callback's error is what the caller needs; a failed release only means the lock
    // expires within its ttl, which its signal and the onLost hook report.
    await lock.releaseIfHeld().catch(() => {});
    throw error;
  }
  await lock.releaseIfHeld();
  return { acquired: true, value };
}

/**
 * Splits the per-call `signal` from lock options. `null` is no options; a non-object is refused
 * here, before destructuring would turn it into no options.
 */
export function withoutSignal<Options extends { signal?: AbortSignal }>(
  options: Options | null | undefined,
): Omit<Options, 'signal'> | undefined {
  const given = optionsObject(options);
  if (given === undefined) return undefined;
  const { signal: _signal, ...rest } = given;
  return rest;
}
