/**
 * Several OS processes, half on ioredis and half on node-redis, increment one Redis counter
 * with a non-atomic read-then-write under one lock. The total must be exact, and the holds every
 * process recorded (on the machine-wide monotonic clock) must never overlap.
 */
import { checkHistory, type HoldInterval, provisionRedis, type RedisInstance } from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientKind, connectClient } from '../src/clients.js';
import { spawnWorker, stopWorker, TSX_LOADER, type Worker } from '../workers/harness.js';
import type { ContentionConfig, FromContentionWorker, ToContentionWorker } from '../workers/protocol.js';

const KINDS: readonly ClientKind[] = ['ioredis', 'node-redis', 'ioredis', 'node-redis'];
const INCREMENTS_PER_WORKER = 500;
const TOTAL = KINDS.length * INCREMENTS_PER_WORKER;

type ContentionWorker = Worker<ToContentionWorker, FromContentionWorker>;

describe('contention across processes and clients', () => {
  let redis: RedisInstance;
  const workers: ContentionWorker[] = [];

  beforeAll(async () => {
    redis = await provisionRedis();
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await redis?.stop();
  });

  it('runs its workers under tsx, resolved from @lock/safety', () => {
    expect(TSX_LOADER).toMatch(/^file:\/\/.*tsx.*\.mjs$/);
  });

  it(`${KINDS.length} processes × ${INCREMENTS_PER_WORKER} non-atomic increments: exact total, no overlapping holds`, async () => {
    const lockName = `r1-${process.pid}`;
    const counterKey = `safety:r1-counter-${process.pid}`;
    for (const kind of KINDS) {
      const config: ContentionConfig = {
        url: redis.url,
        kind,
        lockName,
        counterKey,
        increments: INCREMENTS_PER_WORKER,
      };
      workers.push(spawnWorker<ToContentionWorker, FromContentionWorker>('contention-worker.ts', config));
    }
    // Everyone connects first, so that the run starts with every process contending at once.
    await Promise.all(workers.map((worker) => worker.next('ready', 20_000)));
    const startedAt = performance.now();
    for (const worker of workers) worker.send({ type: 'start' });
    const results = await Promise.all(workers.map((worker) => worker.next('done', 45_000)));
    const durationMs = performance.now() - startedAt;
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));

    const client = await connectClient('ioredis', redis.url);
    const counter = Number(await client.command(['GET', counterKey]));
    await client.close();

    const intervals: HoldInterval[] = results.flatMap((result) => [...result.intervals]);
    const report = checkHistory(intervals);
    const fencingTokens = report.intervals.map((interval) => interval.fencingToken);
    const summary = {
      processes: workers.length,
      clients: Object.fromEntries(KINDS.map((kind) => [kind, KINDS.filter((k) => k === kind).length])),
      operations: intervals.length,
      counter,
      overlaps: report.overlaps.length,
      excusedOverlaps: report.excusedOverlaps.length,
      fencingViolations: report.fencingViolations.length,
      durationMs: Math.round(durationMs),
      opsPerSecond: Math.round((intervals.length / durationMs) * 1000),
      acquireAttempts: results.reduce((sum, result) => sum + result.attempts, 0),
      perProcess: results.map((result, i) => ({
        pid: result.pid,
        kind: KINDS[i],
        holds: result.intervals.length,
        ms: Math.round(result.durationMs),
        meanWaitMs: Number((result.waitedMs / result.intervals.length).toFixed(2)),
      })),
    };
    console.log('contention:', JSON.stringify(summary, null, 2));

    expect(counter).toBe(TOTAL);
    expect(intervals).toHaveLength(TOTAL);
    expect(new Set(intervals.map((interval) => interval.pid)).size).toBe(KINDS.length);
    expect(report.overlaps).toEqual([]);
    expect(report.excusedOverlaps).toEqual([]);
    expect(report.fencingViolations).toEqual([]);
    // Every acquire minted one token and every hold was recorded: the tokens are exactly 1..TOTAL.
    expect(fencingTokens).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(results.map((result) => result.lostDuringHold)).toEqual(workers.map(() => 0));
  }, 60_000);
});
