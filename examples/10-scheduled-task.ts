/**
 * Seed scenario "防止重复执行定时任务": every instance of a service runs the same cron schedule, so
 * at 02:00 they all fire `generateDailyReport` at once. Wrapped with
 * `locker.locked('daily-report', { onLocked: 'skip' })`, exactly one runs it; the others resolve
 * `undefined` and move on. Each instance here has its own client (ioredis or node-redis) and
 * Locker, as separate processes would.
 *
 * The job must outlast the spread between the instances' clocks (here they fire within a few ms
 * and the job takes 300 ms): a lock only excludes overlapping runs. For a job shorter than that
 * spread, name the lock after the schedule slot (`daily-report:2024-05-01`) and record completion.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 10-scheduled-task.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: de-duplicated scheduled task (onLocked: skip)';
export const keyPrefix = 'examples:cron:';

const INSTANCES = 4;

/** One service instance: its own client and runner, as a separate process would have. */
async function startInstance(redisUrl: string, index: number) {
  if (index % 2 === 0) {
    const client = new Redis(redisUrl);
    const runner = createIoredisRunner(client);
    return { runner, close: () => runner.close().then(() => client.quit()) };
  }
  const client = await createClient({ url: redisUrl }).connect();
  const runner = createNodeRedisRunner(client);
  return { runner, close: () => runner.close().then(() => client.close()) };
}

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const reportRuns = `${keyPrefix}report-runs`;
  const admin = new Redis(redisUrl);
  const started = await Promise.all(
    Array.from({ length: INSTANCES }, (_, index) => startInstance(redisUrl, index)),
  );
  try {
    const instances = started.map(({ runner }, index) => {
      const name = `instance-${index + 1}`;
      const locker = new Locker(runner, { prefix: keyPrefix, ttl: 60_000 });

      async function generateDailyReport(): Promise<string> {
        log(name, 'got the lock: generating the daily report…');
        await admin.incr(reportRuns);
        await sleep(300);
        return `report by ${name}`;
      }
      return { name, dailyReport: locker.locked('daily-report', { onLocked: 'skip' })(generateDailyReport) };
    });

    log('cron', `02:00: firing daily-report on all ${INSTANCES} instances`);
    const results = await Promise.all(
      instances.map(async ({ name, dailyReport }) => {
        const result = await dailyReport();
        log(name, result === undefined ? 'skipped: held elsewhere' : `finished (${result})`);
        return result;
      }),
    );

    const runs = Number(await admin.get(reportRuns));
    const produced = results.filter((result) => result !== undefined);
    log('check', `the report ran ${runs} time(s); ${results.length - produced.length} instances skipped`);
    check(runs === 1 && produced.length === 1, 'exactly one instance ran the job');
  } finally {
    await Promise.all(started.map((instance) => instance.close()));
    await admin.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
