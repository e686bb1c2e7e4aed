/**
 * Semaphore (`locker.semaphore(name, { limit })`): up to `limit` permits out at once, each holder
 * with its own token, expiry, renewal, lost signal and release; several permits per acquire;
 * server-time expiry; a release wakes one waiter per freed permit; one EVALSHA per operation.
 *
 * This module: the limit and permits, the data layout and server time, and per-holder expiry.
 */
import { LockLostError, LockOptionError, MAX_SEMAPHORE_LIMIT } from '@lock/core';
import { describe, expect, it } from 'vitest';
import { elapse, recordingRunner, uniqueName, waitFor, whenAborted } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';
import { semaphoreTools } from './semaphore-support.js';

export function describeSemaphore(suite: PrimitiveSuiteContext): void {
  const { command } = suite;
  const { semaphore, serverNow, serverMicrosOfScripts } = semaphoreTools(suite);
  describe('semaphore', () => {
    describe('limit and permits', () => {
      it('lets up to limit holders in, refuses the next, and admits it once one releases', async () => {
        const sem = semaphore(uniqueName('limit'), { limit: 3 });
        const holders = await Promise.all([1, 2, 3].map(() => sem.acquire()));
        expect(new Set(holders.map((holder) => holder.token)).size).toBe(3);
        expect(await sem.tryAcquire()).toBeNull();
        expect(await command('ZCARD', sem.key)).toBe(3);

        expect(await holders[1]?.release()).toBe(true);
        const fourth = await sem.tryAcquire();
        expect(fourth?.isHeld).toBe(true);
        expect(await sem.tryAcquire()).toBeNull();
        for (const lock of [holders[0], holders[2], fourth]) expect(await lock?.release()).toBe(true);
        expect(await command('EXISTS', sem.key)).toBe(0);
      });

      it('takes several permits at once, all or nothing; a release frees exactly its own', async () => {
        const sem = semaphore(uniqueName('permits'), { limit: 5 });
        const big = await sem.acquire({ permits: 3 });
        expect(await sem.tryAcquire({ permits: 3 })).toBeNull(); // 3 + 3 > 5: none taken
        expect((await sem.inspect()).inUse).toBe(3);
        const small = await sem.acquire({ permits: 2 });
        expect(await sem.tryAcquire()).toBeNull();
        expect(await command('ZCARD', sem.key)).toBe(5);

        expect(await big.release()).toBe(true);
        const report = await sem.inspect();
        expect(report.inUse).toBe(2);
        expect(report.holders).toEqual([expect.objectContaining({ token: small.token, permits: 2 })]);
        expect(await small.isLockedByMe()).toBe(true);
        await small.release();
      });

      it('caps limit and permits so that no script runs long on the server', async () => {
        // Above the cap: refused before anything is sent (half a million permits once blocked
        // every client of the server for 1.3 s).
        const recorder = recordingRunner(suite.client().runner);
        const capped = suite.newLocker({}, recorder);
        expect(() => capped.semaphore(uniqueName('cap'), { limit: MAX_SEMAPHORE_LIMIT + 1 })).toThrow(
          LockOptionError,
        );
        expect(() => capped.semaphore(uniqueName('cap'), { limit: 500_000 })).toThrow(LockOptionError);
        expect(recorder.calls).toEqual([]);

        // At the cap, the heaviest scripts there are: take all but one permit at once while
        // dropping as many expired ones, renew them all, give them all back.
        const name = uniqueName('cap');
        const most = MAX_SEMAPHORE_LIMIT - 1;
        const sem = semaphore(name, { limit: MAX_SEMAPHORE_LIMIT, ttl: 60_000 });
        expect(await (await sem.acquire()).release()).toBe(true); // loads the release script
        const keeper = await sem.acquire(); // keeps the key alive once the big hold expires
        expect(await keeper.extend(1_000)).toBe(true); // and now every script measured is loaded
        const expiring = await sem.acquire({ permits: most, ttl: 300 });
        // Expired by the server's clock, still in the set: the next script drops them.
        await waitFor(async () => (await sem.inspect()).inUse === 1, 5_000);
        expect(await command('ZCARD', expiring.key)).toBe(MAX_SEMAPHORE_LIMIT);
        const durations = await serverMicrosOfScripts(async () => {
          const permit = await sem.acquire({ permits: most });
          expect(await permit.extend(1_000)).toBe(true);
          expect(await permit.release()).toBe(true);
        });
        expect(durations).toHaveLength(3);
        // Measured at 6–35 ms each on a busy 2-core machine; the bound leaves room for a slower one.
        expect(Math.max(...durations)).toBeLessThan(100_000);
        expect(await keeper.release()).toBe(true);
      });

      it('callers that disagree on the limit each enforce their own', async () => {
        const name = uniqueName('disagree');
        const strict = semaphore(name, { limit: 2 });
        const loose = semaphore(name, { limit: 3 });
        const held = [await strict.acquire(), await strict.acquire()];
        expect(await strict.tryAcquire()).toBeNull(); // 2 in use: full by its limit
        const third = await loose.tryAcquire(); // 2 in use: room by its limit
        expect(third).not.toBeNull();
        expect(await loose.tryAcquire()).toBeNull();
        expect((await strict.inspect()).available).toBe(0);
        for (const lock of [...held, third]) await lock?.release();
      });
    });

    describe('data layout and server time', () => {
      it('keeps its keys in the name hash slot, apart from a mutex of the same name', async () => {
        const name = uniqueName('layout');
        const locker = suite.newLocker();
        const sem = locker.semaphore(name, { limit: 2, ttl: 10_000 });
        const mutex = await locker.acquire(name);
        const permit = await sem.acquire();
        expect(sem.key).toBe(`primitives:{${name}}:semaphore`);
        expect(permit.key).toBe(sem.key);
        expect(await command('TYPE', mutex.key)).toBe('hash');
        expect(await command('TYPE', sem.key)).toBe('zset');
        expect(await command('ZRANGE', sem.key, '0', '-1')).toEqual([`${permit.token}:1`]);
        // Separate fencing counters: the semaphore's first token is 1 whatever the mutex minted.
        expect(permit.fencingToken).toBe(1);
        expect(await command('GET', `${sem.key}:fence`)).toBe('1');
        await mutex.release();
        await permit.release();
      });

      it("scores each permit by the server's clock: deadline = server TIME + ttl", async () => {
        const sem = semaphore(uniqueName('server-time'), { limit: 2, ttl: 10_000 });
        const before = await serverNow();
        const permit = await sem.acquire();
        const after = await serverNow();
        const deadline = Number(await command('ZSCORE', sem.key, `${permit.token}:1`));
        expect(deadline).toBeGreaterThanOrEqual(before + 10_000);
        expect(deadline).toBeLessThanOrEqual(after + 10_000);
        // The key itself expires at the latest deadline, to the millisecond.
        expect(Number(await command('PEXPIRETIME', sem.key))).toBe(deadline);
        await permit.release();
      });

      it('leaves nothing behind: the key expires with the latest permit when nobody releases', async () => {
        const sem = semaphore(uniqueName('linger'), { limit: 3 });
        await sem.acquire({ ttl: 200 });
        const longer = await sem.acquire({ ttl: 500 });
        const pttl = Number(await command('PTTL', sem.key));
        expect(pttl).toBeGreaterThan(300);
        expect(pttl).toBeLessThanOrEqual(500);
        await whenAborted(longer.signal);
        await waitFor(async () => (await command('EXISTS', sem.key)) === 0, 2_000);
      });
    });

    describe('per-holder expiry, renewal and the lost signal', () => {
      /** Renewal every 100 ms, far inside the ttl: a loss is found by a renewal, not by expiry. */
      const renewingFast = { ttl: 3_000, renewalInterval: 100, autoRenewal: true } as const;

      it('each holder has its own expiry: one expires while the other stays', async () => {
        const sem = semaphore(uniqueName('own-expiry'), { limit: 2 });
        const short = await sem.acquire({ ttl: 250 });
        const long = await sem.acquire({ ttl: 10_000 });
        expect(await sem.tryAcquire()).toBeNull();

        expect(((await whenAborted(short.signal)) as LockLostError).reason).toBe('expired');
        await waitFor(async () => (await sem.inspect()).inUse === 1, 2_000);
        expect((await sem.inspect()).holders.map((holder) => holder.token)).toEqual([long.token]);
        expect(await long.isLockedByMe()).toBe(true);
        expect(long.signal.aborted).toBe(false);
        const next = await sem.tryAcquire(); // the expired permit is free again
        expect(next?.isHeld).toBe(true);
        expect(await short.extend(1_000)).toBe(false);
        expect(await short.release()).toBe(false);
        await next?.release();
        await long.release();
      });

      it('auto-renewal keeps a permit past several ttls, and stops once released', async () => {
        let renewals = 0;
        const sem = suite
          .newLocker({
            hooks: {
              onExtended: ({ renewal }) => {
                if (renewal) renewals += 1;
              },
            },
          })
          .semaphore(uniqueName('renew'), { limit: 1, ttl: 300, autoRenewal: true });
        const permit = await sem.acquire();
        await elapse(1_000);
        expect(permit.signal.aborted).toBe(false);
        expect(await permit.isLockedByMe()).toBe(true);
        expect(await sem.tryAcquire()).toBeNull();
        expect(renewals).toBeGreaterThanOrEqual(5);
        const remaining = await permit.remainingTime();
        expect(remaining).toBeGreaterThan(0);
        expect(remaining).toBeLessThanOrEqual(300);
        expect(await permit.release()).toBe(true);
        const renewalsAtRelease = renewals;
        await elapse(300);
        expect(renewals).toBe(renewalsAtRelease);
        expect(await command('EXISTS', sem.key)).toBe(0);
      });

      it("the lost signal fires ('taken') when one holder's permit is deleted; the other keeps its own", async () => {
        const sem = semaphore(uniqueName('deleted'), { limit: 2, ...renewingFast });
        const victim = await sem.acquire();
        const other = await sem.acquire();
        await command('ZREM', sem.key, `${victim.token}:1`);
        const deletedAt = performance.now();
        const reason = await whenAborted(victim.signal);
        expect(performance.now() - deletedAt).toBeLessThan(1_000);
        expect(LockLostError.isInstance(reason)).toBe(true);
        expect((reason as LockLostError).reason).toBe('taken');
        expect(victim.state).toBe('lost');
        expect(await victim.release()).toBe(false);
        await elapse(300); // several renewals of the other holder
        expect(other.signal.aborted).toBe(false);
        expect(await other.isLockedByMe()).toBe(true);
        await other.release();
      });

      it("the lost signal fires ('taken') for every holder when the whole key is deleted", async () => {
        const sem = semaphore(uniqueName('flushed'), { limit: 3, ...renewingFast });
        const holders = await Promise.all([1, 2, 3].map(() => sem.acquire()));
        await command('DEL', sem.key);
        const reasons = await Promise.all(holders.map((holder) => whenAborted(holder.signal)));
        expect(reasons.map((reason) => (reason as LockLostError).reason)).toEqual([
          'taken',
          'taken',
          'taken',
        ]);
      });
    });
  });
}
