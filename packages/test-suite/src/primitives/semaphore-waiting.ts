/**
 * Semaphore: waiting for permits, the permit handle and the front object, and one EVALSHA per
 * operation.
 */
import { type Lock, LockAcquireError } from '@lock/core';
import { ALL_SCRIPTS } from '@lock/core/adapter';
import { describe, expect, it } from 'vitest';
import { countingRunner, elapse, recordingRunner, uniqueName, waitFor, warmWakeChannel } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';
import { rejectionOf, semaphoreTools } from './semaphore-support.js';

export function describeSemaphoreWaiting(suite: PrimitiveSuiteContext): void {
  const { command } = suite;
  const { semaphore, waitersKey } = semaphoreTools(suite);
  /**
   * A Locker whose wake channel is already subscribed, so that its waiters may be handed permits
   * (it warms up on a mutex named after `name`), over a recording runner cleared afterwards. Its
   * waiters retry only every 5 s: within a test they take permits only when handed them.
   */
  async function warmedLocker(name: string) {
    const runner = countingRunner(suite.client().runner);
    const locker = suite.newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 3 }, runner);
    const blocker = await suite.newLocker().acquire(`${name}-mutex`);
    await warmWakeChannel(locker, `${name}-mutex`);
    await blocker.release();
    runner.calls.length = 0;
    return { runner, locker };
  }

  describe('semaphore', () => {
    describe('waiting', () => {
      it('the first waiters of idle Lockers are woken one per freed permit, and each takes it with one attempt', async () => {
        const sem = semaphore(uniqueName('wake-one'), { limit: 1 });
        const holder = await sem.acquire();
        const runners = [1, 2, 3, 4].map(() => countingRunner(suite.client().runner));
        // retryDelay 5 s and no jitter: within this test a waiter only retries when woken.
        const waiting = runners.map((runner) =>
          semaphore(
            sem.name,
            { limit: 1, retryDelay: 5_000, retryJitter: 0, retryCount: 3 },
            runner,
          ).createPermit(),
        );
        const acquired = waiting.map((permit) => permit.acquire());
        // Each waiter registered before its Locker's wake channel was subscribed, so a release
        // cannot hand it the permit (it might miss the message): it is woken, and tries itself.
        await waitFor(async () => runners.every((runner) => runner.calls.length === 1), 5_000);
        await waitFor(async () => runners.every((runner) => runner.confirmed === 1), 5_000);
        const started = performance.now();
        expect(await command('ZCARD', waitersKey(sem))).toBe(4);

        await holder.release();
        const first = await Promise.race(acquired.map(async (done, index) => (await done) && index));
        expect(first).not.toBe(false);
        const firstPermit = waiting[first as number] as Lock;
        expect(runners.map((runner) => runner.calls.length).sort()).toEqual([1, 1, 1, 2]);
        // Hand the permit on down the line: each release wakes exactly the next waiter.
        const pending = new Set(waiting.filter((permit) => permit !== firstPermit));
        await firstPermit.release();
        while (pending.size > 0) {
          await waitFor(async () => [...pending].some((permit) => permit.isHeld), 3_000);
          const next = [...pending].find((permit) => permit.isHeld) as Lock;
          pending.delete(next);
          await next.release();
        }
        expect(await Promise.all(acquired)).toEqual([true, true, true, true]);
        // Polling alone would need 5 s per hand-off.
        expect(performance.now() - started).toBeLessThan(4_000);
        expect(
          runners.map((runner) => runner.calls.filter((call) => call === 'semaphore-acquire').length),
        ).toEqual([2, 2, 2, 2]);
        expect(await command('EXISTS', waitersKey(sem))).toBe(0);
      });

      it('a release hands each freed permit to the longest-waiting waiter, which sends nothing to take it', async () => {
        const name = uniqueName('hand-permits');
        const sem = semaphore(name, { limit: 2 });
        const holder = await sem.acquire({ permits: 2 });
        const { runner, locker } = await warmedLocker(name);
        const permits = [1, 2, 3, 4].map(() => locker.semaphore(name, { limit: 2 }).createPermit());
        const acquired: Promise<boolean>[] = [];
        for (const [index, permit] of permits.entries()) {
          acquired.push(permit.acquire());
          await waitFor(async () => runner.calls.length === index + 1, 2_000, 5);
        }
        const [first, second, third, fourth] = permits as [Lock, Lock, Lock, Lock];
        let stats: Record<string, number> = {};
        stats = await suite.commandsDuring(async () => {
          await holder.release();
          expect(await Promise.all(acquired.slice(0, 2))).toEqual([true, true]);
        });
        // The release handed both permits over in its one script, and told each new holder.
        expect(stats).toMatchObject({ evalsha: 1, publish: 2 });
        expect(third.isHeld || fourth.isHeld).toBe(false);
        await first.release();
        expect(await acquired[2]).toBe(true);
        await second.release();
        expect(await acquired[3]).toBe(true);
        // One attempt each (the one that registered it), and fencing tokens in hand-off order.
        expect(runner.calls.filter((call) => call === 'semaphore-acquire')).toHaveLength(4);
        const fences = permits.map((permit) => permit.fencingToken ?? Number.NaN);
        expect([...fences].sort((a, b) => a - b)).toEqual(fences);
        expect(new Set(fences).size).toBe(4);
        for (const permit of [third, fourth]) expect(await permit.remainingTime()).toBeGreaterThan(0);
        await Promise.all([third.release(), fourth.release()]);
        expect(await command('EXISTS', sem.key, waitersKey(sem), `${sem.key}:fences`)).toBe(0);
      });

      it('permits that expired are handed to a waiter that waited past the bound, not to a newcomer', async () => {
        const name = uniqueName('hand-expired');
        const crashed = await semaphore(name, { limit: 1, ttl: 400, autoRenewal: false }).acquire();
        const { runner, locker } = await warmedLocker(name);
        const waiter = locker.semaphore(name, { limit: 1 }).createPermit();
        const acquired = waiter.acquire();
        await waitFor(async () => runner.calls.length === 1, 2_000, 5);
        await waitFor(async () => !(await crashed.isLockedByMe()), 3_000);
        // The newcomer's attempt drops the expired permit; the waiter has waited past the bound
        // (100 ms), so the permit goes to it, in that same script.
        expect(await semaphore(name, { limit: 1 }).tryAcquire()).toBeNull();
        expect(await acquired).toBe(true);
        expect(runner.calls).toEqual(['semaphore-acquire']);
        await waiter.release();
      });

      it('an attempt that arrives after a release handed its permits over reports the fencing token it was given', async () => {
        const sem = semaphore(uniqueName('hand-race'), { limit: 1 });
        const keys = [sem.key, `${sem.key}:fence`, waitersKey(sem), `${sem.key}:arrivals`];
        const allKeys = [...keys, `${waitersKey(sem)}:terms`, `${sem.key}:fences`];
        const script = (name: string) =>
          ALL_SCRIPTS.find((candidate) => candidate.name === name)?.source ?? '';
        // The scripts as the permit handles call them: acquire (token, ttl, permits, limit,
        // mintFence, placeTtl, bargeBound, handOff, channel) and release (token, permits, limit).
        const acquire = (token: string, placeTtl: number) =>
          command(
            'EVAL',
            script('semaphore-acquire'),
            '6',
            ...allKeys,
            ...[token, '10000', '1', '1', '1', String(placeTtl), '100', '1', `${sem.key}-test-channel`],
          );
        const release = (token: string) =>
          command('EVAL', script('semaphore-release'), '6', ...allKeys, token, '1', '1');
        expect(await acquire('holder', 0)).toEqual([1, 1, 1]);
        // The waiter registers; the holder's release hands it the permit (fencing token 2).
        expect(((await acquire('waiter', 5_000)) as unknown[]).slice(0, 3)).toEqual([0, 1, 1]);
        expect(await release('holder')).toBe(0);
        // Its next attempt, sent before it heard of the hand-off, finds the permit its own.
        expect(await acquire('waiter', 5_000)).toEqual([1, 1, 2]);
        expect(await command('GET', `${sem.key}:fence`)).toBe('2');
        expect(await release('waiter')).toBe(0);
        expect(await command('EXISTS', ...allKeys.filter((key) => !key.endsWith(':fence')))).toBe(0);
      });

      it('tryAcquire makes one attempt, registers no waiter, and returns null when full', async () => {
        const sem = semaphore(uniqueName('try'), { limit: 1 });
        const holder = await sem.acquire();
        const recorder = recordingRunner(suite.client().runner);
        const again = semaphore(sem.name, { limit: 1, retryCount: 5, retryDelay: 1_000 }, recorder);
        expect(await again.tryAcquire()).toBeNull();
        expect(recorder.calls).toEqual(['semaphore-acquire']);
        expect(await command('EXISTS', waitersKey(sem))).toBe(0);
        await holder.release();
      });

      it('waits with waitTimeout and gives up with LOCK_NOT_ACQUIRED, leaving no registration', async () => {
        const sem = semaphore(uniqueName('budget'), { limit: 1 });
        const holder = await sem.acquire();
        const error = await rejectionOf(sem.acquire({ waitTimeout: 300, retryDelay: 20 }));
        expect(LockAcquireError.isInstance(error)).toBe(true);
        expect((error as LockAcquireError).code).toBe('LOCK_NOT_ACQUIRED');
        expect((error as LockAcquireError).lockName).toBe(sem.name);
        await waitFor(async () => (await command('EXISTS', waitersKey(sem))) === 0, 2_000);
        await holder.release();
      });

      it('an AbortSignal ends the wait at once and the waiter leaves; a pre-aborted one sends nothing', async () => {
        const sem = semaphore(uniqueName('abort'), { limit: 1 });
        const holder = await sem.acquire();
        const controller = new AbortController();
        const recorder = recordingRunner(suite.client().runner);
        recorder.onSettled = () => controller.abort(new Error('shutting down'));
        const waiter = semaphore(sem.name, { limit: 1, retryCount: Number.POSITIVE_INFINITY }, recorder);
        const started = performance.now();
        const error = await rejectionOf(waiter.acquire({ signal: controller.signal, retryDelay: 5_000 }));
        expect(error.code).toBe('LOCK_ACQUIRE_ABORTED');
        expect((error.cause as Error).message).toBe('shutting down');
        expect(performance.now() - started).toBeLessThan(2_000);
        // Its first attempt registered it as a waiter; giving up takes it out in the background.
        await waitFor(async () => (await command('EXISTS', waitersKey(sem))) === 0, 2_000);
        expect(recorder.calls).toEqual(['semaphore-acquire', 'semaphore-release']);

        // Aborted while asleep between attempts: it leaves at once, not when its registration lapses.
        const sleeper = new AbortController();
        const sleeping = rejectionOf(
          semaphore(sem.name, { limit: 1, retryDelay: 5_000, retryCount: 3 }).acquire({
            signal: sleeper.signal,
          }),
        );
        await waitFor(async () => (await command('EXISTS', waitersKey(sem))) === 1, 2_000);
        await elapse(50);
        sleeper.abort();
        expect((await sleeping).code).toBe('LOCK_ACQUIRE_ABORTED');
        await waitFor(async () => (await command('EXISTS', waitersKey(sem))) === 0, 1_000);

        const silent = recordingRunner(suite.client().runner);
        const aborted = await rejectionOf(
          semaphore(sem.name, { limit: 1 }, silent).acquire({ signal: AbortSignal.abort() }),
        );
        expect(aborted.code).toBe('LOCK_ACQUIRE_ABORTED');
        expect(silent.calls).toEqual([]);
        await holder.release();
      });
    });

    describe('the handle and the front object', () => {
      it('withPermit runs under a permit, releases, rethrows, and never runs fn when full', async () => {
        const sem = semaphore(uniqueName('with'), { limit: 2 });
        const result = await sem.withPermit(async (permit) => {
          expect(await permit.isLockedByMe()).toBe(true);
          // No call-chain re-entry: a nested withPermit takes a permit of its own.
          return sem.withPermit(async () => (await sem.inspect()).inUse);
        });
        expect(result).toBe(2);
        expect(await command('EXISTS', sem.key)).toBe(0);

        const failure = new Error('callback failed');
        await expect(
          sem.withPermit(() => {
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await command('EXISTS', sem.key)).toBe(0);

        const blocker = await sem.acquire({ permits: 2 });
        let called = false;
        const error = await sem
          .withPermit(() => {
            called = true;
          })
          .catch((caught: unknown) => caught);
        expect(LockAcquireError.isInstance(error)).toBe(true);
        expect(called).toBe(false);
        await blocker.release();
      });

      it('extend adds or replaces the remaining time; await using releases at the end of the scope', async () => {
        const sem = semaphore(uniqueName('extend'), { limit: 2, ttl: 10_000 });
        {
          await using permit = await sem.acquire({ permits: 2 });
          expect(await permit.extend(20_000)).toBe(true);
          const added = await permit.remainingTime();
          expect(added).toBeGreaterThan(28_000);
          expect(added).toBeLessThanOrEqual(30_000);
          expect(await permit.extend(5_000, { replace: true })).toBe(true);
          const replaced = await permit.remainingTime();
          expect(replaced).toBeGreaterThan(4_000);
          expect(replaced).toBeLessThanOrEqual(5_000);
          // Both permits moved together, and the key follows the latest deadline down.
          const score = (member: number) => command('ZSCORE', sem.key, `${permit.token}:${member}`);
          expect(await score(1)).toBe(await score(2));
          expect(Number(await command('PTTL', sem.key))).toBeLessThanOrEqual(5_000);
          expect(permit.holdCount).toBe(1);
        }
        expect(await command('EXISTS', sem.key)).toBe(0);
      });

      it('inspect reports holders (soonest first), permits in use, limit, waiters and the last token', async () => {
        const sem = semaphore(uniqueName('inspect'), { limit: 3 });
        expect(await sem.inspect()).toEqual({
          name: sem.name,
          key: sem.key,
          limit: 3,
          inUse: 0,
          available: 3,
          holders: [],
          waiting: 0,
          lastFencingToken: null,
        });
        const pair = await sem.acquire({ permits: 2, ttl: 10_000 });
        const single = await sem.acquire({ ttl: 5_000 });
        const controller = new AbortController();
        const waiter = sem.acquire({ signal: controller.signal, retryDelay: 5_000, waitTimeout: 20_000 });
        waiter.catch(() => {});
        await waitFor(async () => (await sem.inspect()).waiting === 1, 3_000);

        const report = await sem.inspect();
        expect(report).toMatchObject({ inUse: 3, available: 0, limit: 3, waiting: 1 });
        expect(report.holders.map(({ token, permits }) => ({ token, permits }))).toEqual([
          { token: single.token, permits: 1 },
          { token: pair.token, permits: 2 },
        ]);
        expect(report.holders[0]?.remaining).toBeGreaterThan(4_000);
        expect(report.holders[0]?.remaining).toBeLessThanOrEqual(5_000);
        expect(report.holders[1]?.remaining).toBeGreaterThan(9_000);
        expect(report.lastFencingToken).toBe(single.fencingToken);
        controller.abort();
        await waiter.catch(() => {});
        await pair.release();
        await single.release();
      });

      it('mints a strictly increasing fencing token per acquisition; none with fencing: false', async () => {
        const sem = semaphore(uniqueName('fenced'), { limit: 3 });
        const tokens: number[] = [];
        for (let round = 0; round < 10; round += 1) {
          const held = await Promise.all([1, 2, 3].map(() => sem.acquire()));
          tokens.push(...held.map((lock) => lock.fencingToken ?? Number.NaN));
          await Promise.all(held.map((lock) => lock.release()));
        }
        expect([...tokens].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        const unfenced = await semaphore(uniqueName('unfenced'), {
          limit: 1,
          fencing: false,
        }).acquire();
        expect(unfenced.fencingToken).toBeUndefined();
        expect(await command('EXISTS', `${unfenced.key}:fence`)).toBe(0);
        await unfenced.release();
      });
    });

    describe('round trips', () => {
      it('sends exactly one EVALSHA per acquire, extend and release in the steady state', async () => {
        const sem = semaphore(uniqueName('steady'), { limit: 2 });
        const warmUp = await sem.acquire();
        await warmUp.extend(100);
        await warmUp.release();
        // The wake channels of earlier tests' Lockers unsubscribe a second after their last
        // waiter: not this work's commands.
        await waitFor(
          async () => ((await command('PUBSUB', 'CHANNELS', '*wake:*')) as unknown[]).length === 0,
          5_000,
        );

        const rounds = 10;
        const stats = await suite.commandsDuring(async () => {
          for (let round = 0; round < rounds; round += 1) {
            const permit = await sem.acquire();
            await permit.extend(1_000);
            await permit.release();
          }
        });
        // Redis counts the commands the scripts run too; anything a client sent besides EVALSHA
        // would show up as an extra entry or count. Per round (nobody waits, so the waiters are
        // not touched beyond one EXISTS):
        // acquire: TIME ZREMRANGEBYSCORE EXISTS ZSCORE ZCARD ZADD ZRANGE PEXPIREAT INCR;
        // extend:  TIME ZREMRANGEBYSCORE ZSCORE ZADD ZRANGE PEXPIREAT;
        // release: TIME ZREMRANGEBYSCORE EXISTS ZSCORE ZREM HDEL (a handed-over fencing token).
        expect(stats).toEqual({
          evalsha: rounds * 3,
          time: rounds * 3,
          zremrangebyscore: rounds * 3,
          exists: rounds * 2,
          zscore: rounds * 3,
          zcard: rounds,
          zrem: rounds,
          zadd: rounds * 2,
          zrange: rounds * 2,
          pexpireat: rounds * 2,
          incr: rounds,
          hdel: rounds,
        });
      });
    });
  });
}
