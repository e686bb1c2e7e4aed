/**
 * Contention worker: increments a Redis counter `increments` times with a deliberately non-atomic
 * GET → (yield) → SET, each under the shared lock, recording every hold for the history check.
 */
import { Locker } from '@lock/core';
import { HistoryRecorder } from '@lock/testing';
import { connectClient } from '../src/clients.js';
import { nextFromParent, runWorker, sendToParent, workerConfig } from './child.js';
import type { ContentionConfig, FromContentionWorker, ToContentionWorker } from './protocol.js';

runWorker(async () => {
  const config = workerConfig<ContentionConfig>();
  const client = await connectClient(config.kind, config.url);
  let attempts = 0;
  let waitedMs = 0;
  const locker = new Locker(client.runner, {
    prefix: 'safety:',
    // A ttl far above any hold: this test is about exclusion under contention, not expiry.
    ttl: 10_000,
    hooks: {
      onAcquired: (event) => {
        attempts += event.attempts;
        waitedMs += event.waited;
      },
    },
  });
  const recorder = new HistoryRecorder({ label: config.kind });
  let lostDuringHold = 0;

  await sendToParent<FromContentionWorker>({ type: 'ready', pid: process.pid });
  await nextFromParent<ToContentionWorker>('start');
  const startedAt = performance.now();
  for (let i = 0; i < config.increments; i += 1) {
    await locker.withLock(
      config.lockName,
      async (lock) => {
        const hold = recorder.begin(lock);
        try {
          const value = Number((await client.command(['GET', config.counterKey])) ?? 0);
          // Yield between read and write, so that without the lock another writer would interleave.
          await new Promise<void>((resolve) => setImmediate(resolve));
          await client.command(['SET', config.counterKey, String(value + 1)]);
          if (lock.signal.aborted) lostDuringHold += 1;
        } finally {
          hold.end();
        }
      },
      { waitTimeout: 30_000, retryDelay: 10 },
    );
  }
  const durationMs = performance.now() - startedAt;
  await sendToParent<FromContentionWorker>({
    type: 'done',
    pid: process.pid,
    intervals: recorder.intervals,
    attempts,
    waitedMs,
    durationMs,
    lostDuringHold,
  });
  await client.close();
});
