/**
 * Function wrapper (applied to a plain function):
 * `locker.locked(name?, options?)(fn)` returns a function whose every call runs under the lock.
 * The lock is named after the function unless a name is given. By default a call that finds the
 * lock held rejects with a `LockAcquireError`; with `waitTimeout`, calls wait their turn.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 04-locked-wrapper.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LockAcquireError, Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'locker.locked(...) as a function wrapper';
export const keyPrefix = 'examples:locked-wrapper:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000 });
  try {
    let rebuilds = 0;
    async function rebuildSearchIndex(caller: string): Promise<number> {
      log(caller, 'rebuilding the search index…');
      await sleep(100);
      rebuilds += 1;
      return rebuilds;
    }

    // Named after the function: the lock is `rebuildSearchIndex`.
    const rebuildOrFail = locker.locked()(rebuildSearchIndex);
    const callOnce = async (api: string): Promise<boolean> => {
      try {
        log(api, `done: rebuild #${await rebuildOrFail(api)}`);
        return true;
      } catch (error) {
        if (!LockAcquireError.isInstance(error)) throw error;
        log(api, `rejected at once: ${error.code}`);
        return false;
      }
    };
    const ran = (await Promise.all(['api-1', 'api-2', 'api-3'].map(callOnce))).filter(Boolean).length;
    check(ran === 1 && rebuilds === 1, 'with the default onLocked: throw, exactly one concurrent call runs');

    // The name can be omitted only by passing undefined when options are given.
    const rebuildInTurn = locker.locked(undefined, { waitTimeout: 3_000 })(rebuildSearchIndex);
    const turns = await Promise.all(['api-1', 'api-2', 'api-3'].map((api) => rebuildInTurn(api)));
    log('check', `with waitTimeout every call ran, one after another: rebuilds #${turns.join(', #')}`);
    check([...turns].sort().join() === '2,3,4', 'with waitTimeout all three calls run in turn');
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
