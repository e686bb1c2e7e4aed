/**
 * Status queries (the seed's `is_locked_by_anyone()` / `is_locked_by_me()`):
 * `isLockedByAnyone()`, `isLockedByMe()` and `remainingTime()` ask Redis, not local memory;
 * `state` / `isHeld` are the handle's own view. `locker.inspect(name)` shows an operator the
 * holder, its remaining time and its fencing token without holding a handle.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 08-status.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Lock, Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Status: isLockedByAnyone / isLockedByMe / remainingTime';
export const keyPrefix = 'examples:status:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 2_000 });

  const describe = async (who: string, lock: Lock) => {
    const [anyone, me, remaining] = await Promise.all([
      lock.isLockedByAnyone(),
      lock.isLockedByMe(),
      lock.remainingTime(),
    ]);
    log(who, `state ${lock.state}: byAnyone ${anyone}, byMe ${me}, remaining ${remaining} ms`);
    return { anyone, me, remaining };
  };

  try {
    const holder = locker.createLock('export:orders');
    const observer = locker.createLock('export:orders');

    const before = await describe('holder', holder);
    check(!before.anyone && !before.me && before.remaining === 0, 'nothing is held yet');

    await holder.acquire();
    const fresh = await describe('holder', holder);
    await sleep(300);
    const later = await describe('holder', holder);
    check(fresh.me && later.me, 'the holder sees its own lock');
    check(later.remaining < fresh.remaining && later.remaining > 1_000, 'the remaining time runs down');

    const seen = await describe('observer', observer);
    check(seen.anyone && !seen.me && seen.remaining === 0, 'the observer sees a lock that is not its own');

    const report = await locker.inspect('export:orders');
    log(
      'ops',
      `inspect → holder …${report.owner?.slice(-6)}, ${report.remaining} ms left, token ${report.fencingToken}`,
    );
    check(report.owner === holder.token, 'inspect names the holder');

    await holder.release();
    const after = await describe('holder', holder);
    check(!after.anyone && !after.me && after.remaining === 0, 'nothing is held after release');
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
