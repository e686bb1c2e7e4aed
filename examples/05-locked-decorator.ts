/**
 * Method decorator: `@locker.locked()` on a method
 * makes every call run under a lock named after the method; `this` and arguments pass through.
 * Standard (TC39) decorators here, lowered by tsx/esbuild; the same decorator works in projects
 * with `"experimentalDecorators": true` (NestJS, TypeORM).
 * `onLocked: 'skip'` makes a call that finds the lock held resolve `undefined` without running.
 *
 * A decorator is evaluated when its class is defined, so it needs the Locker by then: apps keep
 * the Locker in a module made at startup; here the class is defined once the Locker exists.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 05-locked-decorator.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = '@locker.locked() as a TypeScript method decorator';
export const keyPrefix = 'examples:locked-decorator:';

function defineCatalogService(locker: Locker, log: ExampleContext['log']) {
  let running = 0;
  let mostRunning = 0;

  class CatalogService {
    constructor(readonly instance: string) {}

    get mostConcurrentRebuilds(): number {
      return mostRunning;
    }

    // Lock name: `rebuildPrices`, the method's name. Calls queue for up to 3 s.
    @locker.locked(undefined, { waitTimeout: 3_000 })
    async rebuildPrices(currency: string): Promise<string> {
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      log(this.instance, `rebuildPrices(${currency}) running`);
      await sleep(100);
      running -= 1;
      return `${this.instance}:${currency}`;
    }

    @locker.locked('catalog:compact', { onLocked: 'skip' })
    async compact(): Promise<string | undefined> {
      log(this.instance, 'compact() running');
      return 'compacted';
    }
  }
  return CatalogService;
}

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000 });
  try {
    const CatalogService = defineCatalogService(locker, log);
    const instances = [new CatalogService('node-a'), new CatalogService('node-b')];

    const calls = Promise.all([
      instances[0]?.rebuildPrices('EUR'),
      instances[1]?.rebuildPrices('USD'),
      instances[0]?.rebuildPrices('JPY'),
    ]);
    await sleep(50);
    const named = await locker.inspect('rebuildPrices');
    log('ops', `inspect('rebuildPrices') → held (${named.key}): the lock is named after the method`);
    check(named.owner !== null, 'the lock is named after the method');
    const rebuilt = await calls;
    log('check', `all three calls returned: ${rebuilt.join(', ')}`);
    check(rebuilt.join() === 'node-a:EUR,node-b:USD,node-a:JPY', 'each call kept its own this and args');
    check(instances[0]?.mostConcurrentRebuilds === 1, 'rebuildPrices never ran twice at once');

    const elsewhere = await locker.acquire('catalog:compact');
    log('ops', 'holding catalog:compact from elsewhere');
    const skipped = await instances[1]?.compact();
    log('node-b', `compact() → ${skipped}: skipped, the lock was held`);
    check(skipped === undefined, "onLocked: 'skip' resolves undefined while the lock is held");
    await elsewhere.release();
    const ran = await instances[1]?.compact();
    log('node-b', `compact() → ${ran} once the lock was free`);
    check(ran === 'compacted', 'compact runs once the lock is free');
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
