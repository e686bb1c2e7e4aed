/** Errors from Redis: wrapped in a typed error, and the handle stays usable. */
import { LockRedisError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeErrors(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('errors from Redis', () => {
    it('wraps a Redis failure in LockRedisError with the cause, and the handle stays usable', async () => {
      const name = uniqueName('wrongtype');
      const lock = newLocker().createLock(name);
      await command('SET', lock.key, 'not a hash');
      const error = await lock.acquire().catch((caught: unknown) => caught);
      expect(LockRedisError.isInstance(error)).toBe(true);
      expect((error as LockRedisError).code).toBe('REDIS_ERROR');
      expect((error as LockRedisError).script).toBe('acquire');
      expect(String(((error as LockRedisError).cause as Error).message)).toMatch(/WRONGTYPE/);
      await command('DEL', lock.key);
      expect(await lock.acquire()).toBe(true);
      await lock.release();
    });
  });
}
