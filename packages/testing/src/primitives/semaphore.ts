/**
 * Semaphore (`locker.semaphore(name, { limit })`): up to `limit` permits out at once, each holder
 * with its own token, expiry, renewal, lost signal and release; several permits per acquire;
 * server-time expiry; a release wakes one waiter per freed permit; bad input sends nothing; one
 * EVALSHA per operation.
 */
import {
  type Lock,
  LockAcquireError,
  type LockError,
  LockLostError,
  LockOptionError,
  MAX_SEMAPHORE_LIMIT,
  type ScriptRunner,
  type Semaphore,
  type SemaphoreOptions,
} from '@lock/core';
import { describe, expect, it } from 'vitest';
import {
  elapse,
  recordingNotifyingRunner,
  recordingRunner,
  uniqueName,
  waitFor,
  whenAborted,
} from '../conformance.js';
import { type PrimitiveSuiteContext, serverTimeMs } from '../primitives.js';

/** The error `operation` rejects with; fails the test if it resolves. */
function rejectionOf(operation: Promise<unknown>): Promise<LockError> {
  return operation.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught as LockError,
  );
}

export function describeSemaphore(suite: PrimitiveSuiteContext): void {
  const { command } = suite;
  const semaphore = (
    name: string,
    options: SemaphoreOptions,
    runner: ScriptRunner = suite.client().runner,
  ): Semaphore => suite.newLocker({}, runner).semaphore(name, options);
  const waitersKey = (sem: Semaphore) => `${sem.key}:waiters`;
  const serverNow = () => serverTimeMs(suite.client().command);
  /** How long each script that `work` sends runs on the server, in µs (from SLOWLOG). */
  const serverMicrosOfScripts = async (work: () => Promise<void>): Promise<number[]> => {
    // CONFIG GET is a flat [name, value] list, or a map (node-redis on RESP3).
    const config = (await command('CONFIG', 'GET', 'slowlog-log-slower-than')) as unknown;
    const before = String(Array.isArray(config) ? config[1] : Object.values(config as object)[0]);
    await command('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    try {
      await command('SLOWLOG', 'RESET');
      await work();
      const entries = (await command('SLOWLOG', 'GET', '128')) as [unknown, unknown, unknown, unknown[]][];
      return entries
        .filter(([, , , args]) => /^eval/i.test(String(args[0])))
        .map(([, , micros]) => Number(micros));
    } finally {
      await command('CONFIG', 'SET', 'slowlog-log-slower-than', before);
    }
  };

  describe('semaphore (B6)', () => {
    describe('limit and permits', () => {
      it('lets up to limit holders in, refuses the next, and admits it once one releases', async () => {
        const sem = semaphore(uniqueName('limit'), { limit: 3 });
        const holders = await Promise.all([1, 2, 3].map(() => sem.acquire()));
        expect(new Set(holders.map((holder) => holder.token)).size).toBe(3);
        expect(await sem.tryAcquire()).toBeNull();
        expect(await command('ZCARD', sem.key)).toBe(3);

        expect(await holders[1]?.release()).toBe(true);
        const fourth = await sem.tryAcquire();
        expect(fourth?.isHeld).toBe(true);
        expect(await sem.tryAcquire()).toBeNull();
        for (const lock of [holders[0], holders[2], fourth]) expect(await lock?.release()).toBe(true);
        expect(await command('EXISTS', sem.key)).toBe(0);
      });

      it('takes several permits at once, all or nothing; a release frees exactly its own', async () => {
        const sem = semaphore(uniqueName('permits'), { limit: 5 });
        const big = await sem.acquire({ permits: 3 });
        expect(await sem.tryAcquire({ permits: 3 })).toBeNull(); // 3 + 3 > 5: none taken
        expect((await sem.inspect()).inUse).toBe(3);
        const small = await sem.acquire({ permits: 2 });
        expect(await sem.tryAcquire()).toBeNull();
        expect(await command('ZCARD', sem.key)).toBe(5);

        expect(await big.release()).toBe(true);
        const report = await sem.inspect();
        expect(report.inUse).toBe(2);
        expect(report.holders).toEqual([expect.objectContaining({ token: small.token, permits: 2 })]);
        expect(await small.isLockedByMe()).toBe(true);
        await small.release();
      });

      it('caps limit and permits so that no script runs long on the server', async () => {
        // Above the cap: refused before anything is sent (half a million permits once blocked
        // every client of the server for 1.3 s).
        const recorder = recordingRunner(suite.client().runner);
        const capped = suite.newLocker({}, recorder);
        expect(() => capped.semaphore(uniqueName('cap'), { limit: MAX_SEMAPHORE_LIMIT + 1 })).toThrow(
          LockOptionError,
        );
        expect(() => capped.semaphore(uniqueName('cap'), { limit: 500_000 })).toThrow(LockOptionError);
        expect(recorder.calls).toEqual([]);

        // At the cap, the heaviest scripts there are: take all but one permit at once while
        // dropping as many expired ones, renew them all, give them all back.
        const name = uniqueName('cap');
        const most = MAX_SEMAPHORE_LIMIT - 1;
        const sem = semaphore(name, { limit: MAX_SEMAPHORE_LIMIT, ttl: 60_000 });
        expect(await (await sem.acquire()).release()).toBe(true); // loads the release script
        const keeper = await sem.acquire(); // keeps the key alive once the big hold expires
        expect(await keeper.extend(1_000)).toBe(true); // and now every script measured is loaded
        const expiring = await sem.acquire({ permits: most, ttl: 300 });
        // Expired by the server's clock, still in the set: the next script drops them.
        await waitFor(async () => (await sem.inspect()).inUse === 1, 5_000);
        expect(await command('ZCARD', expiring.key)).toBe(MAX_SEMAPHORE_LIMIT);
        const durations = await serverMicrosOfScripts(async () => {
          const permit = await sem.acquire({ permits: most });
          expect(await permit.extend(1_000)).toBe(true);
          expect(await permit.release()).toBe(true);
        });
        expect(durations).toHaveLength(3);
        // Measured at 6–35 ms each on a busy 2-core machine; the bound leaves room for a slower one.
        expect(Math.max(...durations)).toBeLessThan(100_000);
        expect(await keeper.release()).toBe(true);
      });

      it('callers that disagree on the limit each enforce their own', async () => {
        const name = uniqueName('disagree');
        const strict = semaphore(name, { limit: 2 });
        const loose = semaphore(name, { limit: 3 });
        const held = [await strict.acquire(), await strict.acquire()];
        expect(await strict.tryAcquire()).toBeNull(); // 2 in use: full by its limit
        const third = await loose.tryAcquire(); // 2 in use: room by its limit
        expect(third).not.toBeNull();
        expect(await loose.tryAcquire()).toBeNull();
        expect((await strict.inspect()).available).toBe(0);
        for (const lock of [...held, third]) await lock?.release();
      });
    });

    describe('data layout and server time', () => {
      it('keeps its keys in the name hash slot, apart from a mutex of the same name', async () => {
        const name = uniqueName('layout');
        const locker = suite.newLocker();
        const sem = locker.semaphore(name, { limit: 2, ttl: 10_000 });
        const mutex = await locker.acquire(name);
        const permit = await sem.acquire();
        expect(sem.key).toBe(`primitives:{${name}}:semaphore`);
        expect(permit.key).toBe(sem.key);
        expect(await command('TYPE', mutex.key)).toBe('hash');
        expect(await command('TYPE', sem.key)).toBe('zset');
        expect(await command('ZRANGE', sem.key, '0', '-1')).toEqual([`${permit.token}:1`]);
        // Separate fencing counters: the semaphore's first token is 1 whatever the mutex minted.
        expect(permit.fencingToken).toBe(1);
        expect(await command('GET', `${sem.key}:fence`)).toBe('1');
        await mutex.release();
        await permit.release();
      });

      it("scores each permit by the server's clock: deadline = server TIME + ttl", async () => {
        const sem = semaphore(uniqueName('server-time'), { limit: 2, ttl: 10_000 });
        const before = await serverNow();
        const permit = await sem.acquire();
        const after = await serverNow();
        const deadline = Number(await command('ZSCORE', sem.key, `${permit.token}:1`));
        expect(deadline).toBeGreaterThanOrEqual(before + 10_000);
        expect(deadline).toBeLessThanOrEqual(after + 10_000);
        // The key itself expires at the latest deadline, to the millisecond.
        expect(Number(await command('PEXPIRETIME', sem.key))).toBe(deadline);
        await permit.release();
      });

      it('leaves nothing behind: the key expires with the latest permit when nobody releases', async () => {
        const sem = semaphore(uniqueName('linger'), { limit: 3 });
        await sem.acquire({ ttl: 200 });
        const longer = await sem.acquire({ ttl: 500 });
        const pttl = Number(await command('PTTL', sem.key));
        expect(pttl).toBeGreaterThan(300);
        expect(pttl).toBeLessThanOrEqual(500);
        await whenAborted(longer.signal);
        await waitFor(async () => (await command('EXISTS', sem.key)) === 0, 2_000);
      });
    });

    describe('per-holder expiry, renewal and the lost signal', () => {
      /** Renewal every 100 ms, far inside the ttl: a loss is found by a renewal, not by expiry. */
      const renewingFast = { ttl: 3_000, renewalInterval: 100, autoRenewal: true } as const;

      it('each holder has its own expiry: one expires while the other stays', async () => {
        const sem = semaphore(uniqueName('own-expiry'), { limit: 2 });
        const short = await sem.acquire({ ttl: 250 });
        const long = await sem.acquire({ ttl: 10_000 });
        expect(await sem.tryAcquire()).toBeNull();

        expect(((await whenAborted(short.signal)) as LockLostError).reason).toBe('expired');
        await waitFor(async () => (await sem.inspect()).inUse === 1, 2_000);
        expect((await sem.inspect()).holders.map((holder) => holder.token)).toEqual([long.token]);
        expect(await long.isLockedByMe()).toBe(true);
        expect(long.signal.aborted).toBe(false);
        const next = await sem.tryAcquire(); // the expired permit is free again
        expect(next?.isHeld).toBe(true);
        expect(await short.extend(1_000)).toBe(false);
        expect(await short.release()).toBe(false);
        await next?.release();
        await long.release();
      });

      it('auto-renewal keeps a permit past several ttls, and stops once released', async () => {
        let renewals = 0;
        const sem = suite
          .newLocker({
            hooks: {
              onExtended: ({ renewal }) => {
                if (renewal) renewals += 1;
              },
            },
          })
          .semaphore(uniqueName('renew'), { limit: 1, ttl: 300, autoRenewal: true });
        const permit = await sem.acquire();
        await elapse(1_000);
        expect(permit.signal.aborted).toBe(false);
        expect(await permit.isLockedByMe()).toBe(true);
        expect(await sem.tryAcquire()).toBeNull();
        expect(renewals).toBeGreaterThanOrEqual(5);
        const remaining = await permit.remainingTime();
        expect(remaining).toBeGreaterThan(0);
        expect(remaining).toBeLessThanOrEqual(300);
        expect(await permit.release()).toBe(true);
        const renewalsAtRelease = renewals;
        await elapse(300);
        expect(renewals).toBe(renewalsAtRelease);
        expect(await command('EXISTS', sem.key)).toBe(0);
      });

      it("the lost signal fires ('taken') when one holder's permit is deleted; the other keeps its own", async () => {
        const sem = semaphore(uniqueName('deleted'), { limit: 2, ...renewingFast });
        const victim = await sem.acquire();
        const other = await sem.acquire();
        await command('ZREM', sem.key, `${victim.token}:1`);
        const deletedAt = performance.now();
        const reason = await whenAborted(victim.signal);
        expect(performance.now() - deletedAt).toBeLessThan(1_000);
        expect(LockLostError.isInstance(reason)).toBe(true);
        expect((reason as LockLostError).reason).toBe('taken');
        expect(victim.state).toBe('lost');
        expect(await victim.release()).toBe(false);
        await elapse(300); // several renewals of the other holder
        expect(other.signal.aborted).toBe(false);
        expect(await other.isLockedByMe()).toBe(true);
        await other.release();
      });

      it("the lost signal fires ('taken') for every holder when the whole key is deleted", async () => {
        const sem = semaphore(uniqueName('flushed'), { limit: 3, ...renewingFast });
        const holders = await Promise.all([1, 2, 3].map(() => sem.acquire()));
        await command('DEL', sem.key);
        const reasons = await Promise.all(holders.map((holder) => whenAborted(holder.signal)));
        expect(reasons.map((reason) => (reason as LockLostError).reason)).toEqual([
          'taken',
          'taken',
          'taken',
        ]);
      });
    });

    describe('waiting', () => {
      it('a release wakes one waiter per freed permit, not all of them', async () => {
        const sem = semaphore(uniqueName('wake-one'), { limit: 1 });
        const holder = await sem.acquire();
        const runners = [1, 2, 3, 4].map(() => recordingNotifyingRunner(suite.client().runner));
        // retryDelay 5 s and no jitter: within this test a waiter only retries when woken.
        const waiting = runners.map((runner) =>
          semaphore(
            sem.name,
            { limit: 1, retryDelay: 5_000, retryJitter: 0, retryCount: 3 },
            runner,
          ).createPermit(),
        );
        const acquired = waiting.map((permit) => permit.acquire());
        // Each waiter: a first attempt (registers), then subscribes to its wake channel.
        await waitFor(async () => runners.every((runner) => runner.calls.length === 1), 5_000);
        await waitFor(
          async () => ((await command('PUBSUB', 'CHANNELS', `${sem.key}:wake:*`)) as unknown[]).length === 4,
          5_000,
        );
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

    describe('bad input: a typed error, and nothing sent to Redis', () => {
      const badSemaphoreOptions: [string, unknown][] = [
        ['no options', undefined],
        ['a missing limit', {}],
        ['limit 0', { limit: 0 }],
        ['a negative limit', { limit: -1 }],
        ['a fractional limit', { limit: 1.5 }],
        ['a NaN limit', { limit: Number.NaN }],
        ['an infinite limit', { limit: Number.POSITIVE_INFINITY }],
        ['a string limit', { limit: '3' }],
        ['reentrant: true', { limit: 3, reentrant: true }],
        ['fair: true', { limit: 3, fair: true }],
        ['replicas', { limit: 3, replicas: { count: 1, timeout: 100 } }],
        ['a bad ttl', { limit: 3, ttl: 0 }],
        ['an unknown option', { limit: 3, permit: 2 }],
      ];
      for (const [label, options] of badSemaphoreOptions) {
        it(`locker.semaphore rejects ${label}`, () => {
          const recorder = recordingRunner(suite.client().runner);
          const locker = suite.newLocker({}, recorder);
          expect(() => locker.semaphore('bad', options as SemaphoreOptions)).toThrow(LockOptionError);
          expect(recorder.calls).toEqual([]);
        });
      }

      it('locker.semaphore rejects a bad name', () => {
        const locker = suite.newLocker();
        for (const name of ['', 42, undefined, 'x'.repeat(1025)]) {
          expect(() => locker.semaphore(name as string, { limit: 1 })).toThrow(LockOptionError);
        }
      });

      const badPermitOptions: [string, Record<string, unknown>][] = [
        ['permits 0', { permits: 0 }],
        ['negative permits', { permits: -2 }],
        ['fractional permits', { permits: 1.5 }],
        ['string permits', { permits: '2' }],
        ['permits above the limit', { permits: 4 }],
        ['reentrant: true', { reentrant: true }],
        ['fair: true', { fair: true }],
        ['replicas', { replicas: { count: 1, timeout: 100 } }],
        ['a per-call limit', { limit: 5 }],
        ['a bad renewalInterval', { ttl: 1_000, renewalInterval: 1_000 }],
        ['a signal that is not an AbortSignal', { signal: { aborted: 'no' } }],
      ];
      for (const [label, options] of badPermitOptions) {
        it(`acquire, tryAcquire, withPermit and createPermit reject ${label}`, async () => {
          const recorder = recordingRunner(suite.client().runner);
          const sem = suite.newLocker({}, recorder).semaphore(uniqueName('bad'), { limit: 3 });
          const given = options as never;
          await expect(sem.acquire(given)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(sem.tryAcquire(given)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(sem.withPermit(() => 1, given)).rejects.toSatisfy(LockOptionError.isInstance);
          if (!('signal' in options)) expect(() => sem.createPermit(given)).toThrow(LockOptionError);
          expect(recorder.calls).toEqual([]);
        });
      }

      it('withPermit rejects a non-function, and a bad extend(ms) sends nothing', async () => {
        const recorder = recordingRunner(suite.client().runner);
        const sem = suite.newLocker({}, recorder).semaphore(uniqueName('bad-fn'), { limit: 1 });
        await expect(sem.withPermit(undefined as never)).rejects.toSatisfy(LockOptionError.isInstance);
        expect(recorder.calls).toEqual([]);
        const permit = await sem.acquire();
        recorder.calls.length = 0;
        for (const ms of [0, -5, 1.5, Number.NaN]) {
          await expect(permit.extend(ms)).rejects.toSatisfy(LockOptionError.isInstance);
        }
        expect(recorder.calls).toEqual([]);
        await permit.release();
      });

      it("ignores a Locker's reentrant and fair defaults (they do not apply to permits)", async () => {
        const sem = suite
          .newLocker({ reentrant: true, fair: true })
          .semaphore(uniqueName('defaults'), { limit: 1 });
        const permit = await sem.acquire();
        expect(permit.options).toMatchObject({ reentrant: false, fair: false });
        await permit.release();
      });
    });

    describe('round trips (P1)', () => {
      it('sends exactly one EVALSHA per acquire, extend and release in the steady state', async () => {
        const sem = semaphore(uniqueName('steady'), { limit: 2 });
        const warmUp = await sem.acquire();
        await warmUp.extend(100);
        await warmUp.release();

        const rounds = 10;
        const stats = await suite.commandsDuring(async () => {
          for (let round = 0; round < rounds; round += 1) {
            const permit = await sem.acquire();
            await permit.extend(1_000);
            await permit.release();
          }
        });
        // Redis counts the commands the scripts run too; anything a client sent besides EVALSHA
        // would show up as an extra entry or count. Per round:
        // acquire: TIME ZREMRANGEBYSCORE×2 ZSCORE ZCARD ZREM ZADD ZRANGE PEXPIREAT INCR;
        // extend:  TIME ZREMRANGEBYSCORE ZSCORE ZADD ZRANGE PEXPIREAT;
        // release: TIME ZREMRANGEBYSCORE×2 ZREM ZSCORE ZREM ZCARD ZRANGE.
        expect(stats).toEqual({
          evalsha: rounds * 3,
          time: rounds * 3,
          zremrangebyscore: rounds * 5,
          zscore: rounds * 3,
          zcard: rounds * 2,
          zrem: rounds * 3,
          zadd: rounds * 2,
          zrange: rounds * 3,
          pexpireat: rounds * 2,
          incr: rounds,
        });
      });
    });
  });
}
