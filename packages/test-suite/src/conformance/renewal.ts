/** Auto-renewal: a held lock outlives its ttl, and losing it is signalled. */
import { LockLostError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { elapse, recordingRunner, uniqueName, whenAborted } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeRenewal(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('auto-renewal', () => {
    it('keeps a lock alive over more than 3 ttls, then stops renewing once released', async () => {
      const recorder = recordingRunner(ctx.client.runner);
      const locker = newLocker({ ttl: 300, autoRenewal: true }, recorder);
      const name = uniqueName('renew');
      const lock = await locker.acquire(name);
      expect(lock.options.renewalInterval).toBe(100);

      await elapse(1_000);
      expect(lock.isHeld).toBe(true);
      expect(lock.signal.aborted).toBe(false);
      expect(await lock.isLockedByMe()).toBe(true);
      expect(await newLocker().tryAcquire(name)).toBeNull();
      expect(recorder.calls.filter((call) => call === 'extend').length).toBeGreaterThanOrEqual(5);

      expect(await lock.release()).toBe(true);
      const callsAtRelease = recorder.calls.length;
      await elapse(400);
      expect(recorder.calls.length).toBe(callsAtRelease);
      expect(await command('EXISTS', lock.key)).toBe(0);
    });

    it('signals a lost lock when the key is deleted behind the holder', async () => {
      const lock = await newLocker({ ttl: 600, autoRenewal: true }).acquire(uniqueName('stolen'));
      const lost = whenAborted(lock.signal);
      await command('DEL', lock.key);
      const reason = await lost;
      expect(LockLostError.isInstance(reason)).toBe(true);
      expect((reason as LockLostError).reason).toBe('taken');
      expect(lock.state).toBe('lost');
      expect(await lock.release()).toBe(false);
    });

    it('signals "taken" when renewal finds another owner, and never touches their lock', async () => {
      const lock = await newLocker({ ttl: 600, autoRenewal: true }).acquire(uniqueName('taken'));
      const lost = whenAborted(lock.signal);
      await command('HSET', lock.key, 'owner', 'someone-else', 'count', '1');
      expect(((await lost) as LockLostError).reason).toBe('taken');
      expect(await lock.release()).toBe(false);
      expect(await command('HGET', lock.key, 'owner')).toBe('someone-else');
      await command('DEL', lock.key);
    });

    it('signals expiry of a lock without renewal when its ttl runs out', async () => {
      const lock = await newLocker({ ttl: 200 }).acquire(uniqueName('lapse'));
      const reason = await whenAborted(lock.signal);
      expect((reason as LockLostError).reason).toBe('expired');
      expect(await lock.extend(1_000)).toBe(false);
    });
  });
}
