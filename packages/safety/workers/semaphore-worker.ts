/**
 * Semaphore safety worker (see `SemaphoreWorkerConfig` in protocol.ts). Its process may run with
 * a skewed wall clock (`skew-clock.ts` preloaded): nothing it does should care.
 */
import { Locker, LockLostError } from '@lock/core';
import { HistoryRecorder, monotonicMicros } from '@lock/testing';
import { connectClient } from '../src/clients.js';
import { nextFromParent, runWorker, sendToParent, workerConfig } from './child.js';
import type { FromSemaphoreWorker, SemaphoreWorkerConfig, ToSemaphoreWorker } from './protocol.js';

runWorker(async () => {
  const config = workerConfig<SemaphoreWorkerConfig>();
  const client = await connectClient(config.kind, config.url);
  let attempts = 0;
  const locker = new Locker(client.runner, {
    prefix: 'safety:',
    hooks: {
      onAcquired: (event) => {
        attempts += event.attempts;
      },
    },
  });
  const semaphore = locker.semaphore(config.name, { limit: config.limit, ttl: config.ttl });

  await sendToParent<FromSemaphoreWorker>({
    type: 'ready',
    pid: process.pid,
    wallClock: Date.now(),
    at: monotonicMicros(),
  });
  await nextFromParent<ToSemaphoreWorker>('start');

  if (config.mode === 'hold') {
    const sentAt = monotonicMicros();
    const permit = await semaphore.acquire();
    const confirmedAt = monotonicMicros();
    await sendToParent<FromSemaphoreWorker>({
      type: 'held',
      token: permit.token,
      sentAt,
      confirmedAt,
      remaining: await permit.remainingTime(),
    });
    const reason = await new Promise<unknown>((resolve) =>
      permit.signal.addEventListener('abort', () => resolve(permit.signal.reason), { once: true }),
    );
    await sendToParent<FromSemaphoreWorker>({
      type: 'lost',
      at: monotonicMicros(),
      reason: LockLostError.isInstance(reason) ? reason.reason : null,
    });
    await client.close();
    return;
  }

  const recorder = new HistoryRecorder({ label: `${config.kind} limit ${config.limit}` });
  const fencingTokens: number[] = [];
  let maxInside = 0;
  let lostDuringHold = 0;
  const acquirer = async () => {
    for (let round = 0; round < config.rounds; round += 1) {
      await semaphore.withPermit(
        async (permit) => {
          const hold = recorder.begin(permit);
          try {
            fencingTokens.push(permit.fencingToken ?? Number.NaN);
            const inside = Number(await client.command(['INCR', config.insideKey]));
            maxInside = Math.max(maxInside, inside);
            // Stay inside a little, so that holds of different processes overlap.
            await new Promise<void>((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 3)));
            await client.command(['DECR', config.insideKey]);
            if (permit.signal.aborted) lostDuringHold += 1;
          } finally {
            hold.end();
          }
        },
        { waitTimeout: 60_000, retryDelay: 20 },
      );
    }
  };
  await Promise.all(Array.from({ length: config.acquirers }, acquirer));
  await sendToParent<FromSemaphoreWorker>({
    type: 'done',
    pid: process.pid,
    intervals: recorder.intervals,
    attempts,
    maxInside,
    lostDuringHold,
    fencingTokens,
  });
  await client.close();
});
