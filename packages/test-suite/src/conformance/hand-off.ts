/** Instant hand-off: a release wakes the next waiter without waiting out its retry delay. */
import { LockAcquireError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { elapse, uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeHandOff(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe('instant hand-off', () => {
    it('wakes the next of 8 waiters on release, without waiting out a 5 s retryDelay', async () => {
      const name = uniqueName('handoff');
      const holder = await newLocker().acquire(name);
      const order: number[] = [];
      const started = performance.now();
      const waiters = Array.from({ length: 8 }, (_, index) =>
        newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 20 }).withLock(name, async () => {
          order.push(index);
          await elapse(5);
        }),
      );
      await elapse(100); // let every waiter fail once and subscribe
      await holder.release();
      await Promise.all(waiters);
      expect(order).toHaveLength(8);
      // Polling alone would need at least 8 × 5 s; each hand-off is a notification away.
      expect(performance.now() - started).toBeLessThan(4_000);
    });
    it('a waiter that starts right after another gave up on the same lock is still woken', async () => {
      const name = uniqueName('resubscribe');
      const holder = await newLocker().acquire(name);
      const quitter = newLocker({ waitTimeout: 150, retryDelay: 50 });
      await expect(quitter.acquire(name)).rejects.toSatisfy(LockAcquireError.isInstance);
      // Its unsubscribe is still in flight when the next waiter subscribes to the same channel.
      const next = newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 3 }).acquire(name);
      await elapse(100);
      const releasedAt = performance.now();
      await holder.release();
      const lock = await next;
      expect(performance.now() - releasedAt).toBeLessThan(2_000);
      await lock.release();
    });
  });
}
