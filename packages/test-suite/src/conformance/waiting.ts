/** Waiting and retries: attempts, the wait budget, jitter and cancellation. */
import { LockAcquireError, type LockError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { recordingRunner, uniqueName, waitFor } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeWaiting(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe('waiting and retries', () => {
    it('retries until the holder releases', async () => {
      const locker = newLocker({ retryCount: 50, retryDelay: 20 });
      const name = uniqueName('retry');
      const holder = await locker.acquire(name);
      setTimeout(() => void holder.release(), 100);
      const waiter = await locker.acquire(name);
      expect(await waiter.isLockedByMe()).toBe(true);
      await waiter.release();
    });

    it('makes exactly 1 + retryCount attempts, then fails with LOCK_NOT_ACQUIRED', async () => {
      const name = uniqueName('exhaust');
      const holder = await newLocker().acquire(name);
      const recorder = recordingRunner(ctx.client.runner);
      const error = await newLocker({ retryCount: 3, retryDelay: 10 }, recorder)
        .acquire(name)
        .catch((caught: unknown) => caught);
      expect(LockAcquireError.isInstance(error)).toBe(true);
      expect((error as LockAcquireError).code).toBe('LOCK_NOT_ACQUIRED');
      expect((error as LockAcquireError).attempts).toBe(4);
      expect(recorder.calls).toEqual(['acquire', 'acquire', 'acquire', 'acquire']);
      await holder.release();
    });

    it('honours the overall wait budget (waitTimeout) with unlimited retries', async () => {
      const name = uniqueName('budget');
      const holder = await newLocker().acquire(name);
      const started = performance.now();
      const error = await newLocker({ waitTimeout: 300, retryDelay: 20 })
        .acquire(name)
        .catch((caught: unknown) => caught);
      const waited = performance.now() - started;
      expect((error as LockError).code).toBe('LOCK_NOT_ACQUIRED');
      // Retries go on until the budget is spent, though a waiter woken by releases polls slowly.
      expect((error as LockAcquireError).attempts).toBeGreaterThan(1);
      expect(waited).toBeGreaterThanOrEqual(280);
      expect(waited).toBeLessThan(2_000);
      await holder.release();
    });

    it('spreads retries with jitter: waiters do not retry in lockstep', async () => {
      const name = uniqueName('jitter');
      const holder = await newLocker().acquire(name);
      const attemptTimes: number[][] = [[], []];
      const waiters = attemptTimes.map((times) => {
        const recorder = recordingRunner(ctx.client.runner);
        recorder.onSettled = () => times.push(performance.now());
        return newLocker({ retryCount: 5, retryDelay: 40, retryJitter: 30 }, recorder)
          .acquire(name)
          .catch(() => null);
      });
      await Promise.all(waiters);
      const [first, second] = attemptTimes as [number[], number[]];
      const gaps = first.slice(1).map((time, index) => Math.abs(time - (second[index + 1] ?? time)));
      expect(gaps.some((gap) => gap > 2)).toBe(true);
      await holder.release();
    });

    it('an AbortSignal ends the wait at once with LOCK_ACQUIRE_ABORTED', async () => {
      const name = uniqueName('abort');
      const holder = await newLocker().acquire(name);
      const controller = new AbortController();
      const recorder = recordingRunner(ctx.client.runner);
      recorder.onSettled = () => controller.abort(new Error('shutting down'));
      const started = performance.now();
      const error = await newLocker({ retryCount: Number.POSITIVE_INFINITY, retryDelay: 5_000 }, recorder)
        .acquire(name, { signal: controller.signal })
        .catch((caught: unknown) => caught);
      expect((error as LockError).code).toBe('LOCK_ACQUIRE_ABORTED');
      expect(((error as LockError).cause as Error).message).toBe('shutting down');
      expect(performance.now() - started).toBeLessThan(2_000);
      // The failed attempt registered the waiter: the release after the abort, sent in the
      // background, leaves the waiters.
      await waitFor(async () => recorder.calls.length >= 2, 2_000, 5);
      expect(recorder.calls).toEqual(['acquire', 'release']);
      await holder.release();
    });

    it('tryAcquire makes one attempt and returns null, whatever the retry defaults', async () => {
      const name = uniqueName('try');
      const holder = await newLocker().acquire(name);
      const recorder = recordingRunner(ctx.client.runner);
      const locker = newLocker({ retryCount: 5, retryDelay: 1_000 }, recorder);
      expect(await locker.tryAcquire(name)).toBeNull();
      expect(recorder.calls).toEqual(['acquire']);
      await holder.release();
    });
  });
}
