/**
 * Hand-off latency on one contended lock: 8 waiters, each with its own ioredis connection, loop
 * acquire → hold 1 ms → release → think 5 ms (so the releaser does not simply take the lock
 * again). Measures the time from a holder starting its release to the next holder's acquire
 * resolving, with release notifications (the default) and with polling only.
 *
 * Run: pnpm bench (at the root). Redis comes from the test harness (REDIS_URL, else a spawned
 * redis-server on a free loopback port).
 */
import { Locker } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { provisionRedis } from '@lock/testing';
import { Redis } from 'ioredis';

const WAITERS = 8;
const HANDOFFS = 400;

interface Summary {
  readonly mode: string;
  readonly handoffs: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly perSecond: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(url: string, notifications: boolean): Promise<Summary> {
  const clients = Array.from({ length: WAITERS }, () => new Redis(url));
  const runners = clients.map((client) => createIoredisRunner(client, { notifications }));
  const name = `handoff-${notifications ? 'notify' : 'poll'}-${Date.now()}`;
  const latencies: number[] = [];
  let releaseStartedAt: number | undefined;
  let previousHolder = -1;
  let remaining = HANDOFFS;
  const started = performance.now();

  await Promise.all(
    runners.map(async (runner, worker) => {
      const locker = new Locker(runner, { prefix: 'bench:', waitTimeout: 60_000, fencing: false });
      while (remaining > 0) {
        const lock = await locker.acquire(name);
        const acquiredAt = performance.now();
        if (releaseStartedAt !== undefined && previousHolder !== worker) {
          latencies.push(acquiredAt - releaseStartedAt);
        }
        previousHolder = worker;
        remaining -= 1;
        await sleep(1);
        releaseStartedAt = performance.now();
        await lock.release();
        await sleep(5);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(runners.map((runner) => runner.close()));
  await Promise.all(clients.map((client) => client.quit()));

  latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? 0;
  return {
    mode: notifications ? 'notifications' : 'polling (retryDelay 100 ± 50 ms)',
    handoffs: latencies.length,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? 0,
    perSecond: (HANDOFFS / elapsed) * 1_000,
  };
}

const redis = await provisionRedis();
try {
  const results = [await measure(redis.url, true), await measure(redis.url, false)];
  console.log(`\nHand-off latency, ${WAITERS} waiters on one lock, hold 1 ms (${redis.source}):\n`);
  console.log('| mode | hand-offs | p50 ms | p99 ms | max ms | hand-offs/s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.mode} | ${r.handoffs} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.perSecond.toFixed(0)} |`,
    );
  }
} finally {
  await redis.stop();
}
