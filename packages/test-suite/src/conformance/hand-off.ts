/**
 * Instant hand-off: a release gives the lock to the longest-waiting waiter and wakes it, without it
 * waiting out its retry delay; a hand-off to a waiter that died or gave up costs the others little.
 */
import { LockAcquireError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import { SUITE_PREFIX, type SuiteContext } from '../context.js';
import {
  elapse,
  recordingNotifyingRunner,
  serverTimeMs,
  uniqueName,
  waitFor,
  warmWakeChannel,
} from '../helpers.js';

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

    for (const autoRenewal of [true, false]) {
      it(`a hand-off lasts a short claim window, which the new holder prolongs to its ttl (autoRenewal: ${autoRenewal})`, async () => {
        const name = uniqueName('claim');
        const holder = await newLocker().acquire(name);
        // Fixed 50 ms retries: a registration (and so an unclaimed hand-off) lasts 2 × 50 + 1,000 ms.
        const options = {
          ttl: 6_000,
          retryDelay: 50,
          retryJitter: 0,
          backoff: 'fixed',
          retryCount: 100,
          autoRenewal,
        } as const;
        const locker = newLocker(options);
        await warmWakeChannel(locker, name);
        const acquiring = locker.acquire(name);
        await elapse(200);
        await holder.release();
        const lock = await acquiring;
        // What the release set: the claim window, not the new holder's 6 s.
        expect(await lock.remainingTime()).toBeLessThanOrEqual(1_100);
        await elapse(1_600);
        expect(lock.isHeld).toBe(true);
        expect(await lock.remainingTime()).toBeGreaterThan(2_500);
        await lock.release();
      });
    }

    it('a hand-off to a waiter that died keeps the lock from the others only for its claim window', async () => {
      const name = uniqueName('dead-waiter');
      const key = `${SUITE_PREFIX}{${name}}`;
      const holder = await newLocker().acquire(name);
      // A waiter that registered for a 30 s hold with a 400 ms claim window, then crashed.
      const now = await serverTimeMs(ctx.client.command);
      await ctx.client.command(['ZADD', `${key}:waiters`, String(now), 'ghost']);
      await ctx.client.command(['ZADD', `${key}:waiter-deadlines`, String(now + 5_000), 'ghost']);
      await ctx.client.command(['HSET', `${key}:waiters:terms`, 'ghost', '30000 400 0 1 ghost-channel']);
      await holder.release();
      expect(await ctx.client.command(['HGET', key, 'owner'])).toBe('ghost');
      expect(Number(await ctx.client.command(['PTTL', key]))).toBeLessThanOrEqual(400);
      const startedAt = performance.now();
      const next = await newLocker({ retryDelay: 50, retryCount: 100 }).acquire(name);
      expect(performance.now() - startedAt).toBeLessThan(3_000);
      await next.release();
    });

    it('a waiter that gives up after it was handed the lock (unknowingly) hands it on to the next', async () => {
      const name = uniqueName('give-up-handed');
      const holder = await newLocker().acquire(name);
      // This waiter's notifier never delivers: it cannot know the lock was handed to it.
      const deaf = recordingNotifyingRunner(ctx.client.runner);
      const subscribe = deaf.subscribe;
      deaf.subscribe = (channel, _listener, signal) => subscribe(channel, () => {}, signal);
      const slow = { retryDelay: 5_000, retryJitter: 0, retryCount: 20 } as const;
      const controller = new AbortController();
      const deafLocker = newLocker(slow, deaf);
      await warmWakeChannel(deafLocker, name);
      deaf.calls.length = 0;
      const first = deafLocker.acquire(name, { signal: controller.signal });
      const firstFailed = first.then(
        () => 'acquired',
        (error: unknown) => error,
      );
      await waitFor(async () => deaf.calls.length === 1, 2_000, 5);
      await elapse(50); // so that the second arrives in a later server ms
      const second = newLocker(slow).acquire(name);
      await elapse(200);
      await holder.release();
      await waitFor(
        async () => (await ctx.client.command(['HGET', `${SUITE_PREFIX}{${name}}`, 'owner'])) !== null,
        2_000,
        5,
      );
      const givenUpAt = performance.now();
      controller.abort();
      expect(LockAcquireError.isInstance(await firstFailed)).toBe(true);
      const lock = await second;
      // Handed on at once by the first waiter's leaving, not found by a retry 5 s later.
      expect(performance.now() - givenUpAt).toBeLessThan(2_000);
      await lock.release();
    });
  });
}
