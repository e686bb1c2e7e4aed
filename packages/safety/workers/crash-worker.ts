/**
 * Crash worker: takes a lock and then either idles until the parent SIGKILLs it (`hold`, `renew`),
 * or blocks its own event loop past the ttl and reports what its handle says afterwards
 * (`block`). See `CrashConfig` in protocol.ts.
 */
import { Locker, LockLostError } from '@lock/core';
import { HistoryRecorder, monotonicMicros } from '@lock/testing';
import { connectClient } from '../src/clients.js';
import { nextFromParent, runWorker, sendToParent, workerConfig } from './child.js';
import type { CrashConfig, FromCrashWorker, ToCrashWorker } from './protocol.js';

runWorker(async () => {
  const config = workerConfig<CrashConfig>();
  const client = await connectClient(config.kind, config.url);
  let renewals = 0;
  const locker = new Locker(client.runner, {
    prefix: 'safety:',
    hooks: {
      onExtended: (event) => {
        if (!event.renewal) return;
        renewals += 1;
        void sendToParent<FromCrashWorker>({ type: 'renewed', at: monotonicMicros(), count: renewals });
      },
    },
  });
  const lock = locker.createLock(config.lockName, { ttl: config.ttl, autoRenewal: config.mode === 'renew' });
  const recorder = new HistoryRecorder({ label: `${config.kind} (${config.mode})` });

  const sentAt = monotonicMicros();
  if (!(await lock.acquire())) throw new Error(`worker could not take ${config.lockName}: it is held`);
  const confirmedAt = monotonicMicros();
  const hold = recorder.begin(lock);
  await sendToParent<FromCrashWorker>({
    type: 'acquired',
    pid: process.pid,
    key: lock.key,
    token: lock.token,
    fencingToken: lock.fencingToken ?? null,
    sentAt,
    confirmedAt,
  });

  if (config.mode !== 'block') {
    // Idle while holding, until the parent kills us: the lease's timers are unref'd, so this
    // interval is what keeps the process alive.
    setInterval(() => {}, 60_000);
    return new Promise<never>(() => {});
  }

  await nextFromParent<ToCrashWorker>('block');
  const blockStart = monotonicMicros();
  const blockUntil = performance.now() + config.blockMs;
  while (performance.now() < blockUntil) {
    // Busy-wait: no timer, no I/O, no renewal can run (a long GC pause or CPU-bound work).
  }
  const blockEnd = monotonicMicros();
  // What a holder sees if it checks at once, without yielding to the event loop first.
  const abortedWhenUnblocked = lock.signal.aborted;
  const stateWhenUnblocked = lock.state;
  const extended = await lock.extend(config.ttl);
  const reason: unknown = lock.signal.reason;
  const abortedAfterExtend = lock.signal.aborted;
  hold.end();
  const released = await lock.release();
  await sendToParent<FromCrashWorker>({
    type: 'unblocked',
    blockStart,
    blockEnd,
    abortedWhenUnblocked,
    stateWhenUnblocked,
    extended,
    abortedAfterExtend,
    lostReason: LockLostError.isInstance(reason) ? reason.reason : null,
    released,
    intervals: recorder.intervals,
  });
  await client.close();
});
