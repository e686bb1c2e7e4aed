/**
 * Cancellation and slow replies, on both adapters. The client under test talks to Redis through
 * a loopback fault proxy that adds latency, so that an attempt or a release is provably still on
 * the wire when the test acts; an admin client talks to Redis directly to see what really
 * happened on the server.
 *
 * The promises under test: aborting an acquire ends it at once with `LOCK_ACQUIRE_ABORTED`, sends
 * nothing more, and gives back a lock that an attempt still in flight took; a release whose reply
 * is slow is never forgotten: the key is gone once the reply arrives and the handle says
 * `released`.
 */
import {
  LockAcquireError,
  Locker,
  type LockerOptions,
  LockMisuseError,
  LockReleasedError,
  type ScriptRunner,
} from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import {
  type ConnectedClient,
  type FaultProxy,
  provisionRedis,
  type RedisInstance,
  recordingRunner,
  startFaultProxy,
  waitFor,
} from '@lock/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { uniqueName } from '../src/names.js';
import { settleTyped } from '../src/settle.js';

/** Latency added in each direction where an operation must still be in flight when the test acts. */
const LATENCY = 250;

/** Resolves on the next turn of the event loop, after every pending promise reaction has run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves after `ms`: only where the absence of something over time is what is tested. */
const elapse = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Hooks into an {@link instrumented} runner, each called synchronously as the event happens. */
interface RunnerHooks {
  /** A script was handed to the client (it is on its way to Redis). */
  onSend?: (script: string) => void;
  /** A script's reply (or error) came back. */
  onSettled?: (script: string) => void;
  /** A waiter started subscribing to release notifications. */
  onSubscribe?: () => void;
}

/**
 * A `recordingRunner` with hooks on sending, settling and subscribing, keeping the inner runner's
 * release notifications so that waiters behave as they do on the adapter itself.
 */
function instrumented(inner: ScriptRunner & ReleaseNotifier) {
  const recorder = recordingRunner(inner);
  const hooks: RunnerHooks = {};
  recorder.onSettled = (script) => hooks.onSettled?.(script);
  const runner: ScriptRunner & ReleaseNotifier = {
    run: (script, keys, args) => {
      const reply = recorder.run(script, keys, args);
      hooks.onSend?.(script.name);
      return reply;
    },
    subscribe: (channel, listener) => {
      const subscribed = inner.subscribe(channel, listener);
      hooks.onSubscribe?.();
      return subscribed;
    },
  };
  return { calls: recorder.calls, runner, hooks };
}

describe.each(CLIENT_KINDS)('cancellation and slow replies: %s', (kind: ClientKind) => {
  let redis: RedisInstance;
  let proxy: FaultProxy;
  /** The client under test: every byte goes through the proxy. */
  let client: ConnectedClient;
  /** Talks to Redis directly, for assertions and for holders that must not be slowed down. */
  let admin: ConnectedClient;

  const newLocker = (runner: ScriptRunner, options: LockerOptions = {}) =>
    new Locker(runner, { prefix: 'cancel:', ...options });
  const adminLocker = () => newLocker(admin.runner, { ttl: 30_000 });
  const owner = async (key: string) => (await admin.command(['HGET', key, 'owner'])) ?? null;
  const exists = async (key: string) => Number(await admin.command(['EXISTS', key]));

  beforeAll(async () => {
    redis = await provisionRedis();
    proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
    client = await connectClient(kind, proxy.url);
    admin = await connectClient(kind, redis.url);
    // Load every script (its first use is an EVAL after a NOSCRIPT) before any latency is added.
    const warmUp = await newLocker(client.runner).acquire(uniqueName('warm-up'));
    expect(await warmUp.extend(1_000)).toBe(true);
    expect(await warmUp.isLockedByMe()).toBe(true);
    expect(await warmUp.release()).toBe(true);
  }, 120_000);

  afterEach(() => {
    proxy.heal();
  });

  afterAll(async () => {
    await client?.close();
    await admin?.close();
    await proxy?.close();
    await redis?.stop();
  });

  describe('aborting an acquire', () => {
    it('after the in-flight attempt took the lock: rejects at once, and the lock is released long before its ttl', async () => {
      const lock = newLocker(client.runner, { ttl: 30_000 }).createLock(uniqueName('in-flight'));
      const controller = new AbortController();
      proxy.setLatency(LATENCY);
      const acquiring = settleTyped(() => lock.acquire({ signal: controller.signal }));
      // The attempt ran on the server; its reply is still on its way back.
      await waitFor(async () => (await owner(lock.key)) === lock.token, 5_000);

      const reason = new Error('the caller gave up');
      const abortedAt = performance.now();
      controller.abort(reason);
      const outcome = await acquiring;
      expect(performance.now() - abortedAt).toBeLessThan(LATENCY / 2); // not after the reply
      if (!('error' in outcome)) throw new Error('the acquire resolved although it was aborted');
      expect(LockAcquireError.isInstance(outcome.error)).toBe(true);
      expect(outcome.error.code).toBe('LOCK_ACQUIRE_ABORTED');
      expect(outcome.error.cause).toBe(reason);
      expect(lock.state).toBe('unlocked');

      // Given back once the reply arrives: a reply and a release away, not after the 30 s ttl.
      await waitFor(async () => (await exists(lock.key)) === 0, 4 * LATENCY + 1_000);
      expect(performance.now() - abortedAt).toBeLessThan(4 * LATENCY + 1_000);
    });

    it('before the in-flight attempt reached Redis: the lock it takes on arrival is given back too', async () => {
      const { runner, hooks } = instrumented(client.runner);
      const lock = newLocker(runner, { ttl: 30_000 }).createLock(uniqueName('just-sent'));
      const controller = new AbortController();
      // Abort as soon as the attempt has left (a microtask later, once `acquire` awaits it): it
      // reaches Redis only after the abort.
      hooks.onSend = () => queueMicrotask(() => controller.abort());
      proxy.setLatency(LATENCY);
      const outcome = await settleTyped(() => lock.acquire({ signal: controller.signal }));
      expect('error' in outcome && outcome.error.code).toBe('LOCK_ACQUIRE_ABORTED');

      // The attempt still arrives and takes the lock, then the release follows it.
      await waitFor(async () => (await owner(lock.key)) === lock.token, 5_000);
      const takenAt = performance.now();
      await waitFor(async () => (await exists(lock.key)) === 0, 4 * LATENCY + 1_000);
      expect(performance.now() - takenAt).toBeLessThan(4 * LATENCY + 1_000);
    });

    // Regression: an abort that fired while the attempt was being sent (before `acquire` awaited
    // it) was never seen, and the acquire resolved `true` as if nothing had happened.
    it('in the very call that sends the attempt: still rejects, and the lock is given back', async () => {
      const { runner, hooks } = instrumented(client.runner);
      const lock = newLocker(runner, { ttl: 30_000 }).createLock(uniqueName('sync-abort'));
      const controller = new AbortController();
      hooks.onSend = () => controller.abort(); // synchronously, inside runner.run()
      proxy.setLatency(LATENCY);
      const outcome = await settleTyped(() => lock.acquire({ signal: controller.signal }));
      const heldAfterAbort = 'value' in outcome && outcome.value;
      if (heldAfterAbort) await lock.release(); // the bug: acquired although aborted
      expect(heldAfterAbort).toBe(false);
      expect('error' in outcome && outcome.error.code).toBe('LOCK_ACQUIRE_ABORTED');
      await waitFor(async () => (await owner(lock.key)) === lock.token, 5_000);
      await waitFor(async () => (await exists(lock.key)) === 0, 4 * LATENCY + 1_000);
    });

    it('while waiting between retries: rejects at once and sends no further attempt', async () => {
      const name = uniqueName('between-retries');
      const holder = await adminLocker().acquire(name);
      const { runner, calls, hooks } = instrumented(client.runner);
      let settled = 0;
      // First attempt, subscription, second attempt: then it sleeps for retryDelay.
      const twoAttemptsSettled = new Promise<void>((resolve) => {
        hooks.onSettled = () => {
          settled += 1;
          if (settled === 2) resolve();
        };
      });
      const controller = new AbortController();
      const retryDelay = 300;
      const acquiring = settleTyped(() =>
        newLocker(runner).acquire(name, {
          waitTimeout: 10_000,
          retryDelay,
          retryJitter: 0,
          signal: controller.signal,
        }),
      );
      await twoAttemptsSettled;
      await nextTurn(); // let the reply reach the wait loop, which then sleeps
      const attemptsBefore = calls.length;

      const abortedAt = performance.now();
      controller.abort();
      const outcome = await acquiring;
      expect(performance.now() - abortedAt).toBeLessThan(100);
      expect('error' in outcome && outcome.error.code).toBe('LOCK_ACQUIRE_ABORTED');
      if ('error' in outcome && LockAcquireError.isInstance(outcome.error)) {
        expect(outcome.error.attempts).toBe(attemptsBefore);
      }
      await elapse(3 * retryDelay); // several retry delays: no further attempt may be sent
      // The failed attempts registered the waiter beside the lock: the abort leaves that list
      // with one clean-up release, and sends nothing else.
      expect(calls).toEqual([...Array(attemptsBefore).fill('acquire'), 'release']);
      expect(await owner(holder.key)).toBe(holder.token);
      expect(await holder.release()).toBe(true);
    });

    // Regression: an abort while the waiter subscribed to release notifications used to go unseen
    // until the SUBSCRIBE was confirmed; then one more attempt was sent anyway (the race added its
    // 'abort' listener to a signal that had already aborted, so it never fired), and the call
    // rejected only after that attempt's reply.
    it('while subscribing to release notifications: rejects at once and sends no further attempt', async () => {
      const name = uniqueName('while-subscribing');
      const holder = await adminLocker().acquire(name);
      const { runner, calls, hooks } = instrumented(client.runner);
      const controller = new AbortController();
      let abortedAt = 0;
      hooks.onSubscribe = () => {
        abortedAt = performance.now();
        controller.abort();
      };
      proxy.setLatency(LATENCY);
      const outcome = await settleTyped(() =>
        newLocker(runner).acquire(name, {
          waitTimeout: 10_000,
          retryDelay: 5_000,
          signal: controller.signal,
        }),
      );
      const rejectedAfter = performance.now() - abortedAt;
      expect('error' in outcome && outcome.error.code).toBe('LOCK_ACQUIRE_ABORTED');
      expect(await holder.release()).toBe(true);
      // One attempt (it registered the waiter), then the clean-up release that leaves the waiters'
      // list; the bug was a second attempt: ['acquire', 'acquire'].
      expect(calls).toEqual(['acquire', 'release']);
      expect(rejectedAfter).toBeLessThan(LATENCY); // the bug: 1.5 to 2 s (subscription + a round trip)
    });

    // Regression, same cause, worse outcome: with the lock released while the aborted waiter was
    // still subscribing, the attempt sent after the abort took the lock, and `acquire` resolved
    // with a held lock although the caller had aborted.
    it('while subscribing, with the lock released meanwhile: still rejects, and holds nothing', async () => {
      const name = uniqueName('abort-then-free');
      const holder = await adminLocker().acquire(name);
      const { runner, hooks } = instrumented(client.runner);
      const controller = new AbortController();
      let freed: Promise<boolean> | undefined;
      hooks.onSubscribe = () => {
        controller.abort();
        freed = holder.release(); // direct connection: done long before the subscription
      };
      proxy.setLatency(LATENCY);
      const lock = newLocker(runner, { waitTimeout: 10_000, retryDelay: 5_000 }).createLock(name);
      const outcome = await settleTyped(() => lock.acquire({ signal: controller.signal }));
      expect(await freed).toBe(true);
      const heldAfterAbort = 'value' in outcome && outcome.value;
      if (heldAfterAbort) await lock.release(); // the bug: acquired after the abort
      expect(heldAfterAbort).toBe(false);
      expect('error' in outcome && outcome.error.code).toBe('LOCK_ACQUIRE_ABORTED');
    });

    // Regression: the release of an abandoned in-flight attempt is sent when that attempt's reply
    // arrives. A retry of `acquire()` on the same handle in between (allowed: the handle is back
    // to 'unlocked') took the lock with the same token, and the late release then deleted it: the
    // handle said `held` while Redis had no lock, and a second holder got in.
    it('retrying on the same handle after an abort: the late release of the abandoned attempt does not delete the new hold', async () => {
      const lock = newLocker(client.runner, { ttl: 30_000 }).createLock(uniqueName('abort-retry'));
      const controller = new AbortController();
      proxy.setLatency(LATENCY);
      const first = settleTyped(() => lock.acquire({ signal: controller.signal }));
      await waitFor(async () => (await owner(lock.key)) === lock.token, 5_000);
      controller.abort();
      expect('error' in (await first)).toBe(true);

      expect(await lock.acquire()).toBe(true); // the retry, on the same handle
      expect(lock.isHeld).toBe(true);
      proxy.heal();
      const intruder = await adminLocker().tryAcquire(lock.name);
      await intruder?.release();
      expect(intruder).toBeNull(); // the bug: a second holder got the lock
      expect(await owner(lock.key)).toBe(lock.token); // the bug: null, the key was deleted
      await lock.release();
    });
  });

  describe('a release whose reply is slow', () => {
    it('is never forgotten: the key is gone once the reply arrives, and the handle says released', async () => {
      const lock = await newLocker(client.runner, { ttl: 30_000 }).acquire(uniqueName('slow-release'));
      proxy.setLatency(LATENCY);
      const releasing = lock.release();
      // The release ran on the server; the client is still waiting for its reply.
      await waitFor(async () => (await exists(lock.key)) === 0, 5_000);
      expect(lock.signal.aborted).toBe(false);
      expect(await releasing).toBe(true);
      expect(lock.state).toBe('released');
      expect(lock.isHeld).toBe(false);
      expect(lock.signal.reason).toSatisfy(LockReleasedError.isInstance);
      expect(await exists(lock.key)).toBe(0);
      await expect(lock.release()).rejects.toSatisfy(LockMisuseError.isInstance);
    });

    it('two overlapping releases: one true, one false, and the handle ends released, not lost', async () => {
      const lock = await newLocker(client.runner, { ttl: 30_000 }).acquire(uniqueName('double-release'));
      proxy.setLatency(LATENCY);
      expect(await Promise.all([lock.release(), lock.release()])).toEqual([true, false]);
      expect(lock.state).toBe('released');
      expect(lock.signal.reason).toSatisfy(LockReleasedError.isInstance);
      expect(await exists(lock.key)).toBe(0);
    });

    it('withLock resolves only once its release has been answered: the key is gone by then', async () => {
      const name = uniqueName('slow-with-lock');
      proxy.setLatency(LATENCY);
      let key = '';
      const value = await newLocker(client.runner, { ttl: 30_000 }).withLock(name, (lock) => {
        key = lock.key;
        return 42;
      });
      expect(value).toBe(42);
      expect(await exists(key)).toBe(0);
    });

    it('a renewal in flight when the release is sent does not turn the release into a loss', async () => {
      const { runner, hooks } = instrumented(client.runner);
      const lock = await newLocker(runner, { ttl: 3_000, renewalInterval: 300, autoRenewal: true }).acquire(
        uniqueName('renewal-then-release'),
      );
      proxy.setLatency(LATENCY);
      // Release right behind a renewal: the renewal's reply comes back after the release started.
      const releasing = new Promise<boolean>((resolve, reject) => {
        hooks.onSend = (script) => {
          if (script !== 'extend') return;
          hooks.onSend = undefined;
          lock.release().then(resolve, reject);
        };
      });
      expect(await releasing).toBe(true);
      expect(lock.state).toBe('released');
      expect(lock.signal.reason).toSatisfy(LockReleasedError.isInstance);
      expect(await exists(lock.key)).toBe(0);
    });
  });
});
