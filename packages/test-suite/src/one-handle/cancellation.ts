/**
 * One handle, concurrent calls: `release()` during the handle's own `acquire()` cancels it, and
 * `retryCount`/`waitTimeout: 0` bound the attempts exactly.
 */
import { LockAcquireError, type ScriptRunner } from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import { describe, expect, it } from 'vitest';
import { elapse, recordingNotifyingRunner, uniqueName } from '../helpers.js';
import { deferred, describeOutcome, type OneHandleContext, settledWithin } from './support.js';

/** Registers the tests of this module with `ctx`. */
export function describeCancellation(ctx: OneHandleContext): void {
  const { newLocker, otherLocker } = ctx;

  /** A handle whose acquire() has made its first attempt and now waits for a lock held elsewhere. */
  async function waitingBehindHolder(label: string) {
    const name = uniqueName(label);
    const holder = await otherLocker().acquire(name);
    const recorder = recordingNotifyingRunner(ctx.client.runner);
    const firstAttempt = deferred();
    recorder.onSettled = () => firstAttempt.resolve();
    const lock = newLocker({ retryCount: 100, retryDelay: 20 }, recorder).createLock(name);
    const acquiring = lock.acquire();
    acquiring.catch(() => {}); // asserted by the caller; not an unhandled rejection meanwhile
    await firstAttempt.promise;
    return { name, holder, lock, acquiring };
  }

  describe("release() during the handle's own acquire() cancels it", () => {
    it('while the acquire waits for a lock held elsewhere', async () => {
      const { name, holder, lock, acquiring } = await waitingBehindHolder('release-waiting');

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
      const { name, holder, lock, acquiring } = await waitingBehindHolder('release-race');

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
      const recorder = recordingNotifyingRunner(ctx.client.runner);
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
}
