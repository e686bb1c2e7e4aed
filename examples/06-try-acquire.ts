/**
 * Non-blocking attempt: `locker.tryAcquire(name)` makes exactly one attempt and resolves the held
 * lock, or `null` when someone else has it. No exception for the ordinary "busy" case, and no
 * waiting even if retry options are set.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 06-try-acquire.ts
 */
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'locker.tryAcquire(name) → Lock | null';
export const keyPrefix = 'examples:try-acquire:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  // Two clients stand for two processes.
  const redisA = new Redis(redisUrl);
  const redisB = new Redis(redisUrl);
  const runnerA = createIoredisRunner(redisA);
  const runnerB = createIoredisRunner(redisB);
  const nodeA = new Locker(runnerA, { prefix: keyPrefix, ttl: 5_000 });
  const nodeB = new Locker(runnerB, { prefix: keyPrefix, ttl: 5_000 });
  try {
    const first = await nodeA.tryAcquire('thumbnail:42');
    check(first !== null, 'node-a gets the free lock');
    log('node-a', 'tryAcquire → got the lock, rendering thumbnail 42');

    const started = performance.now();
    const second = await nodeB.tryAcquire('thumbnail:42', { retryCount: 10, retryDelay: 200 });
    const waited = Math.round(performance.now() - started);
    log('node-b', `tryAcquire → ${second}: held elsewhere, answered in ${waited} ms (retries ignored)`);
    check(second === null, 'node-b gets null while node-a holds the lock');
    check(waited < 200, 'tryAcquire never waits');

    await first.release();
    log('node-a', 'released');

    const third = await nodeB.tryAcquire('thumbnail:42');
    check(third !== null, 'node-b gets the lock once it is free');
    log('node-b', 'tryAcquire → got the lock now');
    await third.release();
  } finally {
    await Promise.all([runnerA.close(), runnerB.close()]);
    await Promise.all([redisA.quit(), redisB.quit()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
