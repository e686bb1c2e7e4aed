/** Reentrancy of one handle: re-entries are counted and released one by one. */
import { LockMisuseError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeReentrancy(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('reentrancy of one handle', () => {
    it('counts re-entries, refreshes the expiry, and frees the key at zero', async () => {
      const locker = newLocker({ ttl: 10_000, reentrant: true });
      const name = uniqueName('reentrant');
      const lock = locker.createLock(name);
      expect(await lock.acquire()).toBe(true);
      expect(await lock.extend(1_000, { replace: true })).toBe(true);
      expect(await lock.acquire()).toBe(true);
      expect(await lock.acquire()).toBe(true);
      expect(lock.holdCount).toBe(3);
      expect(await command('HGET', lock.key, 'count')).toBe('3');
      expect(Number(await command('PTTL', lock.key))).toBeGreaterThan(9_000);

      expect(await locker.tryAcquire(name)).toBeNull();
      expect(await lock.release()).toBe(true);
      expect(await command('HGET', lock.key, 'count')).toBe('2');
      expect(await lock.release()).toBe(true);
      expect(await lock.isLockedByMe()).toBe(true);
      expect(await lock.release()).toBe(true);
      expect(await command('EXISTS', lock.key)).toBe(0);
      expect(lock.state).toBe('released');
    });

    it('dispose releases every re-entry at once', async () => {
      const lock = newLocker({ reentrant: true }).createLock(uniqueName('reentrant-dispose'));
      await lock.acquire();
      await lock.acquire();
      await lock[Symbol.asyncDispose]();
      expect(await command('EXISTS', lock.key)).toBe(0);
    });

    it('a non-reentrant handle refuses to enter twice', async () => {
      const lock = newLocker().createLock(uniqueName('not-reentrant'));
      await lock.acquire();
      await expect(lock.acquire()).rejects.toSatisfy(LockMisuseError.isInstance);
      await lock.release();
    });
  });
}
