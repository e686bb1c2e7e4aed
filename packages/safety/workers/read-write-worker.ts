/**
 * Read-write worker: a mix of reads and writes on one read-write lock. A writer sets two keys to
 * the next value one after the other, yielding in between (so a reader running alongside would see
 * them differ); a reader reads both, yielding in between. Every hold is recorded with its mode.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker } from '@lock/core';
import { HistoryRecorder } from '@lock/testing';
import { connectClient } from '../src/clients.js';
import { nextFromParent, runWorker, sendToParent, workerConfig } from './child.js';
import type { FromReadWriteWorker, ReadWriteConfig, ToReadWriteWorker } from './protocol.js';

runWorker(async () => {
  const config = workerConfig<ReadWriteConfig>();
  const client = await connectClient(config.kind, config.url);
  const locker = new Locker(client.runner, { prefix: 'safety:', ttl: 10_000 });
  const rw = locker.readWriteLock(config.lockName);
  const recorder = new HistoryRecorder({ label: config.kind });
  const [keyA, keyB] = config.dataKeys;
  const get = async (key: string) => Number((await client.command(['GET', key])) ?? 0);
  const waitOptions = { waitTimeout: 30_000, retryDelay: 10 };
  let reads = 0;
  let writes = 0;
  let tornReads = 0;
  let lostDuringHold = 0;
  let maxWriteWaitMs = 0;

  await sendToParent<FromReadWriteWorker>({ type: 'ready', pid: process.pid });
  await nextFromParent<ToReadWriteWorker>('start');
  const startedAt = performance.now();
  for (let i = 0; i < config.operations; i += 1) {
    if ((i + config.index) % config.writeEvery === 0) {
      const asked = performance.now();
      await rw.withWrite(async (lock) => {
        maxWriteWaitMs = Math.max(maxWriteWaitMs, performance.now() - asked);
        const hold = recorder.begin(lock, 'write');
        try {
          const next = (await get(keyA)) + 1;
          await client.command(['SET', keyA, String(next)]);
          await new Promise<void>((resolve) => setImmediate(resolve));
          await client.command(['SET', keyB, String(next)]);
          writes += 1;
          if (lock.signal.aborted) lostDuringHold += 1;
        } finally {
          hold.end();
        }
      }, waitOptions);
    } else {
      await rw.withRead(async (lock) => {
        const hold = recorder.begin(lock, 'read');
        try {
          const a = await get(keyA);
          await sleep(1); // long enough for other readers to come in alongside
          const b = await get(keyB);
          if (a !== b) tornReads += 1;
          reads += 1;
          if (lock.signal.aborted) lostDuringHold += 1;
        } finally {
          hold.end();
        }
      }, waitOptions);
    }
  }
  await sendToParent<FromReadWriteWorker>({
    type: 'done',
    pid: process.pid,
    intervals: recorder.intervals,
    reads,
    writes,
    tornReads,
    lostDuringHold,
    maxWriteWaitMs,
    durationMs: performance.now() - startedAt,
  });
  await client.close();
});
