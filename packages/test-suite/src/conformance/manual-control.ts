/** Manual control and status: acquire/extend/release by hand, and what a handle reports. */
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeManualControl(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe('manual control and status', () => {
    it('acquire() is non-blocking by default and answers true/false', async () => {
      const locker = newLocker();
      const name = uniqueName('manual');
      const first = locker.createLock(name);
      const second = locker.createLock(name);
      expect(await first.acquire()).toBe(true);
      expect(await second.acquire()).toBe(false);
      expect(second.state).toBe('unlocked');
      expect(await first.release()).toBe(true);
      expect(await second.acquire()).toBe(true);
      await second.release();
    });

    it('extend(ms) adds to the remaining time; { replace: true } sets it', async () => {
      const lock = await newLocker({ ttl: 10_000 }).acquire(uniqueName('extend'));
      expect(await lock.extend(20_000)).toBe(true);
      const added = await lock.remainingTime();
      expect(added).toBeGreaterThan(28_000);
      expect(added).toBeLessThanOrEqual(30_000);

      expect(await lock.extend(5_000, { replace: true })).toBe(true);
      const replaced = await lock.remainingTime();
      expect(replaced).toBeGreaterThan(4_000);
      expect(replaced).toBeLessThanOrEqual(5_000);
      await lock.release();
    });

    it('reports isLockedByAnyone, isLockedByMe and the remaining time', async () => {
      const locker = newLocker({ ttl: 10_000 });
      const name = uniqueName('status');
      const mine = locker.createLock(name);
      const theirs = locker.createLock(name);
      expect(await mine.isLockedByAnyone()).toBe(false);
      expect(await mine.remainingTime()).toBe(0);

      await mine.acquire();
      expect(await mine.isLockedByAnyone()).toBe(true);
      expect(await theirs.isLockedByAnyone()).toBe(true);
      expect(await mine.isLockedByMe()).toBe(true);
      expect(await theirs.isLockedByMe()).toBe(false);
      expect(await mine.remainingTime()).toBeGreaterThan(9_000);
      expect(await theirs.remainingTime()).toBe(0);

      await mine.release();
      expect(await theirs.isLockedByAnyone()).toBe(false);
      expect(await mine.isLockedByMe()).toBe(false);
    });
  });
}
