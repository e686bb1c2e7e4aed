/** Inspection and hooks. */
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName, whenAborted } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeInspection(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe('inspection and hooks', () => {
    it('inspect shows holder, remaining time, re-entry count and fencing tokens', async () => {
      const locker = newLocker({ ttl: 10_000, reentrant: true });
      const name = uniqueName('inspect');
      const free = await locker.inspect(name);
      expect(free).toMatchObject({ name, owner: null, remaining: 0, holdCount: 0, fencingToken: null });

      const lock = locker.createLock(name);
      await lock.acquire();
      await lock.acquire();
      const held = await locker.inspect(name);
      expect(held).toMatchObject({
        name,
        key: lock.key,
        owner: lock.token,
        holdCount: 2,
        fencingToken: lock.fencingToken,
        lastFencingToken: lock.fencingToken,
      });
      expect(held.remaining).toBeGreaterThan(9_000);
      await lock[Symbol.asyncDispose]();
      expect(await locker.inspect(name)).toMatchObject({
        owner: null,
        lastFencingToken: lock.fencingToken,
      });
    });

    it('calls acquired (with wait time and attempts), extended, released and lost hooks', async () => {
      const events: string[] = [];
      const name = uniqueName('hooks');
      const locker = newLocker({
        retryCount: 10,
        retryDelay: 20,
        hooks: {
          onAcquired: ({ lock, attempts, waited }) =>
            events.push(`acquired:${lock.name === name}:${attempts > 1}:${waited >= 0}`),
          onExtended: ({ remaining, renewal }) => events.push(`extended:${remaining > 0}:${renewal}`),
          onReleased: () => events.push('released'),
          onLost: ({ error }) => events.push(`lost:${error.reason}`),
        },
      });
      const blocker = await newLocker().acquire(name);
      setTimeout(() => void blocker.release(), 50);
      const lock = await locker.acquire(name);
      await lock.extend(1_000);
      await lock.release();
      const lost = await locker.acquire(uniqueName('hooks-lost'), { ttl: 100 });
      await whenAborted(lost.signal);
      expect(events).toEqual([
        'acquired:true:true:true',
        'extended:true:false',
        'released',
        'acquired:false:false:true',
        'lost:expired',
      ]);
    });

    it('a throwing hook never breaks locking', async () => {
      const locker = newLocker({
        hooks: {
          onAcquired: () => {
            throw new Error('broken hook');
          },
        },
      });
      const lock = await locker.acquire(uniqueName('hook-throws'));
      expect(await lock.release()).toBe(true);
    });
  });
}
