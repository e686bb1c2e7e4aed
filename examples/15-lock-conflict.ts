/**
 * Seed demo "锁冲突": while alice holds a lock, bob tries with a small retry budget
 * (`retryCount: 2, retryDelay: 100`) and fails with a `LockAcquireError` whose `code` and
 * `attempts` say what happened. Carol waits with a larger budget (`retryCount: 20`) and gets the
 * lock soon after alice releases; the release notification wakes her without a full retry sleep.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 15-lock-conflict.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LockAcquireError, Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: a lock conflict (LockAcquireError, then a waiter that succeeds)';
export const keyPrefix = 'examples:conflict:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const ioredis = new Redis(redisUrl);
  const nodeRedis = await createClient({ url: redisUrl }).connect();
  const ioredisRunner = createIoredisRunner(ioredis);
  const nodeRedisRunner = createNodeRedisRunner(nodeRedis);
  const aliceSide = new Locker(ioredisRunner, { prefix: keyPrefix, ttl: 5_000 });
  const otherSide = new Locker(nodeRedisRunner, {
    prefix: keyPrefix,
    ttl: 5_000,
    hooks: {
      onAcquired: ({ waited, attempts }) =>
        log('carol', `got the lock after ${attempts} attempts, ${Math.round(waited)} ms of waiting`),
    },
  });
  try {
    const alice = await aliceSide.acquire('payout:batch-7');
    log('alice', 'got the lock on payout:batch-7');

    const failure = await otherSide
      .acquire('payout:batch-7', { retryCount: 2, retryDelay: 100 })
      .catch((error: unknown) => error);
    check(LockAcquireError.isInstance(failure), 'bob fails with a LockAcquireError');
    log(
      'bob',
      `${failure.name}: code ${failure.code}, ${failure.attempts} attempts, waited ${Math.round(failure.waited)} ms`,
    );
    // `attempts` counts round trips: exactly the first try and the two retries.
    check(failure.code === 'LOCK_NOT_ACQUIRED' && failure.attempts === 3, 'a first try plus two retries');

    log('carol', 'waiting (retryCount 20, retryDelay 100)…');
    const carolWaits = otherSide.acquire('payout:batch-7', { retryCount: 20, retryDelay: 100 });
    await sleep(400);
    await alice.release();
    log('alice', 'released');
    const releasedAt = performance.now();

    const carol = await carolWaits;
    const handOff = Math.round(performance.now() - releasedAt);
    log('carol', `holding it ${handOff} ms after alice's release (token ${carol.fencingToken})`);
    check(await carol.isLockedByMe(), 'carol holds the lock after alice released it');
    await carol.release();
  } finally {
    await Promise.all([ioredisRunner.close(), nodeRedisRunner.close()]);
    await Promise.all([ioredis.quit(), nodeRedis.close()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
