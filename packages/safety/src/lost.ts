import type { Lock, LockLostError } from '@lock/core';

/** Resolves with the reason once `lock.signal` aborts; the test's own timeout bounds the wait. */
export function lostReason(lock: Lock): Promise<LockLostError> {
  return new Promise((resolve) => {
    const done = () => resolve(lock.signal.reason as LockLostError);
    if (lock.signal.aborted) done();
    else lock.signal.addEventListener('abort', done, { once: true });
  });
}
