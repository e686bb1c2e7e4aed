/**
 * A lost lock: the holder runs with `autoRenewal`, and someone deletes its key behind its back
 * (here a raw `DEL` from another client; in life, an operator, a failover, a FLUSHALL). The next
 * renewal finds the key gone, so `lock.signal` aborts with a `LockLostError` whose `reason` says
 * why; work that took the signal stops instead of carrying on unprotected. `release()` then
 * resolves `false` and deletes nothing.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 17-lost-lock.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker, LockLostError } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'A lost lock: lock.signal aborts with a LockLostError';
export const keyPrefix = 'examples:lost:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const intruder = await createClient({ url: redisUrl }).connect();
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, {
    prefix: keyPrefix,
    hooks: { onLost: ({ error }) => log('hook', `onLost: ${error.message}`) },
  });
  try {
    const lock = await locker.acquire('reindex', { ttl: 1_000, autoRenewal: true });
    log('holder', `got the lock (renewal every ${lock.options.renewalInterval} ms), reindexing…`);

    let batches = 0;
    const work = (async () => {
      try {
        for (;;) {
          await sleep(100, undefined, { signal: lock.signal });
          batches += 1;
        }
      } catch (error) {
        if (!lock.signal.aborted) throw error;
        log('holder', `work stopped after ${batches} batches`);
      }
    })();

    await sleep(250);
    const deleted = await intruder.del(lock.key);
    log('intruder', `DEL ${lock.key} → ${deleted}`);
    const deletedAt = performance.now();
    await work;
    const noticed = Math.round(performance.now() - deletedAt);

    const reason: unknown = lock.signal.reason;
    check(LockLostError.isInstance(reason), 'the signal reason is a LockLostError');
    log(
      'holder',
      `signal aborted ${noticed} ms after the DEL: ${reason.name} ${reason.code}, reason "${reason.reason}"`,
    );
    check(lock.state === 'lost' && !lock.isHeld, 'the handle knows it lost the lock');
    check(noticed <= lock.options.renewalInterval + 200, 'the loss is noticed by the next renewal');

    const released = await lock.release();
    log('holder', `release() → ${released}: nothing of anyone else's deleted`);
    check(!released, 'release after loss resolves false');
    check((await locker.inspect('reindex')).owner === null, 'renewal did not bring the key back');
  } finally {
    await runner.close();
    await Promise.all([redis.quit(), intruder.close()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
