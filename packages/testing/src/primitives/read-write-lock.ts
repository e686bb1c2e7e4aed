/**
 * Read-write lock (`locker.readWriteLock`): readers share, a writer excludes everyone, each read
 * hold expires on its own, a waiting writer is not starved by a stream of readers (its mark holds
 * new readers back) and its mark goes when it gets the lock, gives up or crashes; holds are full
 * `Lock` handles (lost signal, extend, fencing, `await using`); bad input sends nothing; one
 * EVALSHA per operation.
 */
import {
  type Lock,
  LockAcquireError,
  type LockLostError,
  LockMisuseError,
  LockOptionError,
  type ReadWriteLock,
  type ReadWriteLockOptions,
  type ScriptRunner,
} from '@lock/core';
import { describe, expect, it } from 'vitest';
import { elapse, recordingRunner, uniqueName, waitFor, whenAborted } from '../conformance.js';
import type { PrimitiveSuiteContext } from '../primitives.js';

/** Resolves how long `promise` took to settle, in ms, with its value. */
async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
}

export function describeReadWriteLock(suite: PrimitiveSuiteContext): void {
  const rwLock = (label: string, options?: Parameters<PrimitiveSuiteContext['newLocker']>[0]) =>
    suite.newLocker(options).readWriteLock(uniqueName(label));
  const sameLock = (rw: ReadWriteLock, options?: Parameters<PrimitiveSuiteContext['newLocker']>[0]) =>
    suite.newLocker(options).readWriteLock(rw.name);
  const waitingWriters = async (rw: ReadWriteLock) => (await rw.inspect()).writersWaiting.length;

  describe('read-write lock (B6)', () => {
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

    describe('bad input: a typed error, and nothing sent to Redis', () => {
      const badOptions: [string, Record<string, unknown>][] = [
        ['reentrant: true', { reentrant: true }],
        ['fair: true', { fair: true }],
        ['a string reentrant', { reentrant: 'no' }],
        ['ttl 0', { ttl: 0 }],
        ['renewalInterval above ttl', { ttl: 1_000, renewalInterval: 5_000 }],
        ['an unknown option', { timeout: 30 }],
      ];
      for (const [label, options] of badOptions) {
        it(`rejects ${label}`, async () => {
          const recorder = recordingRunner(suite.client().runner);
          const locker = suite.newLocker({}, recorder);
          const bad = options as ReadWriteLockOptions;
          expect(() => locker.readWriteLock('bad', bad)).toThrow(LockOptionError);
          const rw = locker.readWriteLock('bad');
          expect(() => rw.createReadLock(bad)).toThrow(LockOptionError);
          expect(() => rw.createWriteLock(bad)).toThrow(LockOptionError);
          await expect(rw.acquireRead(bad)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(rw.acquireWrite(bad)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(rw.tryAcquireWrite(bad)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(rw.withRead(() => 1, bad)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(rw.withWrite(() => 1, bad)).rejects.toSatisfy(LockOptionError.isInstance);
          expect(recorder.calls).toEqual([]);
        });
      }

      it('rejects bad names, callbacks and signals, and an already-aborted signal sends nothing', async () => {
        const recorder = recordingRunner(suite.client().runner);
        const locker = suite.newLocker({}, recorder);
        for (const name of ['', 42, undefined, 'x'.repeat(1025)]) {
          expect(() => locker.readWriteLock(name as string)).toThrow(LockOptionError);
        }
        const rw = locker.readWriteLock(uniqueName('bad-input'));
        await expect(rw.withRead('fn' as unknown as () => number)).rejects.toSatisfy(
          LockOptionError.isInstance,
        );
        const notASignal = { aborted: 'no' } as unknown as AbortSignal;
        await expect(rw.acquireWrite({ signal: notASignal })).rejects.toSatisfy(LockOptionError.isInstance);
        for (const ms of [0, -5, 1.5]) {
          await expect(rw.createReadLock().extend(ms)).rejects.toSatisfy(LockOptionError.isInstance);
        }
        const aborted = AbortSignal.abort();
        await expect(rw.acquireRead({ signal: aborted })).rejects.toSatisfy(
          (error: unknown) => LockAcquireError.isInstance(error) && error.code === 'LOCK_ACQUIRE_ABORTED',
        );
        await expect(rw.withWrite(() => 1, { signal: aborted })).rejects.toSatisfy(
          LockAcquireError.isInstance,
        );
        expect(recorder.calls).toEqual([]);
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
