/**
 * Reentrant lock (the second seed's 可重入性, done atomically): with `reentrant: true` the same
 * handle may acquire again; `holdCount` goes up on each acquire and down on each release, each
 * re-entry refreshes the expiry, and the key disappears only when the count reaches zero. Another
 * handle is still shut out. Separately, nested `withLock` calls on one name in the same async call
 * chain run inside the outer hold instead of deadlocking (`asyncReentrancy`, on by default).
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 07-reentrant.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Lock, Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Reentrant lock (reentrant: true, holdCount)';
export const keyPrefix = 'examples:reentrant:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 2_000 });
  const countInRedis = async () => (await locker.inspect('account:7')).holdCount;
  try {
    const account = locker.createLock('account:7', { reentrant: true });

    // transfer() holds the account lock and calls debit(), which takes the same lock again.
    async function debit(lock: Lock): Promise<void> {
      const before = await lock.remainingTime();
      check(await lock.acquire(), 're-entry through the same handle succeeds');
      const after = await lock.remainingTime();
      const entered = lock.holdCount;
      log('debit', `re-entered: holdCount ${entered}, expiry refreshed ${before} → ${after} ms`);
      check(entered === 2 && (await countInRedis()) === 2, 'the count is 2, locally and in Redis');
      check(after > before, 're-entry refreshes the expiry');

      const other = locker.createLock('account:7', { reentrant: true });
      check(!(await other.acquire()), 'another handle is shut out');
      log('auditor', 'acquire() with another handle → false: re-entry is per handle, not per name');

      await lock.release();
      const left = lock.holdCount;
      const stillMine = await lock.isLockedByMe();
      log('debit', `released once: holdCount ${left}, still held: ${stillMine}`);
      check(left === 1 && stillMine, 'one release leaves the outer hold');
    }

    check(await account.acquire(), 'transfer takes the lock');
    log('transfer', `acquired: holdCount ${account.holdCount}`);
    await sleep(200);
    await debit(account);
    await account.release();
    log('transfer', `released: holdCount ${account.holdCount}, state ${account.state}`);
    check((await locker.inspect('account:7')).owner === null, 'the key is gone at count zero');

    // The same idea without sharing a handle: nested withLock in one async call chain.
    const outer = await locker.withLock('account:7', async (outerLock) =>
      locker.withLock('account:7', async (innerLock) => {
        log('withLock', `nested call ran inside the outer hold (same lock: ${innerLock === outerLock})`);
        return innerLock === outerLock;
      }),
    );
    check(outer, 'nested withLock reuses the outer hold');
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
