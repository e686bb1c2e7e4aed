/**
 * Seed demo "手动延长锁": `extend(ms)` adds `ms` to the remaining time; `extend(ms, { replace:
 * true })` sets the remaining time to `ms`. Both resolve `true` while the lock is ours. Once the
 * lock has run out, `extend` resolves `false` and the lock's signal says it expired.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 16-manual-extend.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker, LockLostError } from '@lock/core';
import { createNodeRedisRunner } from '@lock/node-redis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: manual extend (extend(ms) adds, { replace: true } sets)';
export const keyPrefix = 'examples:extend:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const client = await createClient({ url: redisUrl }).connect();
  const runner = createNodeRedisRunner(client);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 2_000 });
  try {
    const lock = await locker.acquire('migration:orders');
    const start = await lock.remainingTime();
    log('migrator', `acquired with ttl 2000: remaining ${start} ms; partial work done`);

    check(await lock.extend(1_500), 'extend adds while the lock is held');
    const added = await lock.remainingTime();
    log('migrator', `extend(1500): remaining ${start} → ${added} ms`);
    check(added > start + 1_400 && added <= start + 1_500, 'extend(ms) adds ms to the remaining time');

    check(await lock.extend(500, { replace: true }), 'extend with replace succeeds while held');
    const replaced = await lock.remainingTime();
    log('migrator', `extend(500, { replace: true }): remaining ${added} → ${replaced} ms`);
    check(replaced > 400 && replaced <= 500, 'replace sets the remaining time');

    await sleep(650);
    const late = await lock.extend(1_000);
    const reason: unknown = lock.signal.reason;
    check(LockLostError.isInstance(reason), 'the signal carries a LockLostError');
    log('migrator', `650 ms later: extend(1000) → ${late}; signal aborted, reason "${reason.reason}"`);
    check(!late && reason.reason === 'expired', 'an expired lock cannot be extended');
    check(!(await lock.release()), 'release after expiry resolves false');
  } finally {
    await runner.close();
    await client.close();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
