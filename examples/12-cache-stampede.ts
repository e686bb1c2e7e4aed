/**
 * Seed scenario "缓存更新" (cache-stampede guard): many readers miss the same cache key at once.
 * Instead of all of them querying the database, each takes `cache-refresh:<key>` with retries
 * (`retryCount`/`retryDelay`); the first loads and fills the cache,
 * the others wait, then re-check the cache under the lock and find it filled: one database load.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 12-cache-stampede.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: cache-stampede guard (one loader, the rest wait and re-check)';
export const keyPrefix = 'examples:cache:';

const READERS = 6;

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  // A waiter wakes on the release notification; the retries are its budget, about 2 s here.
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000, retryCount: 20, retryDelay: 100 });
  let databaseLoads = 0;

  async function loadFromDatabase(id: string): Promise<string> {
    databaseLoads += 1;
    await sleep(300);
    return JSON.stringify({ id, name: 'Mechanical keyboard', price: 129 });
  }

  /** Reads the cache, refreshing it under the lock when it is empty. */
  async function getProduct(reader: string, id: string): Promise<string> {
    const cacheKey = `${keyPrefix}product:${id}`;
    const cached = await redis.get(cacheKey);
    if (cached !== null) {
      log(reader, 'cache hit');
      return cached;
    }
    log(reader, 'cache miss: waiting for the refresh lock');
    return locker.withLock(`cache-refresh:${id}`, async () => {
      // Another reader may have filled the cache while this one waited for the lock.
      const filled = await redis.get(cacheKey);
      if (filled !== null) {
        log(reader, 'got the lock; re-checked the cache: filled by another reader');
        return filled;
      }
      log(reader, 'got the lock; cache still empty: loading from the database…');
      const product = await loadFromDatabase(id);
      await redis.set(cacheKey, product, 'EX', 60);
      return product;
    });
  }

  try {
    const values = await Promise.all(
      Array.from({ length: READERS }, (_, index) => getProduct(`reader-${index + 1}`, '42')),
    );
    const late = await getProduct('reader-late', '42');

    log('check', `${READERS + 1} reads, ${databaseLoads} database load(s)`);
    check(databaseLoads === 1, 'the database was hit exactly once');
    check(
      values.every((value) => value === late),
      'every reader got the same product',
    );
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
