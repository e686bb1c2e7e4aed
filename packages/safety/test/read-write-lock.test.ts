/**
 * The read-write lock under contention and faults, on both adapters: readers and writers in a
 * loop, in several OS processes and in several clients of one process, with every hold recorded
 * on the machine-wide monotonic clock. The history must show no writer alongside anyone, write
 * fencing tokens rising, no torn read; and a Redis restart must tell every holder (read or write)
 * that its hold is gone, as for the mutex.
 */
import { Locker, type LockerOptions } from '@lock/core';
import {
  type ConnectedClient,
  checkReadWriteHistory,
  HistoryRecorder,
  type HoldInterval,
  provisionRedis,
  type RedisInstance,
  waitFor,
} from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { expectToldOfRestart } from '../src/lost.js';
import { uniqueName } from '../src/names.js';
import { settleTyped } from '../src/settle.js';
import { spawnWorker, stopWorker, type Worker } from '../workers/harness.js';
import type { FromReadWriteWorker, ReadWriteConfig, ToReadWriteWorker } from '../workers/protocol.js';

type ReadWriteWorker = Worker<ToReadWriteWorker, FromReadWriteWorker>;

/** The most read holds in force at one moment: evidence that readers really shared the lock. */
function mostReadersAtOnce(intervals: readonly HoldInterval[]): number {
  const events = intervals
    .filter((interval) => interval.mode === 'read')
    .flatMap((interval) => [
      { at: interval.start, delta: 1 },
      { at: interval.end, delta: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.delta - b.delta); // an end before a start at the same µs
  let current = 0;
  let most = 0;
  for (const event of events) {
    current += event.delta;
    most = Math.max(most, current);
  }
  return most;
}

describe('read-write lock across processes and clients', () => {
  const KINDS: readonly ClientKind[] = ['ioredis', 'node-redis', 'ioredis', 'node-redis'];
  const OPERATIONS = 240;
  const WRITE_EVERY = 4;
  let redis: RedisInstance;
  const workers: ReadWriteWorker[] = [];

  beforeAll(async () => {
    redis = await provisionRedis();
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await redis?.stop();
  });

  it(`${KINDS.length} processes × ${OPERATIONS} reads and writes: no writer alongside anyone, rising write tokens`, async () => {
    const lockName = `rw-${process.pid}`;
    const dataKeys: [string, string] = [`safety:rw-a-${process.pid}`, `safety:rw-b-${process.pid}`];
    for (const [index, kind] of KINDS.entries()) {
      const config: ReadWriteConfig = {
        url: redis.url,
        kind,
        lockName,
        dataKeys,
        operations: OPERATIONS,
        writeEvery: WRITE_EVERY,
        index,
      };
      workers.push(spawnWorker<ToReadWriteWorker, FromReadWriteWorker>('read-write-worker.ts', config));
    }
    await Promise.all(workers.map((worker) => worker.next('ready', 20_000)));
    const startedAt = performance.now();
    for (const worker of workers) worker.send({ type: 'start' });
    const results = await Promise.all(workers.map((worker) => worker.next('done', 50_000)));
    const durationMs = performance.now() - startedAt;
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));

    const client = await connectClient('ioredis', redis.url);
    const [a, b] = await Promise.all(dataKeys.map(async (key) => Number(await client.command(['GET', key]))));
    await client.close();

    const intervals = results.flatMap((result) => [...result.intervals]);
    const report = checkReadWriteHistory(intervals);
    const writes = results.reduce((sum, result) => sum + result.writes, 0);
    const summary = {
      processes: workers.length,
      holds: intervals.length,
      reads: results.reduce((sum, result) => sum + result.reads, 0),
      writes,
      mostReadersAtOnce: mostReadersAtOnce(intervals),
      tornReads: results.reduce((sum, result) => sum + result.tornReads, 0),
      overlaps: report.overlaps.length,
      excusedOverlaps: report.excusedOverlaps.length,
      fencingViolations: report.fencingViolations.length,
      maxWriteWaitMs: Math.round(Math.max(...results.map((result) => result.maxWriteWaitMs))),
      durationMs: Math.round(durationMs),
    };
    console.log('read-write contention:', JSON.stringify(summary, null, 2));

    expect(intervals).toHaveLength(KINDS.length * OPERATIONS);
    expect(writes).toBe(KINDS.length * (OPERATIONS / WRITE_EVERY));
    expect([a, b]).toEqual([writes, writes]); // every non-atomic write counted, none lost
    expect(summary.tornReads).toBe(0);
    expect(report.overlaps).toEqual([]);
    expect(report.excusedOverlaps).toEqual([]);
    expect(report.fencingViolations).toEqual([]);
    expect(results.map((result) => result.lostDuringHold)).toEqual(workers.map(() => 0));
    expect(summary.mostReadersAtOnce).toBeGreaterThan(1);
  }, 60_000);
});

for (const kind of CLIENT_KINDS) {
  describe(`read-write lock: ${kind}`, () => {
    let redis: RedisInstance;
    let client: ConnectedClient;
    const clients: ConnectedClient[] = [];
    const newLocker = (options: LockerOptions = {}, on: ConnectedClient = client) =>
      new Locker(on.runner, { prefix: 'safety-rw:', ...options });

    beforeAll(async () => {
      redis = await provisionRedis();
      client = await connectClient(kind, redis.url);
      clients.push(...(await Promise.all([1, 2, 3].map(() => connectClient(kind, redis.url)))));
    });

    afterAll(async () => {
      await Promise.all(clients.map((extra) => extra.close()));
      await client?.close();
      await redis?.stop();
    });

    it('12 readers and writers over 3 clients: the history checks out', async () => {
      const name = uniqueName('in-process');
      const recorder = new HistoryRecorder({ label: kind });
      const [keyA, keyB] = [`safety-rw:a-${name}`, `safety-rw:b-${name}`];
      let tornReads = 0;
      const waitOptions = { waitTimeout: 30_000, retryDelay: 10 };
      const loop = async (index: number) => {
        const on = clients[index % clients.length] as ConnectedClient;
        const rw = newLocker({}, on).readWriteLock(name);
        const get = async (key: string) => Number((await on.command(['GET', key])) ?? 0);
        for (let i = 0; i < 40; i += 1) {
          if ((i + index) % 5 === 0) {
            await rw.withWrite(async (lock) => {
              const hold = recorder.begin(lock, 'write');
              const next = (await get(keyA)) + 1;
              await on.command(['SET', keyA, String(next)]);
              await new Promise<void>((resolve) => setImmediate(resolve));
              await on.command(['SET', keyB, String(next)]);
              hold.end();
            }, waitOptions);
          } else {
            await rw.withRead(async (lock) => {
              const hold = recorder.begin(lock, 'read');
              const a = await get(keyA);
              await new Promise<void>((resolve) => setTimeout(resolve, 1));
              if ((await get(keyB)) !== a) tornReads += 1;
              hold.end();
            }, waitOptions);
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, index) => loop(index)));
      const report = checkReadWriteHistory(recorder.intervals);
      expect(recorder.intervals).toHaveLength(12 * 40);
      expect(tornReads).toBe(0);
      expect(report.overlaps).toEqual([]);
      expect(report.excusedOverlaps).toEqual([]);
      expect(report.fencingViolations).toEqual([]);
      expect(Number(await client.command(['GET', keyA]))).toBe(12 * 8);
      expect(mostReadersAtOnce(recorder.intervals)).toBeGreaterThan(1);
    });

    it('a restart loses read and write holds: each holder is told, and locking works again', async () => {
      if (redis.source === 'REDIS_URL') return; // cannot restart a Redis we did not start
      const locker = newLocker({ ttl: 2_000, renewalInterval: 200, autoRenewal: true });
      const shared = locker.readWriteLock(uniqueName('restart-read'));
      const exclusive = locker.readWriteLock(uniqueName('restart-write'));
      const held = [await shared.acquireRead(), await shared.acquireRead(), await exclusive.acquireWrite()];
      // A writer waiting behind the readers, with its mark in place, when Redis goes away.
      const waiting = settleTyped(() =>
        newLocker({}, clients[0])
          .readWriteLock(shared.name)
          .acquireWrite({ waitTimeout: 8_000, retryDelay: 100 }),
      );
      await waitFor(async () => (await shared.inspect()).writersWaiting.length === 1, 2_000);
      const restartedAt = performance.now();
      await redis.restart(); // no persistence: every key is gone

      await expectToldOfRestart(held, restartedAt);

      // The waiting writer either gets the now free lock once Redis is back, or fails typed.
      const outcome = await waiting;
      if ('value' in outcome) {
        expect(await outcome.value.isLockedByMe()).toBe(true);
        await outcome.value.release();
      } else {
        expect(outcome.error.code).toMatch(/REDIS_ERROR|REDIS_TIMEOUT|LOCK_NOT_ACQUIRED/);
      }

      // Scripts are gone too: the next call goes through NOSCRIPT → EVAL and succeeds.
      await waitFor(async () => 'value' in (await settleTyped(() => shared.inspect())), 5_000);
      const writer = await exclusive.acquireWrite({ waitTimeout: 5_000 });
      expect(await writer.isLockedByMe()).toBe(true);
      expect(await writer.release()).toBe(true);
      const reader = await shared.acquireRead({ waitTimeout: 5_000 });
      expect(await reader.release()).toBe(true);
    });
  });
}
