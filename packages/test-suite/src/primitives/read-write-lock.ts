/**
 * Read-write lock (`locker.readWriteLock`): readers share, a writer excludes everyone, each read
 * hold expires on its own, a waiting writer is not starved by a stream of readers (its mark holds
 * new readers back) and its mark goes when it gets the lock, gives up or crashes; holds are full
 * `Lock` handles (lost signal, extend, fencing, `await using`).
 *
 * This module: sharing and exclusion, expiry and the lost signal, and writer preference.
 */
import { type Lock, LockAcquireError, type LockLostError, type ScriptRunner } from '@lock/core';
import { describe, expect, it } from 'vitest';
import { elapse, uniqueName, waitFor, whenAborted } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';
import { readWriteTools, timed } from './read-write-lock-support.js';

export function describeReadWriteLock(suite: PrimitiveSuiteContext): void {
  const { rwLock, sameLock, waitingWriters } = readWriteTools(suite);
  describe('read-write lock', () => {
    describe('sharing and exclusion', () => {
      it('readers share, across clients; the read holds are full Lock handles', async () => {
        const other = await suite.connect();
        const rw = rwLock('share');
        const first = await rw.acquireRead();
        const second = await suite.newLocker({}, other.runner).readWriteLock(rw.name).acquireRead();
        const third = await rw.tryAcquireRead();
        expect(third).not.toBeNull();
        for (const lock of [first, second, third as Lock]) {
          expect(lock.isHeld).toBe(true);
          expect(await lock.isLockedByMe()).toBe(true);
          expect(await lock.remainingTime()).toBeGreaterThan(25_000);
        }
        expect((await rw.inspect()).readers.map((reader) => reader.token).sort()).toEqual(
          [first.token, second.token, (third as Lock).token].sort(),
        );
        for (const lock of [first, second, third as Lock]) expect(await lock.release()).toBe(true);
        expect(await first.isLockedByAnyone()).toBe(false);
        expect(await suite.command('EXISTS', first.key)).toBe(0);
      });

      it('a writer excludes readers and writers, and readers exclude a writer', async () => {
        const rw = rwLock('exclude');
        const writer = await rw.acquireWrite();
        expect(await rw.tryAcquireRead()).toBeNull();
        expect(await sameLock(rw).tryAcquireWrite()).toBeNull();
        await expect(rw.acquireRead({ retryCount: 1, retryDelay: 20 })).rejects.toSatisfy(
          (error: unknown) => LockAcquireError.isInstance(error) && error.code === 'LOCK_NOT_ACQUIRED',
        );
        const probe = rw.createReadLock();
        expect(await probe.isLockedByAnyone()).toBe(true);
        expect(await probe.isLockedByMe()).toBe(false);
        expect(await writer.release()).toBe(true);

        const reader = await rw.acquireRead();
        expect(await rw.tryAcquireWrite()).toBeNull();
        await expect(rw.withWrite(() => 'never', { retryCount: 1, retryDelay: 20 })).rejects.toSatisfy(
          LockAcquireError.isInstance,
        );
        await reader.release();
        expect(await rw.withWrite(async (lock) => lock.isLockedByMe())).toBe(true);
      });

      it('uses its own keys: a mutex of the same name is independent', async () => {
        const locker = suite.newLocker();
        const name = uniqueName('namespace');
        const mutex = await locker.acquire(name);
        const rw = locker.readWriteLock(name);
        const writer = await rw.acquireWrite();
        expect(writer.key).toBe(`primitives:{${name}}:rw`);
        expect(rw.createReadLock().key).toBe(`primitives:{${name}}:rw:readers`);
        expect(mutex.key).toBe(`primitives:{${name}}`);
        expect(writer.fencingToken).toBe(1); // its own counter
        await writer.release();
        await mutex.release();
      });

      it('withRead and withWrite run the callback under the hold, release it, and rethrow its error', async () => {
        const rw = rwLock('with');
        const result = await rw.withRead(async (lock) => {
          expect(await rw.tryAcquireWrite()).toBeNull();
          return `read ${lock.isHeld}`;
        });
        expect(result).toBe('read true');
        const failure = new Error('callback failed');
        await expect(
          rw.withWrite(async () => {
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await rw.createWriteLock().isLockedByAnyone()).toBe(false);
        {
          await using reader = await rw.acquireRead();
          expect(reader.isHeld).toBe(true);
        }
        expect(await rw.createWriteLock().isLockedByAnyone()).toBe(false);
      });
    });

    describe('expiry and the lost signal', () => {
      it('each read hold expires on its own', async () => {
        const rw = rwLock('expire-alone');
        const short = await rw.acquireRead({ ttl: 300 });
        const long = await rw.acquireRead({ ttl: 10_000 });
        const reason = (await whenAborted(short.signal)) as LockLostError;
        expect(reason.reason).toBe('expired');
        await waitFor(async () => (await rw.inspect()).readers.length === 1, 2_000);
        const report = await rw.inspect();
        expect(report.readers.map((reader) => reader.token)).toEqual([long.token]);
        expect(report.readers[0]?.remaining).toBeGreaterThan(8_000);
        expect(await short.release()).toBe(false);
        expect(await rw.tryAcquireWrite()).toBeNull(); // the long read hold still counts
        expect(long.isHeld).toBe(true);
        expect(await long.release()).toBe(true);
      });

      it('an expired reader that never released stops blocking a writer', async () => {
        const rw = rwLock('expire-crash');
        await rw.acquireRead({ ttl: 200 }); // never released: as if its process died
        const writer = await timed(rw.acquireWrite({ waitTimeout: 3_000, retryDelay: 50 }));
        expect(writer.ms).toBeLessThan(2_000);
        await writer.value.release();
      });

      it('signals "taken" when a read hold or the write hold is deleted behind its holder', async () => {
        const rw = rwLock('deleted', { ttl: 3_000, renewalInterval: 100, autoRenewal: true });
        const reader = await rw.acquireRead();
        await suite.command('DEL', reader.key);
        expect(((await whenAborted(reader.signal)) as LockLostError).reason).toBe('taken');
        expect(await reader.release()).toBe(false);

        const writer = await rw.acquireWrite();
        await suite.command('DEL', writer.key);
        expect(((await whenAborted(writer.signal)) as LockLostError).reason).toBe('taken');
        expect(await writer.release()).toBe(false);
      });

      it('keeps read and write holds alive with auto-renewal, and signals expiry without it', async () => {
        const renewing = rwLock('renew', { ttl: 600, autoRenewal: true });
        const reader = await renewing.acquireRead();
        await elapse(1_500);
        expect(reader.signal.aborted).toBe(false);
        expect(await reader.isLockedByMe()).toBe(true);
        await reader.release();
        const writer = await renewing.acquireWrite();
        await elapse(1_500);
        expect(writer.signal.aborted).toBe(false);
        expect(await writer.isLockedByMe()).toBe(true);
        await writer.release();

        const lapsing = await rwLock('lapse').acquireWrite({ ttl: 200 });
        expect(((await whenAborted(lapsing.signal)) as LockLostError).reason).toBe('expired');
        expect(await lapsing.extend(1_000)).toBe(false);
      });

      it('extend adds to a read hold, or replaces its remaining time', async () => {
        const rw = rwLock('extend');
        const reader = await rw.acquireRead({ ttl: 10_000 });
        expect(await reader.extend(20_000)).toBe(true);
        expect(await reader.remainingTime()).toBeGreaterThan(28_000);
        expect(await reader.extend(5_000, { replace: true })).toBe(true);
        const replaced = await reader.remainingTime();
        expect(replaced).toBeGreaterThan(4_000);
        expect(replaced).toBeLessThanOrEqual(5_000);
        await reader.release();
      });
    });

    describe('writer preference', () => {
      it('a waiting writer is not starved by a continuous stream of overlapping readers', async () => {
        const rw = rwLock('starve', { ttl: 10_000 });
        let running = true;
        let readsAfterWriter = 0;
        let writerDone = false;
        const holds: Promise<void>[] = [];
        // Resolved once a new reader is refused (a writer's mark is up), or when the stream stops.
        let letGo = () => {};
        const refused = new Promise<void>((resolve) => {
          letGo = resolve;
        });
        let successorIn = () => {};
        // A new reader every ~40 ms, each holding 300 ms and, until a reader is refused, until the
        // next reader is in: the read holds overlap without a gap, however late the timers fire on a
        // busy machine. Without writer preference no reader is ever refused, and this never ends.
        const stream = (async () => {
          while (running) {
            const reader = await rw.tryAcquireRead();
            if (reader === null) {
              letGo();
            } else {
              if (writerDone) readsAfterWriter += 1;
              successorIn();
              const next = new Promise<void>((resolve) => {
                successorIn = resolve;
              });
              holds.push(
                (async () => {
                  await elapse(300);
                  await Promise.race([next, refused]);
                  await reader.release();
                })(),
              );
            }
            await elapse(40);
          }
        })();
        try {
          await waitFor(async () => (await rw.inspect()).readers.length >= 4, 3_000);
          // The premise: a writer that never waits (tryAcquireWrite leaves no mark) never gets in.
          for (let i = 0; i < 10; i += 1) {
            expect(await rw.tryAcquireWrite()).toBeNull();
            await elapse(30);
          }
          const writer = await timed(rw.acquireWrite({ waitTimeout: 5_000, retryDelay: 50 }));
          // Bounded by the read holds already in (300 ms) plus a wake-up, with margin for a busy machine.
          expect(writer.ms).toBeLessThan(2_000);
          expect((await rw.inspect()).readers).toEqual([]);
          expect(await rw.tryAcquireRead()).toBeNull();
          await writer.value.release();
          writerDone = true;
          await waitFor(async () => readsAfterWriter >= 3, 3_000); // readers go on afterwards
        } finally {
          running = false;
          letGo();
          await stream;
          await Promise.all(holds);
        }
      });

      it('two waiting writers both go before any new reader', async () => {
        const rw = rwLock('two-writers');
        const reader = await rw.acquireRead();
        const options = { waitTimeout: 10_000, retryDelay: 50 };
        const first = sameLock(rw).acquireWrite(options);
        const second = sameLock(rw).acquireWrite(options);
        await waitFor(async () => (await waitingWriters(rw)) === 2, 3_000);
        expect(await rw.tryAcquireRead()).toBeNull();
        await reader.release();

        const tagged = [first, second].map((writer, index) => writer.then((lock) => ({ lock, index })));
        const { lock: winner, index } = await Promise.race(tagged);
        const loser = index === 0 ? second : first;
        // The writer still waiting keeps new readers out, even between the two write holds.
        expect(await rw.tryAcquireRead()).toBeNull();
        await winner.release();
        expect(await rw.tryAcquireRead()).toBeNull();
        const next = await loser;
        expect(next.fencingToken ?? 0).toBeGreaterThan(winner.fencingToken ?? 0);
        await next.release();
        const after = await rw.tryAcquireRead();
        expect(after).not.toBeNull();
        await after?.release();
        expect(await waitingWriters(rw)).toBe(0);
      });

      it('a writer that gives up removes its mark, and wakes the readers it held back', async () => {
        const rw = rwLock('give-up');
        const holder = await rw.acquireRead();
        const quitter = sameLock(rw).acquireWrite({ waitTimeout: 600, retryDelay: 50 });
        await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
        // A reader that arrives now waits behind the mark, polling only every 5 s.
        const reader = timed(sameLock(rw).acquireRead({ retryDelay: 5_000, retryJitter: 0, retryCount: 2 }));
        await expect(quitter).rejects.toSatisfy(LockAcquireError.isInstance);
        const { value, ms } = await reader;
        expect(ms).toBeLessThan(3_000); // woken by the give-up, not by its 5 s poll
        expect(await waitingWriters(rw)).toBe(0);
        await value.release();
        // A writer whose retries run out removes its mark in its last attempt itself.
        await expect(sameLock(rw).acquireWrite({ retryCount: 2, retryDelay: 50 })).rejects.toSatisfy(
          LockAcquireError.isInstance,
        );
        expect(await waitingWriters(rw)).toBe(0);
        await holder.release();
      });

      it("a crashed writer's mark lapses by itself, and readers proceed", async () => {
        const rw = rwLock('crash');
        const holder = await rw.acquireRead();
        // The writer's process freezes for good: its next call never comes back, so it can neither
        // try again (refreshing its mark) nor clean up, exactly as if it had died.
        let frozen = false;
        const inner = suite.client().runner;
        const freezing: ScriptRunner = {
          run: (script, keys, args) => (frozen ? new Promise(() => {}) : inner.run(script, keys, args)),
        };
        void suite
          .newLocker({}, freezing)
          .readWriteLock(rw.name)
          .acquireWrite({ waitTimeout: 30_000, retryDelay: 100, retryJitter: 0 });
        await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
        frozen = true;
        expect(await rw.tryAcquireRead()).toBeNull();
        const readerGetsIn = async () => {
          const reader = await rw.tryAcquireRead();
          await reader?.release();
          return reader !== null;
        };
        const lapsed = await timed(waitFor(readerGetsIn, 5_000));
        // Its mark lasts 2 × 100 ms + 1 s after its last attempt.
        expect(lapsed.ms).toBeLessThan(3_000);
        expect(await waitingWriters(rw)).toBe(0);
        await holder.release();
      });

      it('readers already in may extend while a writer waits; new readers may not enter', async () => {
        const rw = rwLock('in-finish');
        const reader = await rw.acquireRead({ ttl: 2_000 });
        const writer = sameLock(rw).acquireWrite({ waitTimeout: 10_000, retryDelay: 50 });
        await waitFor(async () => (await waitingWriters(rw)) === 1, 2_000);
        expect(await reader.extend(2_000)).toBe(true);
        expect(await rw.tryAcquireRead()).toBeNull();
        await reader.release();
        await (await writer).release();
      });
    });
  });
}
