/**
 * Redlock latency: uncontended acquire + release through one `Locker` over 1, 3 and 5 local
 * `redis-server`s, on both adapters; prints p50 / p99 / mean per pair. Not a test: timings depend
 * on the machine. Run: `pnpm --filter @lock/safety latency:redlock [pairs]`.
 */
import { Locker, type ScriptRunner } from '@lock/core';
import { provisionRedis, type RedisInstance } from '@lock/testing';
import { CLIENT_KINDS, connectClient } from '../src/clients.js';

const PAIRS = Number(process.argv[2] ?? 3_000);
const WARM_UP = 200;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(runners: readonly ScriptRunner[]): Promise<number[]> {
  const locker = new Locker(runners.length === 1 ? (runners[0] as ScriptRunner) : runners, {
    prefix: 'latency:',
  });
  const samples: number[] = [];
  for (let round = 0; round < WARM_UP + PAIRS; round += 1) {
    const startedAt = performance.now();
    const lock = await locker.acquire(`pair-${round % 64}`);
    await lock.release();
    if (round >= WARM_UP) samples.push(performance.now() - startedAt);
  }
  return samples.sort((a, b) => a - b);
}

const servers: RedisInstance[] = await Promise.all(Array.from({ length: 5 }, () => provisionRedis()));
try {
  console.log(`${PAIRS} uncontended acquire + release pairs per row, Node ${process.version}`);
  console.log('| client | servers | p50 ms | p99 ms | mean ms |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const kind of CLIENT_KINDS) {
    const clients = await Promise.all(servers.map((server) => connectClient(kind, server.url)));
    for (const n of [1, 3, 5]) {
      const samples = await measure(clients.slice(0, n).map((client) => client.runner));
      const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
      const row = [kind, n, percentile(samples, 50), percentile(samples, 99), mean];
      console.log(
        `| ${row.map((value) => (typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : value)).join(' | ')} |`,
      );
    }
    await Promise.all(clients.map((client) => client.close()));
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
