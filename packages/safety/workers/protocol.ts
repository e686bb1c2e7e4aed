/**
 * Messages between the safety tests (parent) and their worker processes, over the IPC channel
 * that `child_process.fork` opens. Every time is µs on CLOCK_MONOTONIC (`monotonicMicros()`), so
 * parent and children can compare them.
 */
import type { HoldInterval } from '@lock/testing';
import type { ClientKind } from '../src/clients.js';

/** Sent by any worker that fails, instead of dying silently. */
export interface WorkerFailed {
  readonly type: 'failed';
  readonly error: string;
}

/** Configuration of `contention-worker.ts`, passed as JSON in argv[2]. */
export interface ContentionConfig {
  readonly url: string;
  readonly kind: ClientKind;
  readonly lockName: string;
  readonly counterKey: string;
  readonly increments: number;
}

export type ToContentionWorker = { readonly type: 'start' };

export type FromContentionWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | {
      readonly type: 'done';
      readonly pid: number;
      readonly intervals: readonly HoldInterval[];
      /** Attempts sent to Redis and ms spent waiting, summed over every acquire. */
      readonly attempts: number;
      readonly waitedMs: number;
      readonly durationMs: number;
      /** Holds whose signal was aborted before the callback ended (none expected). */
      readonly lostDuringHold: number;
    }
  | WorkerFailed;

/**
 * Configuration of `crash-worker.ts`:
 * - `hold`: acquire without renewal, then idle until killed;
 * - `renew`: acquire with auto-renewal, report every renewal, idle until killed;
 * - `block`: acquire without renewal, then on `block` busy-loop synchronously for `blockMs` and
 *   report what the handle says afterwards.
 */
export interface CrashConfig {
  readonly url: string;
  readonly kind: ClientKind;
  readonly lockName: string;
  readonly ttl: number;
  readonly mode: 'hold' | 'renew' | 'block';
  readonly blockMs: number;
}

export type ToCrashWorker = { readonly type: 'block' };

/** What the blocked holder observed after its event loop came back. */
export interface BlockObservations {
  readonly blockStart: number;
  readonly blockEnd: number;
  /** Read synchronously right after the busy loop, before yielding once. */
  readonly abortedWhenUnblocked: boolean;
  readonly stateWhenUnblocked: string;
  /** `lock.extend(ttl)`, sent first thing after the busy loop. */
  readonly extended: boolean;
  readonly abortedAfterExtend: boolean;
  /** The `reason` of the signal's LockLostError after extend, or `null`. */
  readonly lostReason: string | null;
  /** `lock.release()`, sent after extend. */
  readonly released: boolean;
  readonly intervals: readonly HoldInterval[];
}

export type FromCrashWorker =
  | {
      readonly type: 'acquired';
      readonly pid: number;
      readonly key: string;
      readonly token: string;
      readonly fencingToken: number | null;
      /** Just before the acquire was sent, and just after it resolved. */
      readonly sentAt: number;
      readonly confirmedAt: number;
    }
  | { readonly type: 'renewed'; readonly at: number; readonly count: number }
  | ({ readonly type: 'unblocked' } & BlockObservations)
  | WorkerFailed;

/** Configuration of `read-write-worker.ts`. */
export interface ReadWriteConfig {
  readonly url: string;
  readonly kind: ClientKind;
  readonly lockName: string;
  /** Two keys a writer sets to the same new value, one after the other; a reader compares them. */
  readonly dataKeys: readonly [string, string];
  readonly operations: number;
  /** Every `writeEvery`-th operation is a write (offset by `index`); the others are reads. */
  readonly writeEvery: number;
  readonly index: number;
}

export type ToReadWriteWorker = { readonly type: 'start' };

export type FromReadWriteWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | {
      readonly type: 'done';
      readonly pid: number;
      readonly intervals: readonly HoldInterval[];
      readonly reads: number;
      readonly writes: number;
      /** Reads that saw the two data keys differ: a writer ran alongside the reader. */
      readonly tornReads: number;
      /** Holds whose signal was aborted before the callback ended (none expected). */
      readonly lostDuringHold: number;
      /** The longest wait for a write hold, in ms. */
      readonly maxWriteWaitMs: number;
      readonly durationMs: number;
    }
  | WorkerFailed;

/**
 * Configuration of `semaphore-worker.ts`:
 * - `contend`: `acquirers` concurrent loops each take one permit `rounds` times (waiting as
 *   long as it takes), hold it briefly while counting the holders inside in Redis, and release;
 * - `hold`: take one permit without renewal and never release it; report what the handle and
 *   Redis say, then when the permit is lost.
 */
export interface SemaphoreWorkerConfig {
  readonly url: string;
  readonly kind: ClientKind;
  readonly name: string;
  /** The limit this process passes (tests of disagreeing callers give some a larger one). */
  readonly limit: number;
  readonly mode: 'contend' | 'hold';
  readonly ttl: number;
  readonly acquirers: number;
  readonly rounds: number;
  /** A Redis counter of the holders inside, INCR on entry and DECR on exit (`contend`). */
  readonly insideKey: string;
}

export type ToSemaphoreWorker = { readonly type: 'start' };

export type FromSemaphoreWorker =
  | {
      readonly type: 'ready';
      readonly pid: number;
      /** This process's `Date.now()`, skewed or not, and the monotonic time it was read at (µs). */
      readonly wallClock: number;
      readonly at: number;
    }
  | {
      readonly type: 'done';
      readonly pid: number;
      readonly intervals: readonly HoldInterval[];
      /** Attempts sent to Redis, summed over every acquire. */
      readonly attempts: number;
      /** The most holders the Redis counter showed inside at once, as seen on entry. */
      readonly maxInside: number;
      /** Holds whose signal was aborted before the hold ended (none expected). */
      readonly lostDuringHold: number;
      readonly fencingTokens: readonly number[];
    }
  | {
      readonly type: 'held';
      readonly token: string;
      /** Monotonic µs just before the acquire was sent, and just after it resolved. */
      readonly sentAt: number;
      readonly confirmedAt: number;
      /** `permit.remainingTime()` right after acquiring: computed by the server. */
      readonly remaining: number;
    }
  | { readonly type: 'lost'; readonly at: number; readonly reason: string | null }
  | WorkerFailed;
