/**
 * What one hand-off costs Redis: a release hands the lock to one waiter (the longest-waiting) and
 * wakes only it, and that waiter takes the lock without a script of its own. Counted with INFO
 * commandstats, summed over every primary.
 */
import type { Lock, LockerOptions } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { countingRunner, elapse, uniqueName, waitFor, warmWakeChannel } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeHandOffCommands(ctx: SuiteContext): void {
  const { newLocker, commandStats } = ctx;

  /**
   * Queues `count` waiters on `name` one after the other (so their arrival order is their index)
   * while their Locker's wake channel is subscribed, then releases `holder` and returns the stats
   * of what the release caused, with the handle that took the lock.
   */
  async function handOff(name: string, holder: Lock, count: number, options: LockerOptions) {
    const runner = countingRunner(ctx.client.runner);
    const locker = newLocker(options, runner);
    await warmWakeChannel(locker, name);
    expect(runner.confirmed).toBe(1);
    runner.calls.length = 0;
    const handles = Array.from({ length: count }, () => locker.createLock(name));
    const winners: Promise<Lock>[] = [];
    for (const [index, handle] of handles.entries()) {
      winners.push(handle.acquire().then(() => handle));
      await waitFor(async () => runner.calls.length === index + 1, 2_000, 5);
    }
    // One subscription serves every waiter of the Locker.
    expect(runner.confirmed).toBe(1);
    await ctx.target.everyPrimary(['CONFIG', 'RESETSTAT']);
    await holder.release();
    const winner = await Promise.race(winners);
    // A release that woke every waiter would show their attempts within a few ms; each waiter's
    // own next attempt is seconds away.
    await elapse(200);
    const stats = await commandStats();
    const attempts = runner.calls.length - count;
    for (const handle of handles) await handle.release();
    return { stats, winner, first: handles[0], attempts };
  }

  // Polls before the subscription is confirmed only every 5 s, and then sleeps even longer.
  const slow: LockerOptions = { retryDelay: 5_000, retryJitter: 0, retryCount: 20 };

  describe('hand-off commands', () => {
    for (const fair of [false, true]) {
      it(`${fair ? 'fair' : 'default'} lock: one release with 6 waiters is one script and one PUBLISH, and the next holder sends nothing`, async () => {
        const name = uniqueName(fair ? 'wake-one-fair' : 'wake-one');
        const holder = await newLocker({ fair }).acquire(name);
        const { stats, winner, first, attempts } = await handOff(name, holder, 6, { ...slow, fair });
        expect(winner).toBe(first);
        expect(attempts).toBe(0);
        // The release, which handed the lock over and woke its new holder, and nothing else.
        expect(stats.evalsha).toBe(1);
        expect(stats.publish).toBe(1);
      });

      it(`${fair ? 'fair' : 'default'} lock: the first waiter of an idle Locker is woken, and takes the lock with one attempt`, async () => {
        const name = uniqueName(fair ? 'wake-cold-fair' : 'wake-cold');
        const holder = await newLocker({ fair }).acquire(name);
        const runner = countingRunner(ctx.client.runner);
        const waiter = newLocker({ ...slow, fair }, runner).createLock(name);
        const acquiring = waiter.acquire();
        // It registered before its Locker's wake channel was subscribed: a hand-off could be missed.
        await waitFor(async () => runner.calls.length === 1 && runner.confirmed === 1, 2_000, 5);
        await holder.release();
        expect(await acquiring).toBe(true);
        expect(runner.calls).toHaveLength(2);
        await waiter.release();
      });

      it(`${fair ? 'fair' : 'default'} lock: a waiter whose notifier passes no message on is woken and takes the lock with one attempt`, async () => {
        const name = uniqueName(fair ? 'wake-bare-fair' : 'wake-bare');
        const holder = await newLocker({ fair }).acquire(name);
        const bare = countingRunner(ctx.client.runner);
        const subscribe = bare.subscribe;
        bare.subscribe = (channel, listener, signal) => subscribe(channel, () => listener(), signal);
        const locker = newLocker({ ...slow, fair, fencing: true }, bare);
        await warmWakeChannel(locker, name);
        bare.calls.length = 0;
        const waiter = locker.createLock(name);
        const acquiring = waiter.acquire();
        await waitFor(async () => bare.calls.length === 1, 2_000, 5);
        await holder.release();
        expect(await acquiring).toBe(true);
        // Its one attempt found the lock already its own, with the fencing token the release minted.
        expect(bare.calls).toHaveLength(2);
        expect(waiter.fencingToken).toBeGreaterThan(0);
        expect((await waiter.remainingTime()) > 0).toBe(true);
        await waiter.release();
      });
    }

    it('default lock: once the longest waiter waited past the bound, a free lock is kept for it', async () => {
      const name = uniqueName('bound');
      const holder = await newLocker().acquire(name);
      // The bound is two retry delays (200 ms with the defaults the newcomer below uses).
      const waiter = newLocker({ retryDelay: 50, retryCount: 100 }).acquire(name);
      await elapse(400);
      await holder.release();
      // Sent right after the release, before the woken waiter's attempt can land: refused anyway.
      expect(await newLocker().tryAcquire(name)).toBeNull();
      await (await waiter).release();
    });
  });
}
