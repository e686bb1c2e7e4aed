/**
 * One handle, many concurrent calls: what a single lock handle must guarantee when its calls are
 * not awaited one by one. Confirmations apply in the order Redis applied them (a renewal and a
 * shorter `extend(ms, { replace: true })` sent together leave the handle with the shorter
 * deadline); a call-chain re-entry never outlives the outer hold; concurrent releases of a
 * reentrant handle each count; `release()` during the handle's own `acquire()` cancels it; and
 * `retryCount`/`waitTimeout: 0` bound the attempts exactly. Run unchanged by both adapters against
 * a real Redis.
 */
import {
  type Lock,
  LockAcquireError,
  Locker,
  type LockerOptions,
  type LockOptions,
  type ScriptRunner,
} from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdapterUnderTest,
  type ConnectedClient,
  elapse,
  recordingNotifyingRunner,
  recordingRunner,
  uniqueName,
  waitFor,
} from './conformance.js';
import { provisionRedis, type RedisInstance } from './redis-server.js';

/** A promise with its resolve function, for steps that one callback waits for in another. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * Resolves after one pass of the timer phase: every timer already due (a lock's deadline timer)
 * has fired by then. A handle that learns of its loss from its own deadline may learn it in the
 * same instant the lock frees in Redis; that is no overlap, and this lets it happen first.
 */
function dueTimersFired(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/** How `promise` settled within `ms`: a value, an error, or still pending. */
async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ value: T } | { error: unknown } | { pending: true }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<{ pending: true }>((resolve) => {
    timer = setTimeout(() => resolve({ pending: true }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The code of a LockAcquireError, or what else `outcome` was, for one readable assertion. */
function describeOutcome(outcome: { value: unknown } | { error: unknown } | { pending: true }): unknown {
  if ('pending' in outcome) return 'still pending';
  if ('value' in outcome) return { resolved: outcome.value };
  const { error } = outcome;
  return LockAcquireError.isInstance(error) ? { rejected: error.code } : { rejected: String(error) };
}

/** A runner that sends every script of `delayed` names `ms` late (to hold a call in flight). */
function delayingRunner(
  inner: ScriptRunner,
  delayed: (scriptName: string) => boolean,
  ms: number,
): ScriptRunner {
  return {
    async run(script, keys, args) {
      if (delayed(script.name)) await elapse(ms);
      return inner.run(script, keys, args);
    },
  };
}

/**
 * What each nesting scenario needs from one primitive: its callback style, holders, a contender.
 * Outer and nested calls go through the same Locker: call-chain re-entry is per Locker.
 */
interface NestingTarget {
  /** Runs `fn` under the hold (withLock, withWrite or withRead). */
  run(
    fn: (lock: Lock) => Promise<void>,
    options?: Pick<LockOptions, 'retryCount' | 'retryDelay'>,
  ): Promise<void>;
  /** The tokens Redis shows holding it right now. */
  holders(): Promise<string[]>;
  /** Another client taking it in a mode that excludes the hold under test, or `null`. */
  contend(): Promise<Lock | null>;
}

/**
 * Registers the suite for `adapter`. Call it at the top level of a test file; it provisions its
 * own Redis for that file.
 */
export function runOneHandleSuite(adapter: AdapterUnderTest): void {
  describe(`one handle, concurrent calls: ${adapter.name}`, () => {
    let redis: RedisInstance;
    let client: ConnectedClient;
    /** A second client: "another process" as far as the lock can tell. */
    let other: ConnectedClient;

    const command = (...args: string[]) => client.command(args);
    const newLocker = (options: LockerOptions = {}, runner: ScriptRunner = client.runner) =>
      new Locker(runner, { prefix: 'one-handle:', ...options });
    const otherLocker = (options: LockerOptions = {}) => newLocker(options, other.runner);

    beforeAll(async () => {
      redis = await provisionRedis();
      client = await adapter.connect(redis.url);
      other = await adapter.connect(redis.url);
    });

    afterAll(async () => {
      await other?.close();
      await client?.close();
      await redis?.stop();
    });

    describe('confirmations apply in the order Redis applied them', () => {
      it('extend(50, { replace: true }) sent in the same tick as a renewal: the handle never outlives the 50 ms', async () => {
        const name = uniqueName('replace-renewal');
        const holder: { lock?: Lock; replaced?: Promise<boolean> } = {};
        let armed = false;
        // Sends the extend right behind the first renewal, on the same connection, so Redis runs
        // the renewal (300 ms) first and the extend (50 ms) last: the key has 50 ms left.
        const forcing: ScriptRunner = {
          run(script, keys, args) {
            const reply = client.runner.run(script, keys, args);
            if (armed && script.name === 'extend' && holder.lock !== undefined) {
              armed = false;
              holder.replaced = holder.lock.extend(50, { replace: true });
            }
            return reply;
          },
        };
        // renewalInterval 100: without the fix the next renewal comes 100 ms later, after the
        // key expired at 50 ms; with it, the handle knows it has 50 ms and renews (or ends) in time.
        const locker = newLocker({ ttl: 300, autoRenewal: true }, forcing);
        const lock = locker.createLock(name);
        holder.lock = lock;
        expect(await lock.acquire()).toBe(true);
        armed = true;
        await waitFor(async () => holder.replaced !== undefined, 2_000, 5);
        expect(await holder.replaced).toBe(true);

        // Another client tries all the while the handle's old (renewal) deadline would still run.
        const contender = otherLocker({ ttl: 5_000 });
        const until = performance.now() + 600;
        let taken: Lock | null = null;
        while (taken === null && performance.now() < until) {
          taken = await contender.tryAcquire(name);
          if (taken === null) await elapse(5);
        }
        if (taken !== null) {
          await dueTimersFired();
          expect(
            { isHeld: lock.isHeld, aborted: lock.signal.aborted, state: lock.state },
            'the first handle once another client holds the lock',
          ).toEqual({ isHeld: false, aborted: true, state: 'lost' });
          await taken.release();
        } else {
          // It kept the lock (renewed within the 50 ms): then Redis must show it as the owner.
          expect(lock.isHeld).toBe(true);
          expect((await locker.inspect(name)).owner).toBe(lock.token);
          expect(await lock.release()).toBe(true);
        }
      });
    });

    describe('call-chain re-entry never outlives the outer hold', () => {
      const mutexTarget = (name: string, runner: ScriptRunner): NestingTarget => {
        const locker = newLocker({}, runner);
        return {
          run: (fn, options) => locker.withLock(name, fn, options),
          holders: async () => {
            const { owner } = await newLocker().inspect(name);
            return owner === null ? [] : [owner];
          },
          contend: () => otherLocker().tryAcquire(name),
        };
      };
      const readWriteTarget =
        (mode: 'read' | 'write') =>
        (name: string, runner: ScriptRunner): NestingTarget => {
          const rw = newLocker({}, runner).readWriteLock(name);
          return {
            run: (fn, options) => (mode === 'read' ? rw.withRead(fn, options) : rw.withWrite(fn, options)),
            holders: async () => {
              const report = await newLocker().readWriteLock(name).inspect();
              return mode === 'read'
                ? report.readers.map((reader) => reader.token)
                : report.writer === null
                  ? []
                  : [report.writer.token];
            },
            contend: async () => {
              const rw = otherLocker().readWriteLock(name);
              return (await rw.tryAcquireWrite()) ?? (mode === 'write' ? rw.tryAcquireRead() : null);
            },
          };
        };
      const targets: [string, (name: string, runner: ScriptRunner) => NestingTarget][] = [
        ['withLock', mutexTarget],
        ['withWrite', readWriteTarget('write')],
        ['withRead', readWriteTarget('read')],
      ];

      /** What the nested callback saw, checked once it ran. */
      interface Seen {
        nestedHeld: boolean;
        heldInRedisByNested: boolean;
        anotherClientGotIt: boolean;
      }
      const look = async (target: NestingTarget, inner: Lock): Promise<Seen> => {
        const holders = await target.holders();
        const intruder = await target.contend();
        await intruder?.release();
        return {
          nestedHeld: inner.isHeld,
          heldInRedisByNested: holders.includes(inner.token),
          anotherClientGotIt: intruder !== null,
        };
      };
      const expected: Seen = { nestedHeld: true, heldInRedisByNested: true, anotherClientGotIt: false };

      it.each(targets)(
        '%s: a nested call started from a setTimeout after the outer callback settled acquires on its own',
        async (_label, targetFor) => {
          const name = uniqueName('nested-late');
          // The outer release stays in flight for 150 ms, so the nested call starts (at 20 ms)
          // after the outer callback settled but before its release reached Redis.
          const slowRelease = delayingRunner(client.runner, (script) => script.includes('release'), 150);
          const target = targetFor(name, slowRelease);
          const seen: { value?: Seen } = {};
          const nested: { done?: Promise<void> } = {};
          const outerDone: Promise<void> = target.run(async () => {
            setTimeout(() => {
              nested.done = target.run(
                async (inner) => {
                  await outerDone; // the outer hold is over: its release went through
                  seen.value = await look(target, inner);
                },
                { retryCount: 200, retryDelay: 20 },
              );
            }, 20);
          });
          await outerDone;
          await waitFor(async () => nested.done !== undefined, 2_000, 5);
          await nested.done;
          expect(seen.value, 'while the nested callback ran, after the outer hold ended').toEqual(expected);
          expect(await target.holders()).toEqual([]);
        },
      );

      it.each(targets)(
        '%s: a nested call started from a setTimeout while the outer callback runs keeps the lock held until it ends',
        async (_label, targetFor) => {
          const name = uniqueName('nested-outlives');
          const releases = recordingRunner(client.runner);
          const outerReleaseSettled = deferred();
          releases.onSettled = (script) => {
            if (script.includes('release')) outerReleaseSettled.resolve();
          };
          const target = targetFor(name, releases);
          const nestedStarted = deferred();
          const outerReturned = deferred();
          const seen: { value?: Seen } = {};
          const nested: { done?: Promise<void> } = {};
          const outerDone = target.run(async () => {
            try {
              setTimeout(() => {
                nested.done = target.run(async (inner) => {
                  nestedStarted.resolve();
                  await outerReturned.promise;
                  // The outer release, if it does not wait for this callback, is done by now.
                  await Promise.race([outerReleaseSettled.promise, elapse(300)]);
                  seen.value = await look(target, inner);
                });
              }, 0);
              await nestedStarted.promise;
            } finally {
              outerReturned.resolve(); // returns while the nested callback still runs
            }
          });
          await waitFor(async () => nested.done !== undefined, 2_000, 5);
          await Promise.all([outerDone, nested.done]);
          expect(seen.value, 'while the nested callback ran, after the outer callback returned').toEqual(
            expected,
          );
          expect(await target.holders()).toEqual([]);
        },
      );
    });

    describe('concurrent releases of a reentrant handle each count', () => {
      it('two concurrent release() on a twice-entered auto-renewing handle free both levels and stop the renewal', async () => {
        const recorder = recordingRunner(client.runner);
        const lock = newLocker({ ttl: 300, autoRenewal: true, reentrant: true }, recorder).createLock(
          uniqueName('double-release'),
        );
        expect(await lock.acquire()).toBe(true);
        expect(await lock.acquire()).toBe(true);
        expect(lock.holdCount).toBe(2);

        expect(await Promise.all([lock.release(), lock.release()])).toEqual([true, true]);
        expect({
          holdCount: lock.holdCount,
          isHeld: lock.isHeld,
          state: lock.state,
          aborted: lock.signal.aborted,
        }).toEqual({ holdCount: 0, isHeld: false, state: 'released', aborted: true });
        expect(await command('EXISTS', lock.key)).toBe(0);
        const renewals = () => recorder.calls.filter((call) => call === 'extend').length;
        const renewalsAtRelease = renewals();
        await elapse(350); // more than three renewal intervals (100 ms)
        expect(renewals(), 'renewals sent after the last level was released').toBe(renewalsAtRelease);
      });

      it('two concurrent release() on a three-times-entered handle leave exactly one level', async () => {
        const lock = newLocker({ reentrant: true }).createLock(uniqueName('double-release-3'));
        for (let entry = 0; entry < 3; entry += 1) expect(await lock.acquire()).toBe(true);

        expect(await Promise.all([lock.release(), lock.release()])).toEqual([true, true]);
        expect({ holdCount: lock.holdCount, state: lock.state }).toEqual({ holdCount: 1, state: 'held' });
        expect(await command('HGET', lock.key, 'count')).toBe('1');
        expect(await lock.release()).toBe(true);
        expect(await command('EXISTS', lock.key)).toBe(0);
      });
    });

    describe('concurrent re-entries of a reentrant handle each count', () => {
      it('two concurrent acquire() on a held reentrant handle enter twice', async () => {
        const lock = newLocker({ reentrant: true }).createLock(uniqueName('double-reenter'));
        expect(await lock.acquire()).toBe(true);

        expect(await Promise.all([lock.acquire(), lock.acquire()])).toEqual([true, true]);
        expect(lock.holdCount).toBe(3);
        expect(await command('HGET', lock.key, 'count')).toBe('3');
        for (let level = 0; level < 3; level += 1) expect(await lock.release()).toBe(true);
        expect(await command('EXISTS', lock.key)).toBe(0);
      });
    });

    describe("release() during the handle's own acquire() cancels it", () => {
      it('while the acquire waits for a lock held elsewhere', async () => {
        const name = uniqueName('release-waiting');
        const holder = await otherLocker().acquire(name);
        const recorder = recordingNotifyingRunner(client.runner);
        const firstAttempt = deferred();
        recorder.onSettled = () => firstAttempt.resolve();
        const lock = newLocker({ retryCount: 100, retryDelay: 20 }, recorder).createLock(name);
        const acquiring = lock.acquire();
        acquiring.catch(() => {}); // asserted below; not an unhandled rejection meanwhile
        await firstAttempt.promise; // it is waiting now

        const released = await lock.release();
        const outcome = await settledWithin(acquiring, 1_000);
        expect(describeOutcome(outcome), 'the acquire, after release()').toEqual({
          rejected: 'LOCK_ACQUIRE_ABORTED',
        });
        expect(released).toBe(false);
        expect(lock.isHeld).toBe(false);

        // The wait is over: once the holder lets go, the cancelled acquire must not take it.
        expect(await holder.release()).toBe(true);
        await elapse(150); // several retry delays
        expect((await newLocker().inspect(name)).owner).toBeNull();
        await acquiring.catch(() => false);
      });

      it('right after acquire() on a free lock, without awaiting it', async () => {
        const name = uniqueName('release-in-flight');
        const lock = newLocker().createLock(name);
        const acquiring = lock.acquire();
        acquiring.catch(() => {}); // asserted below; not an unhandled rejection meanwhile
        const releasing = lock.release();
        const [acquired, released] = await Promise.all([settledWithin(acquiring, 2_000), releasing]);
        expect(describeOutcome(acquired), 'the acquire, after release()').toEqual({
          rejected: 'LOCK_ACQUIRE_ABORTED',
        });
        expect(released).toBe(false);
        // release() resolved once the clean-up was done: nothing of this token is left.
        expect((await newLocker().inspect(name)).owner).not.toBe(lock.token);
        expect(lock.isHeld).toBe(false);
        await acquiring.catch(() => false);
      });

      it('in the same tick as the other holder releases (the waiter is woken meanwhile)', async () => {
        const name = uniqueName('release-race');
        const holder = await otherLocker().acquire(name);
        const recorder = recordingNotifyingRunner(client.runner);
        const firstAttempt = deferred();
        recorder.onSettled = () => firstAttempt.resolve();
        const lock = newLocker({ retryCount: 100, retryDelay: 20 }, recorder).createLock(name);
        const acquiring = lock.acquire();
        acquiring.catch(() => {}); // asserted below; not an unhandled rejection meanwhile
        await firstAttempt.promise;

        const [holderReleased, released] = await Promise.all([holder.release(), lock.release()]);
        expect(holderReleased).toBe(true);
        const outcome = await settledWithin(acquiring, 1_000);
        expect(describeOutcome(outcome), 'the acquire, after release()').toEqual({
          rejected: 'LOCK_ACQUIRE_ABORTED',
        });
        expect(released).toBe(false);
        expect((await newLocker().inspect(name)).owner).not.toBe(lock.token);
        await elapse(150);
        expect((await newLocker().inspect(name)).owner).toBeNull();
        await acquiring.catch(() => false);
      });
    });

    describe('attempts are bounded exactly', () => {
      /** A recording runner with release notifications that also counts subscriptions. */
      const notifyingRecorder = () => {
        const recorder = recordingNotifyingRunner(client.runner);
        const counter = { subscriptions: 0 };
        const runner: ScriptRunner & ReleaseNotifier & { readonly calls: string[] } = {
          calls: recorder.calls,
          run: recorder.run.bind(recorder),
          subscribe: (channel, listener) => {
            counter.subscriptions += 1;
            return recorder.subscribe(channel, listener);
          },
        };
        return { runner, counter };
      };

      it.each([0, 3, 10])(
        'retryCount: %i makes exactly retryCount + 1 attempts with notifications on',
        async (retryCount) => {
          const name = uniqueName('attempts');
          const holder = await otherLocker().acquire(name);
          const { runner, counter } = notifyingRecorder();
          const error = await newLocker({ retryCount, retryDelay: 10, retryJitter: 0 }, runner)
            .acquire(name)
            .catch((caught: unknown) => caught);
          expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
          expect((error as LockAcquireError).attempts).toBe(retryCount + 1);
          expect(runner.calls.filter((call) => call === 'acquire')).toHaveLength(retryCount + 1);
          // The path under test is the notified one: the wait subscribed (when it waited at all).
          if (retryCount > 0) expect(counter.subscriptions).toBeGreaterThan(0);
          await holder.release();
        },
      );

      it.each([
        ['Lock.acquire()', false],
        ['a fair lock', true],
      ] as const)('retryCount: 3 makes exactly 4 attempts through %s', async (_label, fair) => {
        const name = uniqueName('attempts-path');
        const holder = await otherLocker({ fair }).acquire(name);
        const { runner } = notifyingRecorder();
        const lock = newLocker({ retryCount: 3, retryDelay: 10, retryJitter: 0, fair }, runner).createLock(
          name,
        );
        expect(await lock.acquire()).toBe(false);
        const script = fair ? 'fair-acquire' : 'acquire';
        expect(runner.calls.filter((call) => call === script)).toHaveLength(4);
        await holder.release();
      });

      it.each([
        ['default retries', {}],
        ['retryCount: 5', { retryCount: 5 }],
      ] as const)('waitTimeout: 0 (%s) makes one attempt and never subscribes', async (_label, retries) => {
        const name = uniqueName('no-wait');
        const holder = await otherLocker().acquire(name);
        const { runner, counter } = notifyingRecorder();
        const error = await newLocker({ waitTimeout: 0, retryDelay: 10, ...retries }, runner)
          .acquire(name)
          .catch((caught: unknown) => caught);
        expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
        expect((error as LockAcquireError).attempts).toBe(1);
        expect(runner.calls).toEqual(['acquire']);
        expect(counter.subscriptions, 'subscriptions opened').toBe(0);
        await holder.release();
      });
    });
  });
}
