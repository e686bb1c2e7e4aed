/** What the read-write lock modules share. */
import type { ReadWriteLock } from '@lock/core';
import { uniqueName } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';

/** Resolves how long `promise` took to settle, in ms, with its value. */
export async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
}

/** Read-write locks over the suite's main client. */
export function readWriteTools(suite: PrimitiveSuiteContext) {
  const rwLock = (label: string, options?: Parameters<PrimitiveSuiteContext['newLocker']>[0]) =>
    suite.newLocker(options).readWriteLock(uniqueName(label));
  const sameLock = (rw: ReadWriteLock, options?: Parameters<PrimitiveSuiteContext['newLocker']>[0]) =>
    suite.newLocker(options).readWriteLock(rw.name);
  const waitingWriters = async (rw: ReadWriteLock) => (await rw.inspect()).writersWaiting.length;
  return { rwLock, sameLock, waitingWriters };
}
