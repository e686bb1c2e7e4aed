/**
 * Lock sets (`Locker.acquire([...names])` and its siblings): taken all or nothing in one script
 * over every member's key, so a runner must send a script's keys as given and, on a Cluster, route
 * it by them. One handle holds the set, and it excludes every other holder of any of its names.
 */
import {
  type Lock,
  LockAcquireError,
  type Locker,
  type LockerOptions,
  LockLostError,
  LockOptionError,
  MAX_LOCK_SET_SIZE,
  type ScriptRunner,
} from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConnectedClient } from '../adapter-under-test.js';
import type { SuiteContext } from '../context.js';
import { elapse, recordingRunner, uniqueName, waitFor, whenAborted } from '../helpers.js';

/** The names of one lock set: `{tag}:member` for each member, so that they share a Cluster slot. */
function setNames(label: string, ...members: string[]): string[] {
  const tag = uniqueName(label);
  return members.map((member) => `{${tag}}:${member}`);
}

/** Registers the tests of this module with `ctx`. */
export function describeLockSets(ctx: SuiteContext): void {
  describe('lock sets', () => {
    let other: ConnectedClient;
    const { command } = ctx;
    const locker = (options: LockerOptions = {}, runner?: ScriptRunner) => ctx.newLocker(options, runner);
    const otherLocker = (options: LockerOptions = {}) => ctx.newLocker(options, other.runner);
    const theCluster = () => {
      if (!ctx.target.cluster) throw new Error('this test needs the suite to run on a cluster');
      return ctx.target.cluster;
    };
    const existing = async (keys: readonly string[]) => {
      let count = 0;
      for (const key of keys) count += Number(await command('EXISTS', key));
      return count;
    };
    /** The main client's runner, recording each channel once its subscription is confirmed. */
    const subscriptionSpy = () => {
      const confirmed: string[] = [];
      const runner: ScriptRunner & ReleaseNotifier = {
        run: (script, keys, args) => ctx.client.runner.run(script, keys, args),
        subscribe: async (channel, listener) => {
          const unsubscribe = await ctx.client.runner.subscribe(channel, listener);
          confirmed.push(channel);
          return unsubscribe;
        },
      };
      return { runner, confirmed };
    };

    beforeAll(async () => {
      other = await ctx.connect();
    });

    it('takes every member with one token and one ttl, and release frees them all', async () => {
      const names = setNames('take', 'c', 'a', 'b');
      const lock = await locker({ ttl: 5_000 }).acquire(names);
      expect(lock.names).toEqual([...names].sort());
      expect(lock.isHeld).toBe(true);
      for (const key of lock.keys) {
        expect(await command('HGET', key, 'owner')).toBe(lock.token);
        expect(Number(await command('PTTL', key))).toBeGreaterThan(4_000);
      }
      expect(await lock.isLockedByMe()).toBe(true);
      expect(await lock.remainingTime()).toBeGreaterThan(4_000);
      const report = await locker().inspect(names[1] as string);
      expect(report.owner).toBe(lock.token);
      expect(lock.fencingToken).toBeUndefined();

      expect(await lock.release()).toBe(true);
      expect(lock.state).toBe('released');
      expect(await existing(lock.keys)).toBe(0);
      expect(await lock.isLockedByAnyone()).toBe(false);
    });

    it('all or nothing: a member held elsewhere means nothing is taken and nothing left behind', async () => {
      const names = setNames('all-or-nothing', 'a', 'b', 'c');
      const keys = locker().createLock(names).keys;
      const holder = await otherLocker().acquire(names[1] as string);

      expect(await locker().tryAcquire(names)).toBeNull();
      expect(await existing([keys[0] as string, keys[2] as string])).toBe(0);
      const error = await locker({ retryCount: 3, retryDelay: 20 })
        .acquire(names)
        .catch((caught: unknown) => caught);
      expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
      expect(await existing([keys[0] as string, keys[2] as string])).toBe(0);
      // The holder's own lock is untouched, and so is a set that shares a member with ours.
      expect(await command('HGET', keys[1] as string, 'owner')).toBe(holder.token);
      const overlapping = await otherLocker().acquire([names[2] as string]);
      expect(await locker().tryAcquire(names)).toBeNull();
      expect(await existing([keys[0] as string])).toBe(0);

      await holder.release();
      await overlapping.release();
      const lock = await locker().tryAcquire(names);
      expect(lock?.isHeld).toBe(true);
      await lock?.release();
    });

    it('overlapping sets and single locks never hold one name at once', async () => {
      const [x, y, z] = setNames('exclusion', 'x', 'y', 'z') as [string, string, string];
      // Sets, and single locks on their names (a string is a plain lock, not a set of one).
      const contenders: ReadonlyArray<string | readonly string[]> = [[x, y], [z, y], [x, y, z], y, z];
      const lockers = [locker(), otherLocker()];
      const holders = new Map<string, number>();
      const overlaps: string[] = [];
      const rounds = contenders.map(() => 0);
      const until = performance.now() + 1_500;
      const options = { ttl: 5_000, retryCount: 5_000, retryDelay: 2, retryJitter: 3 };
      await Promise.all(
        contenders.map(async (contender, index) => {
          const from = lockers[index % 2] as Locker;
          const names = typeof contender === 'string' ? [contender] : contender;
          const hold = async (lock: Lock) => {
            for (const name of names) {
              const count = (holders.get(name) ?? 0) + 1;
              holders.set(name, count);
              if (count > 1) overlaps.push(`${name} by ${lock.name}`);
            }
            await elapse(1 + Math.random() * 3);
            for (const name of names) holders.set(name, (holders.get(name) ?? 1) - 1);
          };
          while (performance.now() < until) {
            if (typeof contender === 'string') await from.withLock(contender, hold, options);
            else await from.withLock(contender, hold, options);
            rounds[index] = (rounds[index] as number) + 1;
          }
        }),
      );
      expect(overlaps).toEqual([]);
      for (const count of rounds) expect(count).toBeGreaterThan(0);
    }, 20_000);

    it('a waiter wakes on the release of the member that held it back, long before its retry', async () => {
      const [a, b, c, d] = setNames('wake', 'a', 'b', 'c', 'd') as [string, string, string, string];
      const retryDelay = 20_000;
      const spy = subscriptionSpy();
      const waiter = locker({ retryCount: 2, retryDelay }, spy.runner);
      // Held back by its second member, held by another set: the waiter listens on that member's
      // channel. (A single lock's release wakes its own registered waiters only; a set waiter
      // held back by one finds it free at its next retry.)
      const holder = await otherLocker().acquire([b, d]);
      const waiting = waiter.acquire([a, b]);
      await waitFor(async () => spy.confirmed.length === 1, 5_000);
      expect(spy.confirmed).toEqual([`${holder.keys[0]}:released`]);
      let releasedAt = performance.now();
      await holder.release();
      await (await waiting).release();
      expect(performance.now() - releasedAt).toBeLessThan(retryDelay / 2);

      // Held back by a set: its release publishes on every member's channel.
      const set = await otherLocker().acquire([c, d]);
      const waitingForSet = waiter.acquire([d]);
      await waitFor(async () => spy.confirmed.length === 2, 5_000);
      expect(spy.confirmed[1]).toBe(`${set.keys[1]}:released`);
      releasedAt = performance.now();
      await set.release();
      await (await waitingForSet).release();
      expect(performance.now() - releasedAt).toBeLessThan(retryDelay / 2);
    }, 30_000);

    it('renewal and extend keep every member alive', async () => {
      const names = setNames('renew', 'a', 'b', 'c');
      const lock = await locker({ ttl: 300, autoRenewal: true }).acquire(names);
      await elapse(1_200);
      expect(lock.signal.aborted).toBe(false);
      for (const key of lock.keys) {
        expect(await command('HGET', key, 'owner')).toBe(lock.token);
        expect(Number(await command('PTTL', key))).toBeGreaterThan(0);
      }
      await lock.release();
      expect(await existing(lock.keys)).toBe(0);

      // Without renewal, whose next replace would undo an added extend.
      const held = await locker({ ttl: 1_000 }).acquire(names);
      expect(await held.extend(5_000)).toBe(true);
      for (const key of held.keys) expect(Number(await command('PTTL', key))).toBeGreaterThan(4_500);
      expect(await held.extend(2_000, { replace: true })).toBe(true);
      for (const key of held.keys) {
        const pttl = Number(await command('PTTL', key));
        expect(pttl).toBeGreaterThan(1_000);
        expect(pttl).toBeLessThanOrEqual(2_000);
      }
      await held.release();
      expect(await existing(held.keys)).toBe(0);
    });

    it('losing one member loses the hold: the signal aborts, and the rest of the set is freed', async () => {
      const names = setNames('lost', 'a', 'b', 'c');
      const lock = await locker({ ttl: 600, autoRenewal: true }).acquire(names);
      await command('DEL', lock.keys[1] as string);
      const reason = await whenAborted(lock.signal);
      expect(LockLostError.isInstance(reason) && reason.reason).toBe('taken');
      expect(lock.state).toBe('lost');
      expect(await existing(lock.keys)).toBe(0);
      expect(await lock.release()).toBe(false);

      // Taken by someone else: the same, and the other holder's lock is left alone.
      const again = await locker({ ttl: 600 }).acquire(names);
      await command('DEL', again.keys[2] as string);
      const thief = await otherLocker().acquire(names[2] as string);
      expect(await again.extend(1_000)).toBe(false);
      expect(again.state).toBe('lost');
      expect(await existing(again.keys)).toBe(1);
      expect(await command('HGET', thief.key, 'owner')).toBe(thief.token);
      await thief.release();
    });

    it('reentrant: the handle enters every member again, and leaves them one entry at a time', async () => {
      const names = setNames('reentrant', 'a', 'b');
      const lock = locker({ reentrant: true }).createLock(names);
      expect(await lock.acquire()).toBe(true);
      expect(await lock.acquire()).toBe(true);
      expect(lock.holdCount).toBe(2);
      for (const key of lock.keys) expect(Number(await command('HGET', key, 'count'))).toBe(2);
      expect(await lock.release()).toBe(true);
      for (const key of lock.keys) expect(Number(await command('HGET', key, 'count'))).toBe(1);
      expect(await lock.release()).toBe(true);
      expect(await existing(lock.keys)).toBe(0);
    });

    it('withLock runs under the whole set and releases it on every path', async () => {
      const names = setNames('with', 'a', 'b');
      let keys: readonly string[] = [];
      const value = await locker().withLock(names, async (lock) => {
        keys = lock.keys;
        expect(await otherLocker().tryAcquire(names[0] as string)).toBeNull();
        return 42;
      });
      expect(value).toBe(42);
      expect(await existing(keys)).toBe(0);
      await expect(
        locker().withLock(names, () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await existing(keys)).toBe(0);
    });

    it('takes the largest set allowed in one script', async () => {
      const members = Array.from({ length: MAX_LOCK_SET_SIZE }, (_, index) => String(index));
      const lock = await locker({ ttl: 5_000 }).acquire(setNames('largest', ...members));
      expect(lock.keys).toHaveLength(MAX_LOCK_SET_SIZE);
      expect(await command('HGET', lock.keys.at(-1) as string, 'owner')).toBe(lock.token);
      expect(await lock.extend(1_000)).toBe(true);
      expect(await lock.isLockedByMe()).toBe(true);
      expect(await lock.release()).toBe(true);
      expect(await existing([lock.keys[0] as string, lock.keys.at(-1) as string])).toBe(0);
    });

    it('refuses names in different Cluster slots with a LockOptionError, before anything is sent', async () => {
      const runner = recordingRunner(ctx.client.runner);
      const [a] = setNames('slots', 'a');
      const [b] = setNames('slots', 'b');
      const error = await locker({}, runner)
        .acquire([a as string, b as string])
        .catch((caught: unknown) => caught);
      expect(LockOptionError.isInstance(error) && error.option).toBe('names');
      expect(String((error as Error).message)).toMatch(/hash tag/);
      expect(runner.calls).toEqual([]);
    });

    if (ctx.adapter.cluster) {
      it('on a Cluster, a set whose names share a hash tag lives on one primary', async () => {
        const names = setNames('one-primary', 'a', 'b', 'c', 'd');
        const lock = await locker().acquire(names);
        const primaries = new Set<string>();
        for (const key of lock.keys) primaries.add((await theCluster().primaryFor(key)).id);
        expect(primaries.size).toBe(1);
        for (const key of lock.keys) {
          expect(Number(await command('CLUSTER', 'KEYSLOT', key))).toBe(
            Number(await command('CLUSTER', 'KEYSLOT', lock.keys[0] as string)),
          );
        }
        await lock.release();
      });
    }
  });
}
