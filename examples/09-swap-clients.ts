/**
 * Swapping clients: the same locking code runs once over ioredis and once over node-redis; only
 * the line that builds the runner differs, and both give the same answers. Locks are plain Redis
 * keys, so a lock taken through one client also excludes holders on the other.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 09-swap-clients.ts
 */
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Swapping clients: ioredis ⇄ node-redis';
export const keyPrefix = 'examples:swap-clients:';

/** Client-agnostic application code: it sees a Locker, never a Redis client. */
async function reserveSeat(locker: Locker, seat: string): Promise<string[]> {
  const seen: string[] = [];
  await locker.withLock(`seat:${seat}`, async (lock) => {
    seen.push(`held by me: ${await lock.isLockedByMe()}`);
    seen.push(`rival tryAcquire: ${await locker.tryAcquire(`seat:${seat}`)}`);
    seen.push(`extend: ${await lock.extend(1_000)}`);
  });
  seen.push(`free afterwards: ${(await locker.inspect(`seat:${seat}`)).owner === null}`);
  return seen;
}

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const options = { prefix: keyPrefix, ttl: 5_000 };
  const ioredis = new Redis(redisUrl);
  const nodeRedis = await createClient({ url: redisUrl }).connect();
  const ioredisRunner = createIoredisRunner(ioredis); // ← the only line that differs…
  const nodeRedisRunner = createNodeRedisRunner(nodeRedis); // ← …from this one
  try {
    const lockerA = new Locker(ioredisRunner, options);
    const fromIoredis = await reserveSeat(lockerA, '12A');
    log('ioredis', fromIoredis.join(', '));

    const lockerB = new Locker(nodeRedisRunner, options);
    const fromNodeRedis = await reserveSeat(lockerB, '12A');
    log('node-redis', fromNodeRedis.join(', '));

    check(fromIoredis.join() === fromNodeRedis.join(), 'both clients give the same answers');

    const held = await lockerA.acquire('seat:14C');
    const crossed = await lockerB.tryAcquire('seat:14C');
    log('mixed', `seat:14C held via ioredis → node-redis tryAcquire: ${crossed}`);
    check(crossed === null, 'a lock taken through ioredis excludes node-redis');
    await held.release();
  } finally {
    // Each runner closes only its own subscriber connection; the clients are ours to close.
    await Promise.all([ioredisRunner.close(), nodeRedisRunner.close()]);
    await Promise.all([ioredis.quit(), nodeRedis.close()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
