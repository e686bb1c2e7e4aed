/**
 * Scoped use (the seed's context manager, "方式 1"): `await using lock = await locker.acquire(name)`
 * holds the lock to the end of the block and releases it on every way out, a thrown error
 * included. When the lock cannot be had, `acquire` throws a `LockAcquireError` instead of
 * handing back something to forget to check.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 02-await-using.ts
 */
import { LockAcquireError, Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'await using lock = await locker.acquire(name)';
export const keyPrefix = 'examples:await-using:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 5_000 });
  const isFree = async () => (await locker.inspect('report:weekly')).owner === null;

  async function writeWeeklyReport(failWith?: string): Promise<void> {
    await using lock = await locker.acquire('report:weekly');
    log('writer', `holding ${lock.key}`);
    check(await lock.isLockedByMe(), 'the lock is held inside the block');

    try {
      await locker.acquire('report:weekly');
      throw new Error('check failed: a second acquire must fail while the lock is held');
    } catch (error) {
      check(LockAcquireError.isInstance(error), 'a held lock makes acquire() throw LockAcquireError');
      log('rival', `acquire() threw ${error.name} (${error.code}) after ${error.attempts} attempt`);
    }

    if (failWith !== undefined) throw new Error(failWith);
    log('writer', 'report written, leaving the block');
  }

  try {
    await writeWeeklyReport();
    check(await isFree(), 'the lock is released at the end of the block');
    log('check', 'block left normally → lock released');

    const failure = await writeWeeklyReport('disk full').catch((error: unknown) => error);
    check(failure instanceof Error && failure.message === 'disk full', 'the block’s own error comes out');
    check(await isFree(), 'the lock is released when the block throws');
    log('check', `block threw "${failure.message}" → lock released all the same`);
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
