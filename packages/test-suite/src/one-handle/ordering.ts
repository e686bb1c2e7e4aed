/**
 * One handle, concurrent calls: confirmations apply in the order Redis applied them, and
 * concurrent releases and re-entries of a reentrant handle each count.
 */
import type { Lock, ScriptRunner } from '@lock/core';
import { describe, expect, it } from 'vitest';
import { elapse, recordingRunner, uniqueName, waitFor } from '../helpers.js';
import { dueTimersFired, type OneHandleContext } from './support.js';

/** Registers the tests of this module with `ctx`. */
export function describeOrdering(ctx: OneHandleContext): void {
  const { command, newLocker, otherLocker } = ctx;
  describe('confirmations apply in the order Redis applied them', () => {
    it('extend(50, { replace: true }) sent in the same tick as a renewal: the handle never outlives the 50 ms', async () => {
      const name = uniqueName('replace-renewal');
      const holder: { lock?: Lock; replaced?: Promise<boolean> } = {};
      let armed = false;
      // Sends the extend right behind the first renewal, on the same connection, so Redis runs
      // the renewal (300 ms) first and the extend (50 ms) last: the key has 50 ms left.
      const forcing: ScriptRunner = {
        run(script, keys, args) {
          const reply = ctx.client.runner.run(script, keys, args);
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

  describe('concurrent releases of a reentrant handle each count', () => {
    it('two concurrent release() on a twice-entered auto-renewing handle free both levels and stop the renewal', async () => {
      const recorder = recordingRunner(ctx.client.runner);
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
}
