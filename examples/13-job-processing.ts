/**
 * Seed scenario "分布式任务调度": two workers walk the same job list. For each job a worker calls
 * `tryAcquire('job:<id>')`: `null` means another worker has it, so it skips on to the next job
 * instead of waiting (the seed's `acquire(blocking=False)`). Under the lock it also checks a
 * "done" record, because a lock only stops two workers running a job at the same time, not one
 * after the other. Result: each job is processed exactly once.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 13-job-processing.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: job processing that skips jobs taken elsewhere (tryAcquire)';
export const keyPrefix = 'examples:jobs:';

const JOBS = ['job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6'];

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const doneKey = `${keyPrefix}done`;
  const runsKey = `${keyPrefix}runs`;
  const ioredis = new Redis(redisUrl);
  const nodeRedis = await createClient({ url: redisUrl }).connect();
  const ioredisRunner = createIoredisRunner(ioredis);
  const nodeRedisRunner = createNodeRedisRunner(nodeRedis);
  // The seed's ttl=300 s with auto-renewal: a crashed worker frees its job within one ttl.
  const options = { prefix: keyPrefix, ttl: 30_000, autoRenewal: true };
  const workers = [
    { name: 'worker-1', locker: new Locker(ioredisRunner, options), startsAfter: 0 },
    // Comes online a little later, so it also meets jobs that are already finished.
    { name: 'worker-2', locker: new Locker(nodeRedisRunner, options), startsAfter: 150 },
  ];

  async function work(name: string, locker: Locker, startsAfter: number): Promise<number> {
    await sleep(startsAfter);
    let processed = 0;
    for (const job of JOBS) {
      const lock = await locker.tryAcquire(`job:${job}`);
      if (lock === null) {
        log(name, `${job} skipped: held elsewhere`);
        continue;
      }
      try {
        if (await ioredis.hexists(doneKey, job)) {
          log(name, `${job} skipped: already done`);
          continue;
        }
        log(name, `${job}: got the lock, processing…`);
        await sleep(60 + Math.floor(Math.random() * 60), undefined, { signal: lock.signal });
        await ioredis.hincrby(runsKey, job, 1);
        await ioredis.hset(doneKey, job, name);
        processed += 1;
      } finally {
        await lock.release();
      }
    }
    return processed;
  }

  try {
    const counts = await Promise.all(
      workers.map(({ name, locker, startsAfter }) => work(name, locker, startsAfter)),
    );
    const runs = await ioredis.hgetall(runsKey);
    const perJob = JOBS.map((job) => `${job}×${runs[job] ?? 0}`).join(' ');
    log('check', `worker-1 processed ${counts[0]}, worker-2 processed ${counts[1]}; runs: ${perJob}`);
    check(
      JOBS.every((job) => runs[job] === '1'),
      'every job was processed exactly once',
    );
    check(counts.reduce((sum, count) => sum + count, 0) === JOBS.length, 'the workers split the jobs');
  } finally {
    await Promise.all([ioredisRunner.close(), nodeRedisRunner.close()]);
    await Promise.all([ioredis.quit(), nodeRedis.close()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
