/**
 * The front every primitive shares: acquire-or-throw, one attempt, and run-a-callback-then-
 * release, over a {@link MakeHold} that makes the primitive's handles. The mutex's `Locker`
 * methods, the semaphore and the read-write lock all go through it, so they behave the same on
 * every path.
 *
 * @internal
 */
import { LockAcquireError, LockOptionError } from '../errors.js';
import { optionsObject } from '../options.js';
import type { CallChainLocks } from './call-chain-locks.js';
import type { Lock } from './lock.js';
import type { WaitOutcome } from './wait.js';

/** Per-call options of a front method: lock options and the call's own `signal`. */
export type WithSignal = { signal?: AbortSignal };

/**
 * Makes the handle of one hold, not yet acquired, from per-call options (the signal already
 * split off). `oneAttempt` for `tryAcquire`: the handle makes one attempt and never queues.
 * Throws a {@link LockOptionError} for an invalid option, before anything is sent to Redis.
 */
export type MakeHold<Options> = (options: Options | undefined, oneAttempt: boolean) => Lock;

/** Makes a handle and acquires it, waiting as its options say, or throws `LOCK_NOT_ACQUIRED`. */
export function acquireHold<Given extends WithSignal>(
  make: MakeHold<Omit<Given, 'signal'>>,
  options: Given | null | undefined,
): Promise<Lock> {
  return acquireOrThrow(make(withoutSignal(options), false), options?.signal);
}

/** Makes a handle and tries once: resolves it held, or `null` when the hold is taken elsewhere. */
export async function tryAcquireHold<Given extends WithSignal>(
  make: MakeHold<Omit<Given, 'signal'>>,
  options: Given | null | undefined,
): Promise<Lock | null> {
  const lock = make(withoutSignal(options), true);
  // `acquire` reads only the signal of what it is given.
  return (await lock.acquire(options ?? undefined)) ? lock : null;
}

/** How {@link runHold} runs a callback. */
export interface RunHoldOptions {
  /** The call as documented, for the error when `fn` is not a function: `withLock(name, fn, options?)`. */
  readonly usage: string;
  /**
   * Holds by async call chain: a call nested in a hold of the same `chainName` runs inside it
   * instead of waiting for it. `undefined` with `asyncReentrancy: false`.
   */
  readonly callChain?: CallChainLocks | undefined;
  readonly chainName?: string;
  /** Throws when the nested call cannot run inside `outer` (a write inside a read). */
  readonly checkNested?: (outer: Lock) => void;
}

/**
 * Makes a handle, acquires it, runs `fn` with it and releases it on every path (see
 * {@link runWhileHeld}); nested in a hold of the same call chain, runs `fn` within that hold.
 */
export async function runHold<Given extends WithSignal, T>(
  make: MakeHold<Omit<Given, 'signal'>>,
  fn: (lock: Lock) => T,
  options: Given | null | undefined,
  how: RunHoldOptions,
): Promise<HeldRun<T>> {
  if (typeof fn !== 'function') throw new LockOptionError('fn', `${how.usage} needs a function to run.`);
  const lock = make(withoutSignal(options), false);
  const { callChain, chainName } = how;
  const outer = chainName === undefined ? undefined : callChain?.held(chainName);
  if (callChain !== undefined && outer !== undefined) {
    how.checkNested?.(outer.lock);
    return { acquired: true, value: await callChain.runNested(outer, () => fn(outer.lock)) };
  }
  return runWhileHeld(
    lock,
    fn,
    options?.signal,
    callChain === undefined ? undefined : (run) => callChain.runHolding(lock, run),
  );
}

/** {@link runHold}, throwing `LOCK_NOT_ACQUIRED` when the hold could not be had. */
export async function withHold<Given extends WithSignal, T>(
  make: MakeHold<Omit<Given, 'signal'>>,
  fn: (lock: Lock) => T,
  options: Given | null | undefined,
  how: RunHoldOptions & { readonly lockName: string },
): Promise<Awaited<T>> {
  const outcome = await runHold(make, fn, options, how);
  if (!outcome.acquired)
    throw new LockAcquireError('LOCK_NOT_ACQUIRED', { lockName: how.lockName, ...outcome });
  return outcome.value;
}

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
