/**
 * Fencing tokens: why a lock alone cannot protect a store, and how the store checks the token.
 *
 * Worker A takes the lock and stalls (a GC pause, a blocked event loop) past its ttl. Worker B
 * takes the lock, with a higher fencing token, and writes. Then A wakes up and sends its write,
 * still believing it holds the lock. The store runs a fenced SET in Lua: it remembers the highest
 * token it has seen for the key and refuses A's older one. (The same check in SQL is
 * `UPDATE … SET …, fence = $token WHERE id = $id AND fence <= $token`; see the README.)
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 18-fencing.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Fencing tokens: the store refuses a stale holder';
export const keyPrefix = 'examples:fencing:';

/**
 * A SET that refuses writes carrying a lower token than the highest one seen.
 * KEYS[1]: the value; KEYS[2]: the highest token seen for it. ARGV[1]: token; ARGV[2]: value.
 * Returns 1 when written, 0 when refused.
 */
const FENCED_SET = `
local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < highest then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  const locker = new Locker(runner, { prefix: keyPrefix, ttl: 300 });
  // Both keys share a {hash tag}, so the fenced write also works on Redis Cluster.
  const valueKey = `${keyPrefix}{report}:value`;
  const fenceKey = `${keyPrefix}{report}:fence-seen`;
  const fencedWrite = async (token: number | undefined, value: string) =>
    (await redis.eval(FENCED_SET, 2, valueKey, fenceKey, String(token), value)) === 1;
  try {
    const lockA = await locker.acquire('report');
    log('worker-A', `got the lock with fencing token ${lockA.fencingToken}; now stalls for 500 ms`);
    await sleep(500); // longer than the 300 ms ttl: A's lock expires while it is paused

    const lockB = await locker.acquire('report');
    log('worker-B', `got the lock with fencing token ${lockB.fencingToken}`);
    check((lockB.fencingToken ?? 0) > (lockA.fencingToken ?? 0), 'tokens strictly increase');
    check(await fencedWrite(lockB.fencingToken, 'written by B'), "B's write is accepted");
    log('worker-B', 'fenced write accepted');
    await lockB.release();

    log('worker-A', `wakes up, lock.signal.aborted = ${lockA.signal.aborted}, writes anyway…`);
    const staleAccepted = await fencedWrite(lockA.fencingToken, 'written by A (stale)');
    log(
      'store',
      staleAccepted
        ? 'accepted the stale write!'
        : `refused token ${lockA.fencingToken}: a newer holder wrote`,
    );
    check(!staleAccepted, "the store refuses A's stale token");
    check((await redis.get(valueKey)) === 'written by B', "B's value survives");
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
