/** Ownership and expiry: only the owner releases, and a lock that is never released frees after its ttl. */
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { elapse, uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeOwnership(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('ownership and expiry', () => {
    it('only the owner can release: another handle gets false and deletes nothing', async () => {
      const locker = newLocker();
      const name = uniqueName('owner');
      const holder = await locker.acquire(name);
      const stranger = locker.createLock(name);

      expect(await stranger.release()).toBe(false);
      expect(await holder.isLockedByMe()).toBe(true);
      expect(await stranger.extend(10_000)).toBe(false);
      expect(await holder.release()).toBe(true);
      expect(await command('EXISTS', holder.key)).toBe(0);
    });

    it('sets the value and the expiry in one step: the key never lives without a ttl', async () => {
      const lock = await newLocker({ ttl: 5_000 }).acquire(uniqueName('atomic'));
      const pttl = Number(await command('PTTL', lock.key));
      expect(pttl).toBeGreaterThan(4_000);
      expect(pttl).toBeLessThanOrEqual(5_000);
      await lock.release();
    });

    it('frees the lock after its ttl when the holder never releases', async () => {
      const locker = newLocker({ ttl: 200 });
      const name = uniqueName('expiry');
      await locker.acquire(name);
      expect(await locker.tryAcquire(name)).toBeNull();
      await elapse(400);
      const next = await locker.tryAcquire(name);
      expect(next).not.toBeNull();
      await next?.release();
    });

    it('uses the configured prefix and a {hash tag} around the name', async () => {
      const lock = await newLocker({ prefix: 'myapp:locks:' }).acquire('report');
      expect(lock.key).toBe('myapp:locks:{report}');
      expect(await command('EXISTS', 'myapp:locks:{report}')).toBe(1);
      await lock.release();
    });
  });
}
