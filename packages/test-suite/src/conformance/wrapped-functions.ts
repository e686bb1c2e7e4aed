/** Wrapped functions and decorators: `locker.locked()`. */
import { LockAcquireError, type LockError, LockOptionError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeWrappedFunctions(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe('wrapped functions and decorators', () => {
    it('names the lock after the function and runs it under the lock', async () => {
      const locker = newLocker();
      const probe = locker.createLock('dailyReport');
      async function dailyReport(day: string): Promise<string> {
        expect(await probe.isLockedByAnyone()).toBe(true);
        return `report for ${day}`;
      }
      const run = locker.locked()(dailyReport);
      expect(await run('monday')).toBe('report for monday');
      expect(await probe.isLockedByAnyone()).toBe(false);
    });

    it("onLocked: 'skip' resolves undefined without running; 'throw' rejects", async () => {
      const locker = newLocker();
      const name = uniqueName('cron');
      const holder = await locker.acquire(name);
      let runs = 0;
      const job = async () => {
        runs += 1;
        return 'ran';
      };
      expect(await locker.locked(name, { onLocked: 'skip' })(job)()).toBeUndefined();
      const error = await locker
        .locked(name)(job)()
        .catch((caught: unknown) => caught);
      expect((error as LockError).code).toBe('LOCK_NOT_ACQUIRED');
      expect(runs).toBe(0);
      await holder.release();
      expect(await locker.locked(name, { onLocked: 'skip' })(job)()).toBe('ran');
      expect(runs).toBe(1);
    });

    it('names the lock per call from the arguments, and takes options first', async () => {
      const locker = newLocker();
      const reserve = locker.locked((sku: string) => `inventory:${sku}`)(
        async (sku: string, quantity: number) => {
          expect(await locker.createLock(`inventory:${sku}`).isLockedByAnyone()).toBe(true);
          return quantity;
        },
      );
      expect(await reserve('a1', 2)).toBe(2);
      const holder = await locker.acquire('inventory:b2');
      await expect(reserve('b2', 1)).rejects.toSatisfy(LockAcquireError.isInstance);
      expect(await reserve('c3', 3)).toBe(3); // another name: not blocked
      await holder.release();

      const nightly = locker.locked({ onLocked: 'skip' })(async function nightlyCleanup() {
        return 'ran';
      });
      const blocker = await locker.acquire('nightlyCleanup');
      expect(await nightly()).toBeUndefined();
      await blocker.release();
      expect(await nightly()).toBe('ran');

      await expect(locker.locked(() => '')(async () => 1)()).rejects.toSatisfy(LockOptionError.isInstance);
    });

    it('works as a method decorator, keeping `this`, named after the method', async () => {
      const locker = newLocker();
      const probe = locker.createLock('rebuildIndex');
      class Jobs {
        readonly label = 'jobs';
        @locker.locked()
        async rebuildIndex(): Promise<string> {
          expect(await probe.isLockedByAnyone()).toBe(true);
          return this.label;
        }
        @locker.locked('decorated-cron', { onLocked: 'skip' })
        async nightly(): Promise<string | undefined> {
          return 'nightly ran';
        }
      }
      const jobs = new Jobs();
      expect(await jobs.rebuildIndex()).toBe('jobs');
      const holder = await locker.acquire('decorated-cron');
      expect(await jobs.nightly()).toBeUndefined();
      await holder.release();
      expect(await jobs.nightly()).toBe('nightly ran');
    });
  });
}
