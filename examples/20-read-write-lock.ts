/**
 * Read-write lock: many readers at once, or one writer, and a writer is not starved by readers.
 *
 * Dashboards read a price list under read holds, a new one every 50 ms, each reading for 150 ms,
 * so there are always several reading. A price update job asks for the write hold in the middle of
 * that stream: its "writer waiting" mark holds new readers back, the readers already in finish,
 * the writer goes in alone, and the readers that arrived meanwhile go next and see the new price.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 20-read-write-lock.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Read-write lock: readers share, a waiting writer goes next';
export const keyPrefix = 'examples:read-write:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000 });
  const prices = locker.readWriteLock('price-list');
  const priceKey = `${keyPrefix}price`;
  let reading = 0;
  let mostReading = 0;
  let writing = false;
  let violations = 0;
  let writtenAt: number | undefined;
  const seen: { reader: number; price: string | null; afterWrite: boolean }[] = [];

  const dashboard = (id: number) =>
    prices.withRead(
      async (lock) => {
        reading += 1;
        mostReading = Math.max(mostReading, reading);
        if (writing) violations += 1;
        const price = await redis.get(priceKey);
        seen.push({ reader: id, price, afterWrite: writtenAt !== undefined });
        log(`reader-${id}`, `reads ${price} (${reading} reading, fencing token ${lock.fencingToken})`);
        await sleep(150);
        reading -= 1;
      },
      { waitTimeout: 3_000 },
    );

  try {
    await redis.set(priceKey, '100');
    const stream = (async () => {
      const readers: Promise<void>[] = [];
      for (let id = 1; id <= 14; id += 1) {
        readers.push(dashboard(id));
        await sleep(50);
      }
      await Promise.all(readers);
    })();

    await sleep(250);
    log('writer', 'asks for the write hold while readers keep coming');
    const askedAt = performance.now();
    const update = prices.withWrite(
      async (lock) => {
        if (reading > 0) violations += 1;
        writing = true;
        const waited = Math.round(performance.now() - askedAt);
        log('writer', `in alone after ${waited} ms (fencing token ${lock.fencingToken}): price 100 → 120`);
        await redis.set(priceKey, '120');
        await sleep(100);
        writtenAt = performance.now();
        writing = false;
        return waited;
      },
      { waitTimeout: 3_000, retryDelay: 50 },
    );
    await sleep(40);
    const report = await prices.inspect();
    log(
      'inspect',
      `${report.readers.length} readers finishing, ${report.writersWaiting.length} writer waiting: new readers wait`,
    );
    const waited = await update;
    await stream;

    check(violations === 0, 'no reader ever ran alongside the writer');
    check(mostReading >= 2, 'readers shared the lock');
    check(waited < 1_500, 'the writer got in once the readers already in had finished');
    const late = seen.filter((entry) => entry.afterWrite);
    check(late.length > 0, 'readers went on after the writer');
    check(
      late.every((entry) => entry.price === '120'),
      'readers after the writer see the new price',
    );
    log('result', `${seen.length} reads (at most ${mostReading} at once), 1 write, never together`);
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
