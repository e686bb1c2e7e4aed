/**
 * Redis restarts, SCRIPT FLUSH and FLUSHALL while locks are held and waiters wait, on both
 * adapters. The promise under test: every call either succeeds or fails with a typed LockError,
 * nothing hangs, locks that vanished are reported lost (never silently assumed held), and new
 * acquisitions work once Redis is back (scripts reload through the EVAL fallback).
 */
import { Locker, type LockerOptions, type LockLostError } from '@lock/core';
import { type ConnectedClient, provisionRedis, type RedisInstance, waitFor } from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, connectClient } from '../src/clients.js';
import { expectToldOfRestart, lostReason } from '../src/lost.js';
import { uniqueName } from '../src/names.js';
import { settleTyped } from '../src/settle.js';

for (const kind of CLIENT_KINDS) {
  describe(`Redis faults: ${kind}`, () => {
    let redis: RedisInstance;
    let client: ConnectedClient;
    let admin: ConnectedClient;
    const newLocker = (options: LockerOptions = {}) =>
      new Locker(client.runner, { prefix: 'faults:', ...options });

    beforeAll(async () => {
      redis = await provisionRedis();
      client = await connectClient(kind, redis.url);
      admin = await connectClient(kind, redis.url);
    });

    afterAll(async () => {
      await client?.close();
      await admin?.close();
      await redis?.stop();
    });

    it('a restart loses held locks: each holder is told, and locking works again afterwards', async () => {
      if (redis.source === 'REDIS_URL') return; // cannot restart a Redis we did not start
      const options = { ttl: 2_000, renewalInterval: 200, autoRenewal: true };
      // Plain and fair mutexes alike (a fair lock's queue vanishes with it).
      const lockers = [newLocker(options), newLocker(options), newLocker({ ...options, fair: true })];
      const held = await Promise.all(
        lockers.map((locker, index) => locker.acquire(uniqueName(`held-${index}`))),
      );
      const restartedAt = performance.now();
      await redis.restart(); // no persistence: every key is gone

      await expectToldOfRestart(held, restartedAt);

      // Scripts are gone too: the next acquire goes through NOSCRIPT → EVAL and succeeds.
      await waitFor(
        async () => 'value' in (await settleTyped(() => newLocker().tryAcquire(uniqueName('probe')))),
        5_000,
      );
      const fresh = await newLocker().acquire(uniqueName('after-restart'));
      expect(await fresh.isLockedByMe()).toBe(true);
      expect(await fresh.release()).toBe(true);
    });

    it.each([
      ['plain', false],
      ['fair', true],
    ])(
      'a %s waiter waiting across a restart acquires once Redis is back, or fails typed; never hangs',
      async (_, fair) => {
        if (redis.source === 'REDIS_URL') return;
        const name = uniqueName('waited');
        const holder = await newLocker({ ttl: 30_000, fair }).acquire(name);
        const started = performance.now();
        const waiter = settleTyped(() =>
          newLocker({ waitTimeout: 6_000, retryDelay: 100, fair }).acquire(name),
        );
        await redis.restart(); // the holder's key vanishes with the restart
        const outcome = await waiter;
        expect(performance.now() - started).toBeLessThan(6_000 + 3_000);
        if ('value' in outcome) {
          expect(await outcome.value.isLockedByMe()).toBe(true);
          await outcome.value.release();
        } else {
          expect(outcome.error.code).toMatch(/REDIS_ERROR|REDIS_TIMEOUT|LOCK_NOT_ACQUIRED/);
        }
        // The old holder learns nothing was left of its lock.
        expect(await holder.extend(1_000)).toBe(false);
        expect((holder.signal.reason as LockLostError).reason).toBe('taken');
      },
    );

    it('SCRIPT FLUSH under load: every operation still succeeds through the EVAL fallback', async () => {
      const locker = newLocker({ ttl: 5_000 });
      let operations = 0;
      let flushes = 0;
      let running = true;
      const worker = async (index: number) => {
        while (running) {
          const lock = await locker.acquire(uniqueName(`flush-${index}`));
          expect(await lock.extend(1_000)).toBe(true);
          expect(await lock.release()).toBe(true);
          operations += 3;
        }
      };
      const workers = [1, 2, 3, 4].map(worker);
      for (let round = 0; round < 10; round += 1) {
        await admin.command(['SCRIPT', 'FLUSH']);
        flushes += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      running = false;
      await Promise.all(workers);
      expect(flushes).toBe(10);
      expect(operations).toBeGreaterThan(30);
    });

    it('FLUSHALL under load: holders are told their locks are gone; new locks work', async () => {
      const locker = newLocker({ ttl: 3_000, renewalInterval: 100, autoRenewal: true });
      const holders = await Promise.all(
        [1, 2, 3, 4].map((index) => locker.acquire(uniqueName(`flushall-${index}`))),
      );
      const traffic = (async () => {
        for (let round = 0; round < 20; round += 1) {
          const outcome = await settleTyped(() => newLocker().acquire(uniqueName('traffic')));
          if ('value' in outcome) await outcome.value.release();
        }
      })();
      await admin.command(['FLUSHALL']);
      const reasons = await Promise.all(holders.map(lostReason));
      expect(reasons.map((reason) => reason.reason)).toEqual(['taken', 'taken', 'taken', 'taken']);
      await traffic;
      for (const holder of holders) expect(await holder.release()).toBe(false);
      const fresh = await newLocker().acquire(uniqueName('after-flushall'));
      expect(fresh.fencingToken).toBe(1); // the counters went with FLUSHALL: documented
      expect(await fresh.release()).toBe(true);
    });
  });
}
