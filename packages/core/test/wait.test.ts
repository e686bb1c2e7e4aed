import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { monotonicNow } from '../src/clock.js';
import { LockAcquireError, LockRedisError, RedisCallTimeout } from '../src/errors.js';
import { type WaitParams, WaitStop, waitForLock } from '../src/handle/wait.js';
import { type LockOptions, resolveLockOptions, WAIT_TIMEOUT_MARGIN } from '../src/options.js';
import type { Unsubscribe } from '../src/port/capabilities.js';
import { deferred, flush, track, useFakeClock } from './fake-clock.js';

// The retry loop over scripted attempts, on a fake clock: how many attempts, when, what ends the
// wait and with what. That a real lock is then taken or released is proven against Redis.

/** What one scripted attempt does: acquire (true), find the lock held (false), fail, or settle later. */
type Step = boolean | Error | Promise<boolean>;

/** An attempt function that plays `steps` in order (then finds the lock held), recording each call. */
function scriptedAttempts(steps: Step[] = []) {
  const calls: { at: number; mayRetry: boolean; settleBy: number; promise: Promise<boolean> }[] = [];
  const attempt = (mayRetry: boolean, settleBy: number): Promise<boolean> => {
    const step = steps.shift() ?? false;
    const promise = step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
    calls.push({ at: monotonicNow(), mayRetry, settleBy, promise });
    return promise;
  };
  return { calls, attempt };
}

/** Starts a wait with `options` over `attempt`; the clock starts at the call. */
function startWait(
  options: LockOptions,
  attempt: WaitParams['attempt'],
  extra: Partial<Pick<WaitParams, 'stop' | 'subscribeToReleases'>> = {},
) {
  const stop = extra.stop ?? new WaitStop(undefined);
  const abandoned: Promise<boolean>[] = [];
  const startedAt = monotonicNow();
  const result = track(
    waitForLock({
      lockName: 'job',
      options: resolveLockOptions({}, options),
      stop,
      attempt,
      onAbandonedAttempt: (pending) => abandoned.push(pending),
      subscribeToReleases: extra.subscribeToReleases,
    }),
  );
  return { result, stop, abandoned, startedAt };
}

/** A release subscription that confirms at once and lets the test ring the waiter's listener. */
function instantSubscription() {
  const listeners: (() => void)[] = [];
  const unsubscribe = vi.fn<Unsubscribe>();
  const subscribe = vi.fn(async (listener: () => void) => {
    listeners.push(listener);
    return unsubscribe;
  });
  const ring = () => {
    for (const listener of listeners) listener();
  };
  return { subscribe, unsubscribe, ring };
}

const relative = (times: readonly { at: number }[], startedAt: number) =>
  times.map(({ at }) => at - startedAt);
const gaps = (times: readonly { at: number }[]) =>
  times.slice(1).map(({ at }, index) => at - (times[index]?.at ?? Number.NaN));
const redisFailure = (message = 'ECONNRESET') => new LockRedisError('acquire', new Error(message));

beforeEach(useFakeClock);
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('waitForLock: attempts', () => {
  it('makes exactly retryCount + 1 attempts, and only the last one is told it may not retry', async () => {
    const scripted = scriptedAttempts();
    const { result, startedAt } = startWait(
      { retryCount: 3, retryDelay: 100, retryJitter: 0 },
      scripted.attempt,
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.state).toBe('resolved');
    expect(result.value).toEqual({ acquired: false, attempts: 4, waited: 300 });
    expect(scripted.calls.map((call) => call.mayRetry)).toEqual([true, true, true, false]);
    expect(relative(scripted.calls, startedAt)).toEqual([0, 100, 200, 300]);
  });

  it('retryCount 0 makes one attempt, and neither sleeps nor subscribes', async () => {
    const scripted = scriptedAttempts();
    const releases = instantSubscription();
    const { result } = startWait({}, scripted.attempt, { subscribeToReleases: releases.subscribe });
    await flush();
    expect(result.value).toEqual({ acquired: false, attempts: 1, waited: 0 });
    expect(scripted.calls.map((call) => call.mayRetry)).toEqual([false]);
    expect(releases.subscribe).not.toHaveBeenCalled();
  });

  it('ends at the first attempt that acquires', async () => {
    const scripted = scriptedAttempts([false, false, true]);
    const { result } = startWait({ retryCount: 10, retryDelay: 50, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.value).toEqual({ acquired: true, attempts: 3, waited: 100 });
    expect(scripted.calls).toHaveLength(3);
  });
});

describe('waitForLock: backoff', () => {
  it('fixed: each sleep is retryDelay ± retryJitter, drawn afresh for every retry', async () => {
    const random = vi.spyOn(Math, 'random');
    for (const value of [0, 0.5, 0.999_999]) random.mockReturnValueOnce(value);
    const scripted = scriptedAttempts();
    startWait({ retryCount: 3, retryDelay: 100, retryJitter: 40 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gaps(scripted.calls)).toEqual([60, 100, 140]);
  });

  it('exponential: full jitter under a ceiling that doubles per retry up to maxRetryDelay', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    const scripted = scriptedAttempts();
    startWait(
      { retryCount: 5, backoff: 'exponential', retryDelay: 50, maxRetryDelay: 400 },
      scripted.attempt,
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gaps(scripted.calls)).toEqual([50, 100, 200, 400, 400]);
  });

  it('with varied random draws every sleep stays within the jitter bounds and uses their width', async () => {
    // A seeded generator: the draws vary like Math.random's, but every run sees the same ones.
    let seed = 42;
    vi.spyOn(Math, 'random').mockImplementation(() => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    });
    const scripted = scriptedAttempts();
    startWait({ retryCount: 200, retryDelay: 100, retryJitter: 40 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(100_000);
    const sleeps = gaps(scripted.calls);
    expect(sleeps).toHaveLength(200);
    expect(Math.min(...sleeps)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(140);
    expect(Math.min(...sleeps)).toBeLessThan(70);
    expect(Math.max(...sleeps)).toBeGreaterThan(130);
  });
});

describe('waitForLock: the wait budget', () => {
  it('ends the wait at waitTimeout: the last sleep is cut short and the last attempt may not retry', async () => {
    const scripted = scriptedAttempts();
    const { result, startedAt } = startWait(
      { waitTimeout: 250, retryDelay: 100, retryJitter: 0 },
      scripted.attempt,
    );
    await vi.advanceTimersByTimeAsync(249);
    expect(result.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(result.value).toEqual({ acquired: false, attempts: 4, waited: 250 });
    expect(relative(scripted.calls, startedAt)).toEqual([0, 100, 200, 250]);
    expect(scripted.calls.map((call) => call.mayRetry)).toEqual([true, true, true, false]);
  });

  it('gives every attempt the same settle-by time: waitTimeout + WAIT_TIMEOUT_MARGIN after the start', async () => {
    const scripted = scriptedAttempts();
    const { startedAt } = startWait({ waitTimeout: 250, retryDelay: 100, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(new Set(scripted.calls.map((call) => call.settleBy))).toEqual(
      new Set([startedAt + 250 + WAIT_TIMEOUT_MARGIN]),
    );
  });

  it('waitTimeout 0 makes exactly one attempt', async () => {
    const scripted = scriptedAttempts();
    const { result } = startWait({ waitTimeout: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(result.value).toEqual({ acquired: false, attempts: 1, waited: 0 });
    expect(scripted.calls.map((call) => call.mayRetry)).toEqual([false]);
  });

  it('an attempt that used up the budget ends the wait without another attempt or a subscription', async () => {
    const releases = instantSubscription();
    let attempts = 0;
    const slowAttempt = () => {
      attempts += 1;
      return new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300));
    };
    const { result } = startWait({ waitTimeout: 250, retryDelay: 100 }, slowAttempt, {
      subscribeToReleases: releases.subscribe,
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.value).toEqual({ acquired: false, attempts: 1, waited: 300 });
    expect(attempts).toBe(1);
    expect(releases.subscribe).not.toHaveBeenCalled();
  });
});

describe('waitForLock: Redis failures', () => {
  it('retries an attempt that failed in Redis like one that found the lock held', async () => {
    const scripted = scriptedAttempts([redisFailure(), redisFailure(), true]);
    const { result } = startWait({ retryCount: 5, retryDelay: 100, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.value).toEqual({ acquired: true, attempts: 3, waited: 200 });
  });

  it('throws the last failure when the retries run out right after one', async () => {
    const last = redisFailure('the last one');
    const scripted = scriptedAttempts([false, redisFailure('an earlier one'), last]);
    const { result } = startWait({ retryCount: 2, retryDelay: 100, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.state).toBe('rejected');
    expect(result.error).toBe(last);
    expect(scripted.calls).toHaveLength(3);
  });

  it('ends in acquired: false when the last attempt found the lock held after earlier failures', async () => {
    const scripted = scriptedAttempts([redisFailure(), false]);
    const { result } = startWait({ retryCount: 1, retryDelay: 100, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.value).toEqual({ acquired: false, attempts: 2, waited: 100 });
  });

  it('throws the REDIS_TIMEOUT of an attempt that was still failing when the budget ran out', async () => {
    const timeouts = Array.from(
      { length: 10 },
      () => new LockRedisError('acquire', new RedisCallTimeout(50)),
    );
    const scripted = scriptedAttempts([...timeouts]);
    const { result } = startWait({ waitTimeout: 250, retryDelay: 100, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(scripted.calls).toHaveLength(4);
    expect(result.error).toBe(timeouts[3]);
    expect((result.error as LockRedisError).code).toBe('REDIS_TIMEOUT');
  });

  it('ends the wait at once on an error that is not a LockRedisError', async () => {
    const bug = new TypeError('not a Redis failure');
    const scripted = scriptedAttempts([bug]);
    const { result } = startWait({ retryCount: 5, retryDelay: 100 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(result.error).toBe(bug);
    expect(scripted.calls).toHaveLength(1);
  });
});

describe('waitForLock: release notifications', () => {
  it('subscribes once, after the first failed attempt, and unsubscribes when the wait ends', async () => {
    const releases = instantSubscription();
    let subscribedBeforeFirstAttemptSettled = false;
    const first = deferred<boolean>();
    const scripted = scriptedAttempts([first.promise]);
    startWait({ retryCount: 3, retryDelay: 100, retryJitter: 0 }, scripted.attempt, {
      subscribeToReleases: releases.subscribe,
    });
    await flush();
    subscribedBeforeFirstAttemptSettled = releases.subscribe.mock.calls.length > 0;
    first.resolve(false);
    await vi.advanceTimersByTimeAsync(150);
    expect(subscribedBeforeFirstAttemptSettled).toBe(false);
    expect(releases.subscribe).toHaveBeenCalledTimes(1);
    expect(releases.unsubscribe).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(scripted.calls).toHaveLength(4);
    expect(releases.subscribe).toHaveBeenCalledTimes(1);
    expect(releases.unsubscribe).toHaveBeenCalledTimes(1);
  });

  it('a release message wakes the sleeping waiter before its retry delay', async () => {
    const releases = instantSubscription();
    const scripted = scriptedAttempts();
    const { startedAt } = startWait({ retryCount: 3, retryDelay: 1_000, retryJitter: 0 }, scripted.attempt, {
      subscribeToReleases: releases.subscribe,
    });
    await vi.advanceTimersByTimeAsync(10);
    releases.ring();
    await flush();
    expect(relative(scripted.calls, startedAt)).toEqual([0, 10]);
    // The next sleep is a whole retryDelay again.
    await vi.advanceTimersByTimeAsync(999);
    expect(scripted.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(relative(scripted.calls, startedAt)).toEqual([0, 10, 1_010]);
  });

  it('a message that comes while an attempt is in flight ends the next sleep at once', async () => {
    const releases = instantSubscription();
    const second = deferred<boolean>();
    const scripted = scriptedAttempts([false, second.promise]);
    const { startedAt } = startWait({ retryCount: 3, retryDelay: 1_000, retryJitter: 0 }, scripted.attempt, {
      subscribeToReleases: releases.subscribe,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(scripted.calls).toHaveLength(2);
    releases.ring();
    await vi.advanceTimersByTimeAsync(5);
    second.resolve(false);
    await flush();
    expect(relative(scripted.calls, startedAt)).toEqual([0, 1_000, 1_005]);
  });

  it.each([
    ['never confirms', () => new Promise<Unsubscribe>(() => {})],
    ['rejects', () => Promise.reject(new Error('no subscriber connection'))],
    [
      'throws',
      (): Promise<Unsubscribe> => {
        throw new Error('no subscriber connection');
      },
    ],
  ])('polls at retryDelay when the subscription %s', async (_how, subscribe) => {
    const scripted = scriptedAttempts();
    const { result, startedAt } = startWait(
      { retryCount: 3, retryDelay: 100, retryJitter: 0 },
      scripted.attempt,
      {
        subscribeToReleases: subscribe,
      },
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(relative(scripted.calls, startedAt)).toEqual([0, 100, 200, 300]);
    expect(result.value).toEqual({ acquired: false, attempts: 4, waited: 300 });
  });

  it('drops a subscription that is confirmed only after the wait ended', async () => {
    const confirmation = deferred<Unsubscribe>();
    const unsubscribe = vi.fn<Unsubscribe>();
    const scripted = scriptedAttempts([false, true]);
    const { result } = startWait({ retryCount: 3, retryDelay: 100, retryJitter: 0 }, scripted.attempt, {
      subscribeToReleases: () => confirmation.promise,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(result.value?.acquired).toBe(true);
    expect(unsubscribe).not.toHaveBeenCalled();
    confirmation.resolve(unsubscribe);
    await flush();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
  });
});

describe('waitForLock: stopping', () => {
  it('an already aborted signal rejects before any attempt', async () => {
    const reason = new Error('caller gave up');
    const scripted = scriptedAttempts();
    const { result } = startWait({ retryCount: 3 }, scripted.attempt, {
      stop: new WaitStop(AbortSignal.abort(reason)),
    });
    await flush();
    expect(LockAcquireError.isInstance(result.error)).toBe(true);
    expect(result.error).toMatchObject({
      code: 'LOCK_ACQUIRE_ABORTED',
      attempts: 0,
      waited: 0,
      cause: reason,
    });
    expect(scripted.calls).toHaveLength(0);
  });

  it('an abort during a sleep rejects at once, with the reason as cause, and leaves no timer behind', async () => {
    const controller = new AbortController();
    const releases = instantSubscription();
    const scripted = scriptedAttempts();
    const { result } = startWait({ retryCount: 10, retryDelay: 1_000, retryJitter: 0 }, scripted.attempt, {
      stop: new WaitStop(controller.signal),
      subscribeToReleases: releases.subscribe,
    });
    await vi.advanceTimersByTimeAsync(1_050);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await flush();
    expect(result.error).toMatchObject({
      code: 'LOCK_ACQUIRE_ABORTED',
      attempts: 2,
      waited: 1_050,
      cause: reason,
    });
    expect(vi.getTimerCount()).toBe(0);
    expect(releases.unsubscribe).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(scripted.calls).toHaveLength(2);
  });

  it('an abort while an attempt is in flight rejects at once and hands that attempt over', async () => {
    const controller = new AbortController();
    const inFlight = deferred<boolean>();
    const scripted = scriptedAttempts([false, inFlight.promise]);
    const { result, abandoned } = startWait(
      { retryCount: 10, retryDelay: 100, retryJitter: 0 },
      scripted.attempt,
      { stop: new WaitStop(controller.signal) },
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(result.state).toBe('pending');
    controller.abort('gone');
    await flush();
    expect(result.error).toMatchObject({ code: 'LOCK_ACQUIRE_ABORTED', attempts: 2, cause: 'gone' });
    expect(abandoned).toEqual([scripted.calls[1]?.promise]);
    // The abandoned attempt taking the lock later does not revive the wait.
    inFlight.resolve(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(result.state).toBe('rejected');
    expect(scripted.calls).toHaveLength(2);
  });

  it('stop() (the handle released while waiting) ends the wait like an abort', async () => {
    const scripted = scriptedAttempts();
    const { result, stop } = startWait({ retryCount: 10, retryDelay: 100, retryJitter: 0 }, scripted.attempt);
    await vi.advanceTimersByTimeAsync(50);
    stop.stop('released');
    await flush();
    expect(result.error).toMatchObject({
      code: 'LOCK_ACQUIRE_ABORTED',
      attempts: 1,
      waited: 50,
      cause: 'released',
    });
  });

  it('a stop after the lock was acquired changes nothing and abandons nothing', async () => {
    const scripted = scriptedAttempts([true]);
    const { result, stop, abandoned } = startWait({ retryCount: 3 }, scripted.attempt);
    await flush();
    stop.stop('released');
    await flush();
    expect(result.value?.acquired).toBe(true);
    expect(abandoned).toEqual([]);
  });
});

describe('WaitStop', () => {
  it('stops once: the first reason wins and each listener runs once', () => {
    const stop = new WaitStop(undefined);
    const listener = vi.fn();
    stop.onStop(listener);
    expect(stop.stopped).toBe(false);
    stop.stop('first');
    stop.stop('second');
    expect(stop.stopped).toBe(true);
    expect(stop.reason).toBe('first');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('does not call a listener that was removed, the first or a later one', () => {
    const stop = new WaitStop(undefined);
    const kept = vi.fn();
    const removed = vi.fn();
    const removedFirst = vi.fn();
    stop.onStop(removedFirst);
    stop.onStop(kept);
    stop.onStop(removed);
    stop.offStop(removed);
    stop.offStop(removedFirst);
    stop.stop('now');
    expect(kept).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
    expect(removedFirst).not.toHaveBeenCalled();
  });

  it("follows the signal: stopped from the start when already aborted, else on abort, with the signal's reason", () => {
    expect(new WaitStop(AbortSignal.abort('early')).reason).toBe('early');
    const controller = new AbortController();
    const stop = new WaitStop(controller.signal);
    expect(stop.stopped).toBe(false);
    controller.abort('late');
    expect(stop.stopped).toBe(true);
    expect(stop.reason).toBe('late');
  });

  it('dispose() detaches from the signal', () => {
    const controller = new AbortController();
    const stop = new WaitStop(controller.signal);
    stop.dispose();
    controller.abort('after dispose');
    expect(stop.stopped).toBe(false);
  });
});
