/** Scoped use: `await using` and `withLock` release however the scope ends. */
import { type Lock, LockAcquireError, LockError, LockReleasedError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeScopedUse(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('scoped use: await using and withLock', () => {
    it('await using releases at the end of the scope, also when it throws', async () => {
      const locker = newLocker();
      const name = uniqueName('using');
      let key = '';
      {
        await using lock = await locker.acquire(name);
        key = lock.key;
        expect(await command('EXISTS', key)).toBe(1);
      }
      expect(await command('EXISTS', key)).toBe(0);

      const failing = async () => {
        await using lock = await locker.acquire(name);
        expect(lock.isHeld).toBe(true);
        throw new Error('boom');
      };
      await expect(failing()).rejects.toThrow('boom');
      expect(await command('EXISTS', key)).toBe(0);
    });

    it('withLock passes the held lock, returns the result and releases', async () => {
      const locker = newLocker();
      const name = uniqueName('with');
      let seen: Lock | undefined;
      const result = await locker.withLock(name, async (lock) => {
        seen = lock;
        expect(await lock.isLockedByMe()).toBe(true);
        return 42;
      });
      expect(result).toBe(42);
      if (seen === undefined) throw new Error('withLock did not call the callback');
      expect(seen.state).toBe('released');
      expect(seen.signal.reason).toSatisfy(LockReleasedError.isInstance);
      expect(await command('EXISTS', seen.key)).toBe(0);
    });

    it("withLock releases on throw and rethrows the callback's own error", async () => {
      const locker = newLocker();
      const name = uniqueName('with-throw');
      const failure = new Error('callback failed');
      let key = '';
      const error = await locker
        .withLock(name, async (lock) => {
          key = lock.key;
          throw failure;
        })
        .catch((caught: unknown) => caught);
      expect(error).toBe(failure);
      expect(await command('EXISTS', key)).toBe(0);
    });

    it('withLock throws LockAcquireError and never calls the callback when the lock is held', async () => {
      const locker = newLocker();
      const name = uniqueName('with-held');
      const holder = await locker.acquire(name);
      let called = false;
      const error = await locker
        .withLock(name, () => {
          called = true;
        })
        .catch((caught: unknown) => caught);
      expect(LockAcquireError.isInstance(error)).toBe(true);
      expect(LockError.isInstance(error)).toBe(true);
      expect(called).toBe(false);
      await holder.release();
    });

    it('a callback that releases the lock itself does not make withLock fail', async () => {
      const result = await newLocker().withLock(uniqueName('self-release'), async (lock) => {
        expect(await lock.release()).toBe(true);
        return 'done';
      });
      expect(result).toBe('done');
    });
  });
}
