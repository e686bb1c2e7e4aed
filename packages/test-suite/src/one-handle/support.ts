/** What the modules of the one-handle suite share. */
import {
  type Lock,
  LockAcquireError,
  type Locker,
  type LockerOptions,
  type LockOptions,
  type ScriptRunner,
} from '@lock/core';
import type { ConnectedClient } from '../adapter-under-test.js';
import { elapse } from '../helpers.js';

/** What each module of the one-handle suite registers its tests with. */
export interface OneHandleContext {
  /** The file's main client; set once the file's `beforeAll` ran. */
  readonly client: ConnectedClient;
  /** Sends a raw command through the main client. */
  command(...args: string[]): Promise<unknown>;
  /** A Locker over `runner` (default: the main client's) with the suite's key prefix. */
  newLocker(options?: LockerOptions, runner?: ScriptRunner): Locker;
  /** A Locker over a second client: "another process" as far as the lock can tell. */
  otherLocker(options?: LockerOptions): Locker;
}

/** A promise with its resolve function, for steps that one callback waits for in another. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * Resolves after one pass of the timer phase: every timer already due (a lock's deadline timer)
 * has fired by then. A handle that learns of its loss from its own deadline may learn it in the
 * same instant the lock frees in Redis; that is no overlap, and this lets it happen first.
 */
export function dueTimersFired(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/** How `promise` settled within `ms`: a value, an error, or still pending. */
export async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ value: T } | { error: unknown } | { pending: true }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<{ pending: true }>((resolve) => {
    timer = setTimeout(() => resolve({ pending: true }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The code of a LockAcquireError, or what else `outcome` was, for one readable assertion. */
export function describeOutcome(
  outcome: { value: unknown } | { error: unknown } | { pending: true },
): unknown {
  if ('pending' in outcome) return 'still pending';
  if ('value' in outcome) return { resolved: outcome.value };
  const { error } = outcome;
  return LockAcquireError.isInstance(error) ? { rejected: error.code } : { rejected: String(error) };
}

/** A runner that sends every script of `delayed` names `ms` late (to hold a call in flight). */
export function delayingRunner(
  inner: ScriptRunner,
  delayed: (scriptName: string) => boolean,
  ms: number,
): ScriptRunner {
  return {
    async run(script, keys, args) {
      if (delayed(script.name)) await elapse(ms);
      return inner.run(script, keys, args);
    },
  };
}

/**
 * What each nesting scenario needs from one primitive: its callback style, holders, a contender.
 * Outer and nested calls go through the same Locker: call-chain re-entry is per Locker.
 */
export interface NestingTarget {
  /** Runs `fn` under the hold (withLock, withWrite or withRead). */
  run(
    fn: (lock: Lock) => Promise<void>,
    options?: Pick<LockOptions, 'retryCount' | 'retryDelay'>,
  ): Promise<void>;
  /** The tokens Redis shows holding it right now. */
  holders(): Promise<string[]>;
  /** Another client taking it in a mode that excludes the hold under test, or `null`. */
  contend(): Promise<Lock | null>;
}
