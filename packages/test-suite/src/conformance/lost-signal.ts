/** The lost-lock signal: how soon a holder learns that its lock is gone. */
import { type LockLostError, LockRedisError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { elapse, uniqueName, waitFor, whenAborted } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeLostSignal(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('the lost-lock signal', () => {
    it('aborts within one renewal interval after the key is deleted behind the holder', async () => {
      const lock = await newLocker({ ttl: 3_000, renewalInterval: 100, autoRenewal: true }).acquire(
        uniqueName('deleted'),
      );
      await command('DEL', lock.key);
      const deletedAt = performance.now();
      await whenAborted(lock.signal);
      // One renewal interval (100 ms) plus a generous margin for a loaded machine; far below the ttl.
      expect(performance.now() - deletedAt).toBeLessThan(1_000);
      expect((lock.signal.reason as LockLostError).reason).toBe('taken');
    });

    it('aborts as "unreachable" before the ttl runs out while Redis is paused', async () => {
      const ttl = 1_000;
      let renewed: () => void = () => {};
      const firstRenewal = new Promise<void>((resolve) => {
        renewed = resolve;
      });
      const lock = await newLocker({
        ttl,
        renewalInterval: 250,
        autoRenewal: true,
        hooks: { onExtended: () => renewed() },
      }).acquire(uniqueName('paused'));
      await firstRenewal;
      // Pause well after that renewal was sent, so the deadline (measured from it) comes
      // before `pausedAt + ttl` with a margin for timer lateness on a loaded machine.
      await elapse(150);
      await ctx.target.onPrimaryOf(lock.key, ['CLIENT', 'PAUSE', '3000', 'ALL']);
      const pausedAt = performance.now();
      const reason = await whenAborted(lock.signal);
      expect(performance.now() - pausedAt).toBeLessThan(ttl);
      expect((reason as LockLostError).reason).toBe('unreachable');
      // While Redis is still paused, releasing the lost lock is bounded by commandTimeout.
      const releaseStarted = performance.now();
      await expect(lock.release()).rejects.toMatchObject({ code: 'REDIS_TIMEOUT' });
      expect(performance.now() - releaseStarted).toBeLessThan(lock.options.commandTimeout + 500);
      // Once Redis answers again, a release cleans up without claiming success.
      await waitFor(async () => (await ctx.target.onPrimaryOf(lock.key, ['PING'])) === 'PONG', 5_000);
      expect(await lock.release()).toBe(false);
      expect(await command('EXISTS', lock.key)).toBe(0);
    });

    it('reports renewal failures and the loss through hooks when Redis keeps failing', async () => {
      const events: string[] = [];
      const locker = newLocker({
        ttl: 500,
        renewalInterval: 100,
        autoRenewal: true,
        hooks: {
          onRenewalFailed: () => events.push('renewal-failed'),
          onLost: ({ error }) => events.push(`lost:${error.reason}`),
        },
      });
      const lock = await locker.acquire(uniqueName('failing-renewal'));
      // Replace the lock, in one step, with a value of the wrong type: every renewal now fails
      // with WRONGTYPE (a DEL first could let a renewal see the key missing instead).
      await command('SET', lock.key, 'not a hash');
      await whenAborted(lock.signal);
      expect(events.at(-1)).toBe('lost:unreachable');
      expect(events.filter((event) => event === 'renewal-failed').length).toBeGreaterThanOrEqual(1);
      expect(LockRedisError.isInstance((lock.signal.reason as LockLostError).cause)).toBe(true);
      await command('DEL', lock.key);
    });
  });
}
