/**
 * Semaphore: a partner API allows at most 3 calls in flight, shared by two services (one on
 * ioredis, one on node-redis). `locker.semaphore('partner-api', { limit: 3 })` hands out permits:
 * 8 calls go through `withPermit`, never more than 3 at once, and each release wakes the next
 * waiter. A bulk export takes 2 permits at once; `tryAcquire` says `null` when the permits are
 * out; `inspect()` shows who holds what. Each holder has its own expiry: a crashed holder's permit
 * frees after its ttl (by the Redis server's clock) while the others keep theirs.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 19-semaphore.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Semaphore: at most 3 calls in flight across services';
export const keyPrefix = 'examples:semaphore:';

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const ioredis = new Redis(redisUrl);
  const nodeRedis = await createClient({ url: redisUrl }).connect();
  const ioredisRunner = createIoredisRunner(ioredis);
  const nodeRedisRunner = createNodeRedisRunner(nodeRedis);
  // Two services, one semaphore: every caller passes the same limit.
  const billing = new Locker(ioredisRunner, { prefix: keyPrefix, ttl: 5_000 }).semaphore('partner-api', {
    limit: 3,
  });
  const reports = new Locker(nodeRedisRunner, { prefix: keyPrefix, ttl: 5_000 }).semaphore('partner-api', {
    limit: 3,
  });
  try {
    let inFlight = 0;
    let mostInFlight = 0;
    const callPartner = (caller: string, index: number) =>
      (index % 2 === 0 ? billing : reports).withPermit(
        async (permit) => {
          inFlight += 1;
          mostInFlight = Math.max(mostInFlight, inFlight);
          log(caller, `calling the partner API (${inFlight} in flight, token ${permit.fencingToken})`);
          await sleep(120, undefined, { signal: permit.signal }); // stops if the permit is lost
          inFlight -= 1;
          return caller;
        },
        { waitTimeout: 5_000 }, // wait for a permit; a release wakes the next waiter at once
      );
    const callers = Array.from({ length: 8 }, (_, index) => `call-${index + 1}`);
    const done = await Promise.all(callers.map(callPartner));
    check(done.length === 8, 'every call went through');
    check(mostInFlight === 3, 'never more than 3 in flight, and the limit was used');
    log('check', `8 calls done, at most ${mostInFlight} in flight`);

    // Several permits at once: a bulk export counts as 2 calls.
    const bulk = await billing.acquire({ permits: 2 });
    const one = await reports.acquire();
    check((await reports.tryAcquire()) === null, 'no permit left: tryAcquire resolves null');
    const report = await billing.inspect();
    log(
      'inspect',
      `${report.inUse}/${report.limit} in use: ${report.holders
        .map((holder) => `${holder.permits} permit(s), ${holder.remaining} ms left`)
        .join('; ')}`,
    );
    check(report.inUse === 3 && report.available === 0, 'inspect shows 3 of 3 in use');
    await bulk.release();
    check((await billing.inspect()).inUse === 1, 'the bulk release gave back exactly its 2 permits');
    log('bulk export', 'released its 2 permits; the single call keeps its own');

    // Per-holder expiry: a holder that "crashes" (never releases) loses its permit after its own
    // ttl, counted by the Redis server; the holder next to it is not affected.
    const crashed = await reports.acquire({ ttl: 300 });
    log('crashed', 'took a permit with a 300 ms ttl and never releases it');
    await sleep(450);
    const left = await billing.inspect();
    check(!left.holders.some((holder) => holder.token === crashed.token), 'the crashed permit expired');
    check(
      left.holders.some((holder) => holder.token === one.token),
      'the other holder kept its permit',
    );
    check(crashed.signal.aborted, "the crashed holder's signal says so");
    log('check', `after 450 ms: ${left.inUse} in use; the crashed holder's permit is free again`);
    await one.release();
  } finally {
    await Promise.all([ioredisRunner.close(), nodeRedisRunner.close()]);
    await Promise.all([ioredis.quit(), nodeRedis.close()]);
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
