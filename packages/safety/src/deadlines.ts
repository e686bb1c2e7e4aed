/**
 * Time bounds for tests under faults: a deadline on a promise or on every script of a runner, and
 * the moment a lock's signal reports its loss.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Lock, LockLostError, ScriptRunner } from '@lock/core';

/** Rejects when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`command timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * `connectClient` gives node-redis no command timeout, so under a partition its commands would
 * hang forever and the tests would measure the test runner rather than @lock. Racing each script
 * against the same deadline ioredis enforces itself gives both adapters the same "the command
 * failed" outcome. The command itself stays queued in the client, as with any client-side
 * timeout, so it may still run late: exactly the ambiguity fault tests are about. The runner's
 * other capabilities (notifications, `describe`) are kept.
 */
export function withDeadline<R extends ScriptRunner>(runner: R, ms: number): R {
  return { ...runner, run: (script, keys, args) => within(runner.run(script, keys, args), ms) };
}

/** Resolves with the reason and the time once `lock.signal` aborts; the test's timeout bounds it. */
export function lostNotice(lock: Lock): Promise<{ reason: LockLostError; at: number }> {
  return new Promise((resolve) => {
    const done = () => resolve({ reason: lock.signal.reason as LockLostError, at: performance.now() });
    if (lock.signal.aborted) done();
    else lock.signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Starts measuring how late this process's timers run (event-loop delay); `stop()` resolves the
 * largest delay seen, in ms. A test that asserts "the signal fired before the ttl" allows this
 * much on top: on a busy machine a timer cannot fire before the process gets the CPU back, which
 * is the paused-holder limit the README documents, not a fault of the lock.
 */
export function measureTimerLag(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    stop: () => {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}
