/**
 * Read-write lock: waking, waiting and cancelling; fencing tokens; inspection; reentrancy; and
 * one EVALSHA per operation.
 */
import { type Lock, LockAcquireError, LockMisuseError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import { elapse, recordingRunner, uniqueName, waitFor } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';
import { readWriteTools, timed } from './read-write-lock-support.js';

export function describeReadWriteLockWaiting(suite: PrimitiveSuiteContext): void {
  const { rwLock, sameLock, waitingWriters } = readWriteTools(suite);
  describe('read-write lock', () => {
    describe('waking, waiting and cancelling', () => {
      it('the last reader out wakes a waiting writer; a writer out wakes waiting readers', async () => {
        const rw = rwLock('wake');
        const slowPoll = { retryDelay: 5_000, retryJitter: 0, retryCount: 3 };
        const readers = await Promise.all([rw.acquireRead(), rw.acquireRead()]);
        const writer = timed(sameLock(rw).acquireWrite(slowPoll));
        await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
        await elapse(100); // let it subscribe
        for (const reader of readers) await reader.release();
        const gotWriter = await writer;
        expect(gotWriter.ms).toBeLessThan(3_000);

        const waiting = [1, 2].map(() => timed(sameLock(rw).acquireRead(slowPoll)));
        await elapse(300);
        const releasedAt = performance.now();
        await gotWriter.value.release();
        const gotReaders = await Promise.all(waiting);
        expect(performance.now() - releasedAt).toBeLessThan(2_000);
        for (const got of gotReaders) await got.value.release();
      });

      it('tryAcquire makes one attempt, whatever the retry defaults, and leaves no mark', async () => {
        const recorder = recordingRunner(suite.client().runner);
        const rw = suite
          .newLocker({ retryCount: 5, retryDelay: 1_000 }, recorder)
          .readWriteLock(uniqueName('try'));
        const reader = await rw.acquireRead();
        recorder.calls.length = 0;
        expect(await rw.tryAcquireWrite()).toBeNull();
        expect(recorder.calls).toEqual(['rw-write-acquire']);
        expect(await waitingWriters(rw)).toBe(0);
        await reader.release();
        const writer = await rw.tryAcquireWrite();
        recorder.calls.length = 0;
        expect(await rw.tryAcquireRead()).toBeNull();
        expect(recorder.calls).toEqual(['rw-read-acquire']);
        await writer?.release();
      });

      it('an AbortSignal ends a writer’s wait at once, and its mark goes with it', async () => {
        const rw = rwLock('abort');
        const reader = await rw.acquireRead();
        const controller = new AbortController();
        const writer = sameLock(rw).acquireWrite({ waitTimeout: 30_000, signal: controller.signal });
        await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
        controller.abort(new Error('shutting down'));
        await expect(writer).rejects.toSatisfy(
          (error: unknown) => LockAcquireError.isInstance(error) && error.code === 'LOCK_ACQUIRE_ABORTED',
        );
        await waitFor(async () => (await waitingWriters(rw)) === 0, 2_000);
        const another = await rw.tryAcquireRead();
        expect(another).not.toBeNull();
        await another?.release();
        await reader.release();
      });
    });

    describe('fencing tokens', () => {
      it('every hold takes the next token: a writer’s exceeds every earlier hold’s', async () => {
        const rw = rwLock('fence');
        const readers = await Promise.all([rw.acquireRead(), rw.acquireRead()]);
        const readerTokens = readers.map((reader) => reader.fencingToken ?? 0);
        expect(new Set(readerTokens).size).toBe(2);
        for (const reader of readers) await reader.release();
        const writer = await rw.acquireWrite();
        expect(writer.fencingToken).toBeGreaterThan(Math.max(...readerTokens));
        await writer.release();
        const later = await rw.acquireRead();
        expect(later.fencingToken).toBeGreaterThan(writer.fencingToken ?? 0);
        await later.release();
        const report = await rw.inspect();
        expect(report.lastFencingToken).toBe(later.fencingToken);
      });

      it('are off with fencing: false, and no counter key is made', async () => {
        const rw = rwLock('unfenced', { fencing: false });
        const reader = await rw.acquireRead();
        expect(reader.fencingToken).toBeUndefined();
        await reader.release();
        const writer = await rw.acquireWrite();
        expect(writer.fencingToken).toBeUndefined();
        expect((await rw.inspect()).writer?.fencingToken).toBeNull();
        await writer.release();
        expect(await suite.command('EXISTS', `${rw.key}:fence`)).toBe(0);
      });
    });

    describe('inspection', () => {
      it('inspect shows the writer, the readers with their remaining time, and the waiting writers', async () => {
        const rw = rwLock('inspect');
        const empty = await rw.inspect();
        expect(empty).toEqual({
          name: rw.name,
          key: rw.key,
          writer: null,
          readers: [],
          writersWaiting: [],
          lastFencingToken: null,
        });
        const short = await rw.acquireRead({ ttl: 5_000 });
        const long = await rw.acquireRead({ ttl: 20_000 });
        const writer = sameLock(rw).createWriteLock({ waitTimeout: 10_000, retryDelay: 50 });
        const writing = writer.acquire();
        await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
        const busy = await rw.inspect();
        expect(busy.writer).toBeNull();
        expect(busy.readers.map((reader) => reader.token)).toEqual([short.token, long.token]);
        expect(busy.readers[0]?.remaining).toBeLessThanOrEqual(5_000);
        expect(busy.readers[1]?.remaining).toBeGreaterThan(15_000);
        expect(busy.writersWaiting.map((waiting) => waiting.token)).toEqual([writer.token]);
        expect(busy.writersWaiting[0]?.remaining).toBeGreaterThan(0);
        await short.release();
        await long.release();
        expect(await writing).toBe(true);
        const written = await rw.inspect();
        expect(written.writer).toMatchObject({ token: writer.token, fencingToken: writer.fencingToken });
        expect(written.writer?.remaining).toBeGreaterThan(25_000);
        expect(written.readers).toEqual([]);
        expect(written.writersWaiting).toEqual([]);
        expect(written.lastFencingToken).toBe(writer.fencingToken);
        expect(await writer.remainingTime()).toBeGreaterThan(25_000);
        await writer.release();
      });
    });

    describe('reentrancy', () => {
      it('a handle holds once; nested withRead/withWrite in one call chain run inside the outer hold', async () => {
        const rw = rwLock('nested');
        const reader = await rw.acquireRead();
        await expect(reader.acquire()).rejects.toSatisfy(LockMisuseError.isInstance);
        await reader.release();

        const inner = await rw.withWrite(async (outer) =>
          rw.withRead(async (nestedRead) =>
            rw.withWrite(async (nestedWrite) => {
              expect(nestedRead).toBe(outer);
              expect(nestedWrite).toBe(outer);
              return 'nested ran';
            }),
          ),
        );
        expect(inner).toBe('nested ran');
        // A read nested in a read shares the outer hold, even while a writer waits (no self-deadlock).
        let writer: Promise<Lock> | undefined;
        await rw.withRead(async (outer) => {
          writer = sameLock(rw).acquireWrite({ waitTimeout: 10_000, retryDelay: 50 });
          await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
          expect(await rw.withRead(async (nested) => nested === outer, { waitTimeout: 200 })).toBe(true);
          await expect(rw.withWrite(() => 'upgrade')).rejects.toSatisfy(LockMisuseError.isInstance);
        });
        await (await writer)?.release();
      });
    });

    describe('round trips', () => {
      it('sends exactly one EVALSHA per acquire, extend and release of either hold', async () => {
        const warmUp = rwLock('steady-warm-up');
        const read = await warmUp.acquireRead();
        await read.extend(100);
        await read.release();
        const write = await warmUp.acquireWrite();
        await write.extend(100);
        await write.release();

        const rounds = 10;
        const stats = await suite.commandsDuring(async () => {
          for (let round = 0; round < rounds; round += 1) {
            const rw = rwLock('steady');
            const reader = await rw.acquireRead();
            await reader.extend(1_000);
            await reader.release();
            const writer = await rw.acquireWrite();
            await writer.extend(1_000);
            await writer.release();
          }
        });
        // Redis counts the commands the scripts run: these are exactly those (see the README's
        // per-operation table). Anything a client sent besides EVALSHA would show up here.
        expect(stats).toEqual({
          evalsha: rounds * 6,
          time: rounds * 4,
          zremrangebyscore: rounds * 6,
          exists: rounds * 4,
          zadd: rounds * 2,
          zscore: rounds,
          zrem: rounds * 2,
          pttl: rounds * 3,
          pexpire: rounds * 4,
          incr: rounds * 2,
          hmget: rounds,
          hset: rounds,
          hget: rounds * 2,
          del: rounds,
          publish: rounds * 2,
        });
      });
    });
  });
}
