/** Call-chain reentrancy: a nested `withLock` on the same name re-enters. */
import { LockAcquireError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeCallChain(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('call-chain reentrancy', () => {
    it('a nested withLock on the same name re-enters instead of deadlocking', async () => {
      const locker = newLocker();
      const name = uniqueName('nested');
      const result = await locker.withLock(name, async (outer) =>
        locker.withLock(name, async (inner) => {
          expect(inner).toBe(outer);
          expect(await newLocker().tryAcquire(name)).toBeNull();
          return 'nested ran';
        }),
      );
      expect(result).toBe('nested ran');
      expect(await command('EXISTS', `conformance:{${name}}`)).toBe(0);
    });

    it('another Locker, or asyncReentrancy: false, contends as usual', async () => {
      const locker = newLocker();
      const name = uniqueName('not-nested');
      await locker.withLock(name, async () => {
        await expect(newLocker().withLock(name, () => 1)).rejects.toSatisfy(LockAcquireError.isInstance);
      });
      const strict = newLocker({ asyncReentrancy: false });
      await strict.withLock(name, async () => {
        await expect(strict.withLock(name, () => 1)).rejects.toSatisfy(LockAcquireError.isInstance);
      });
    });
  });
}
