/**
 * Manual control (the seed's "方式 4: 手动控制"): `locker.createLock(name)` makes a handle,
 * `acquire()` resolves `true`/`false`, `release()` resolves `true`/`false`. A handle that does not
 * hold the lock can never delete someone else's, and a released handle is spent.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 01-manual-acquire-release.ts
 */
import { Locker, LockMisuseError } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Manual acquire() / release()';
export const keyPrefix = 'examples:manual:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000 });
  try {
    const alice = locker.createLock('invoice:1001');
    const bob = locker.createLock('invoice:1001');

    const aliceGot = await alice.acquire();
    log('alice', `acquire() → ${aliceGot}, fencing token ${alice.fencingToken}`);
    check(aliceGot, 'alice takes the free lock');

    if (await bob.acquire()) {
      throw new Error('check failed: bob must not get a lock alice holds');
    }
    log('bob', 'acquire() → false: held elsewhere (retryCount defaults to 0, so no waiting)');

    // Bob's handle has its own owner token, so this is a no-op in Redis, not a stolen unlock.
    const bobReleased = await bob.release();
    log('bob', `release() → ${bobReleased}: not his lock, nothing deleted`);
    check(!bobReleased && (await alice.isLockedByMe()), "bob's release leaves alice's lock alone");

    try {
      log('alice', 'working on invoice 1001…');
    } finally {
      const released = await alice.release();
      log('alice', `release() → ${released}`);
      check(released, 'alice releases her own lock');
    }

    // Bob's handle never held the lock, so it is still usable for a first hold.
    check(await bob.acquire(), 'bob gets the lock once alice released it');
    log('bob', `acquire() → true, fencing token ${bob.fencingToken} (higher than alice's)`);
    check((bob.fencingToken ?? 0) > (alice.fencingToken ?? 0), 'fencing tokens increase');
    check(await bob.release(), 'bob releases');

    try {
      await bob.acquire();
      throw new Error('check failed: a released handle must refuse a second hold');
    } catch (error) {
      check(LockMisuseError.isInstance(error), 'reusing a spent handle is a LockMisuseError');
      log('bob', `acquire() again on the spent handle → ${error.name} (${error.code}): make a new handle`);
    }

    const after = await locker.inspect('invoice:1001');
    check(after.owner === null, 'the lock is free at the end');
    log('check', `lock is free; last fencing token minted: ${after.lastFencingToken}`);
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
