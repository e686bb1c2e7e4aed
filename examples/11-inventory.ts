/**
 * Seed scenario "库存扣减": concurrent buyers decrement a stock counter in Redis with a plain
 * read-then-write (GET, think, SET) — not atomic on its own. Under `withLock('inventory:<sku>')`
 * the read and write of one buyer never interleave with another's, so the final stock is exact
 * and never negative. Buyers come through two clients (ioredis and node-redis), as from two
 * services. For contrast, the same buyers first run without the lock.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 11-inventory.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: inventory decrement (read-then-write under the lock)';
export const keyPrefix = 'examples:inventory:';

const INITIAL_STOCK = 10;
/** How many units each buyer wants: 20 units asked for, 10 in stock. */
const ORDERS = [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1];

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const sku = 'sku-42';
  const stockKey = `${keyPrefix}stock:${sku}`;
  const ioredis = new Redis(redisUrl);
  const nodeRedis = await createClient({ url: redisUrl }).connect();
  const ioredisRunner = createIoredisRunner(ioredis);
  const nodeRedisRunner = createNodeRedisRunner(nodeRedis);
  // Buyers queue for up to 5 s; release notifications wake the next one at once.
  const lockers = [
    new Locker(ioredisRunner, { prefix: keyPrefix, ttl: 5_000, waitTimeout: 5_000 }),
    new Locker(nodeRedisRunner, { prefix: keyPrefix, ttl: 5_000, waitTimeout: 5_000 }),
  ];

  /** The seed's decrease_inventory: read, check, write back. Only safe under the lock. */
  async function decreaseInventory(quantity: number): Promise<boolean> {
    const stock = Number(await ioredis.get(stockKey));
    // Stands for the time a real service spends between the read and the write.
    await sleep(5);
    if (stock < quantity) return false;
    await ioredis.set(stockKey, stock - quantity);
    return true;
  }

  try {
    await ioredis.set(stockKey, INITIAL_STOCK);
    const unlocked = await Promise.all(ORDERS.map((quantity) => decreaseInventory(quantity)));
    const promised = ORDERS.filter((_, index) => unlocked[index]).reduce((sum, units) => sum + units, 0);
    log(
      'no lock',
      `${promised} units sold out of ${INITIAL_STOCK}, stock now ${await ioredis.get(stockKey)}: oversold`,
    );

    await ioredis.set(stockKey, INITIAL_STOCK);
    const sold = await Promise.all(
      ORDERS.map(async (quantity, index) => {
        const buyer = `buyer-${String(index + 1).padStart(2, '0')}`;
        const locker = lockers[index % lockers.length] as Locker;
        const ok = await locker.withLock(`inventory:${sku}`, () => decreaseInventory(quantity));
        log(buyer, ok ? `bought ${quantity}` : `wanted ${quantity}: not enough stock`);
        return ok ? quantity : 0;
      }),
    );

    const total = sold.reduce((sum, units) => sum + units, 0);
    const stock = Number(await ioredis.get(stockKey));
    log('check', `with the lock: ${total} units sold, stock ${stock} (${INITIAL_STOCK} − ${total})`);
    check(stock === INITIAL_STOCK - total, 'the stock is exactly the initial stock minus what was sold');
    check(stock >= 0, 'the stock never goes negative');
    check(
      ORDERS.every((quantity, index) => sold[index] !== 0 || quantity > stock),
      'no sale refused wrongly',
    );
  } finally {
    await Promise.all([ioredisRunner.close(), nodeRedisRunner.close()]);
    await Promise.all([ioredis.quit(), nodeRedis.close()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
