import { type Lock, LockLostError } from '@lock/core';
import { expect } from 'vitest';

/** Resolves with the reason once `lock.signal` aborts; the test's own timeout bounds the wait. */
export function lostReason(lock: Lock): Promise<LockLostError> {
  return new Promise((resolve) => {
    const done = () => resolve(lock.signal.reason as LockLostError);
    if (lock.signal.aborted) done();
    else lock.signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * After a Redis restart at `restartedAt` (`performance.now()`), every one of `held` (auto-renewing,
 * on a 2 s ttl) must be told its hold is gone, `taken` or `unreachable`, by its first renewal, well
 * before its ttl would have run out; a release then deletes nothing.
 */
export async function expectToldOfRestart(held: readonly Lock[], restartedAt: number): Promise<void> {
  const reasons = await Promise.all(held.map(lostReason));
  expect(performance.now() - restartedAt).toBeLessThan(2_000);
  for (const reason of reasons) {
    expect(LockLostError.isInstance(reason)).toBe(true);
    expect(['taken', 'unreachable']).toContain(reason.reason);
  }
  for (const lock of held) expect(await lock.release()).toBe(false);
}
