/**
 * Fair lock: `fair: true` serves waiters in the order they arrived, and a release wakes only the
 * next one in line. Here five workers queue for one printer while a greedy worker that just
 * printed tries to take the printer straight back: it has to queue behind everyone else.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 21-fair-lock.ts
 */
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'createLock(name, { fair: true }): first come, first served';
export const keyPrefix = 'examples:fair-lock:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  // Every client locking this name must use fair: true (a plain acquire ignores the queue).
  const locker = new Locker(runner, { prefix: keyPrefix, fair: true, waitTimeout: 10_000 });
  const printed: string[] = [];
  try {
    const greedy = await locker.acquire('printer');
    log('greedy', 'holds the printer');

    const queue = `${keyPrefix}{printer}:queue`;
    const workers: Promise<void>[] = [];
    for (const worker of ['ana', 'ben', 'chloe', 'dev', 'eve']) {
      workers.push(
        locker.withLock('printer', async () => {
          printed.push(worker);
          log(worker, 'printing');
        }),
      );
      // Let each one take its place in the queue before the next one arrives.
      while ((await redis.zcard(queue)) < workers.length)
        await new Promise((resolve) => setTimeout(resolve, 5));
      log(worker, `waits, number ${workers.length} in line`);
    }
    log('greedy', 'releases, and immediately asks for the printer again');
    await greedy.release();
    const again = locker.withLock('printer', async () => {
      printed.push('greedy');
      log('greedy', 'printing again');
    });
    await Promise.all([...workers, again]);

    log('printer', `served in order: ${printed.join(', ')}`);
    check(
      printed.join() === 'ana,ben,chloe,dev,eve,greedy',
      'waiters are served in arrival order, the releaser queues behind them',
    );
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
