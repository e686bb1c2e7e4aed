/**
 * Callback style (the seed's `distributed_lock(...)` helper, "方式 2"):
 * `locker.withLock(name, async (lock) => …, options)` runs the callback under the lock, returns its
 * value, releases on every path, and rethrows the callback's own error. With `waitTimeout`,
 * concurrent callers queue up instead of failing.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 03-with-lock.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createNodeRedisRunner } from '@lock/node-redis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'locker.withLock(name, async (lock) => …)';
export const keyPrefix = 'examples:with-lock:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const client = await createClient({ url: redisUrl }).connect();
  const runner = createNodeRedisRunner(client);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000 });
  try {
    let inside = 0;
    let mostInside = 0;
    const settle = (clerk: string) =>
      // waitTimeout makes a busy lock a queue: retry (woken by the release notification) for up
      // to 3 s, then give up with a LockAcquireError.
      locker.withLock(
        'ledger:settlement',
        async (lock) => {
          inside += 1;
          mostInside = Math.max(mostInside, inside);
          log(clerk, `got the lock (token ${lock.fencingToken}), settling…`);
          // Work that must stop if the lock is lost takes the lock's signal.
          await sleep(150, undefined, { signal: lock.signal });
          inside -= 1;
          log(clerk, 'done');
          return `${clerk}: settled`;
        },
        { waitTimeout: 3_000 },
      );

    const results = await Promise.all(['clerk-1', 'clerk-2', 'clerk-3'].map(settle));
    log('check', `results: ${results.join(' | ')}`);
    check(results.length === 3 && mostInside === 1, 'the three clerks settled one at a time');

    const failure = await locker
      .withLock('ledger:settlement', async () => {
        throw new Error('ledger out of balance');
      })
      .catch((error: unknown) => error);
    check(failure instanceof Error && failure.message === 'ledger out of balance', 'own error rethrown');
    check((await locker.inspect('ledger:settlement')).owner === null, 'released after the error');
    log('check', `callback threw "${failure.message}": rethrown as is, lock released`);
  } finally {
    await runner.close();
    await client.close();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
