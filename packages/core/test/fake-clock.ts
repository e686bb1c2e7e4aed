import { vi } from 'vitest';

/**
 * Fakes the timers and `performance.now()` (what `monotonicNow()` reads), so that the clock moves
 * only when a test advances it and every deadline lands on an exact ms.
 */
export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
}

/** Runs the microtasks queued so far (and their follow-ups) without moving the clock. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** A promise with its settle functions, for replies a test sends when it chooses. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** How a promise has settled so far, readable at any point of a test. */
export interface Tracked<T> {
  readonly state: 'pending' | 'resolved' | 'rejected';
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Follows `promise` without leaving a rejection unhandled. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: { state: Tracked<T>['state']; value: T | undefined; error: unknown } = {
    state: 'pending',
    value: undefined,
    error: undefined,
  };
  promise.then(
    (value) => {
      tracked.state = 'resolved';
      tracked.value = value;
    },
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}
