import { describe, expect, it } from 'vitest';
import { clockDrift } from '../src/clock.js';
import { LockOptionError } from '../src/errors.js';
import { MAX_TIMER_MS } from '../src/handle/deadline.js';
import { Locker } from '../src/locker.js';
import { checkLockName, DEFAULTS, MIN_TTL, renewalMargin, resolveLockOptions } from '../src/options.js';
import { expectRefused, scriptedRunner } from './scripted-runner.js';

describe('resolveLockOptions (pure logic)', () => {
  it('applies the documented defaults', () => {
    expect(resolveLockOptions({}, undefined)).toEqual({
      ttl: 30_000,
      retryCount: 0,
      retryDelay: 100,
      retryJitter: 50,
      backoff: 'fixed',
      maxRetryDelay: 2_000,
      waitTimeout: Number.POSITIVE_INFINITY,
      commandTimeout: 2_000,
      autoRenewal: false,
      renewalInterval: 10_000,
      replicas: undefined,
      reentrant: false,
      fencing: true,
      fair: false,
    });
    expect(DEFAULTS.prefix).toBe('lock:');
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
  });

  it('derives renewalInterval from ttl and retryJitter from retryDelay', () => {
    const options = resolveLockOptions({ ttl: 1_000 }, { retryDelay: 30 });
    expect(options.renewalInterval).toBe(333);
    expect(options.retryJitter).toBe(15);
  });

  it('retries without limit when only a wait budget is given', () => {
    expect(resolveLockOptions({}, { waitTimeout: 5_000 }).retryCount).toBe(Number.POSITIVE_INFINITY);
    expect(resolveLockOptions({}, { waitTimeout: 5_000, retryCount: 2 }).retryCount).toBe(2);
  });

  it('lets per-call options override Locker defaults, ignoring undefined', () => {
    const options = resolveLockOptions(
      { ttl: 5_000, autoRenewal: true },
      { ttl: 2_000, autoRenewal: undefined },
    );
    expect(options.ttl).toBe(2_000);
    expect(options.autoRenewal).toBe(true);
  });

  it('checks combinations after merging', () => {
    expect(() => resolveLockOptions({ renewalInterval: 500 }, { ttl: 400 })).toThrow(LockOptionError);
  });

  it('names the option at fault and suggests ttl for a `timeout` option (a common name elsewhere)', () => {
    try {
      resolveLockOptions({}, { timeout: 30 } as never);
      expect.unreachable();
    } catch (error) {
      expect(LockOptionError.isInstance(error)).toBe(true);
      expect((error as LockOptionError).option).toBe('timeout');
      expect((error as LockOptionError).message).toMatch(/did you mean ttl/);
    }
  });

  it('validates lock names', () => {
    expect(() => checkLockName('inventory:42')).not.toThrow();
    expect(() => checkLockName('')).toThrow(LockOptionError);
    expect(() => checkLockName(null)).toThrow(LockOptionError);
    expect(() => checkLockName('}inventory')).toThrow(LockOptionError);
    expect(() => checkLockName('inventory}')).not.toThrow();
  });

  it('accepts exactly the well-formed names, as String.prototype.isWellFormed tells them', () => {
    const isWellFormed = (text: string) =>
      (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed?.call(text);
    if (isWellFormed('x') === undefined) return; // a runtime before ES2024: nothing to compare with
    const units = ['a', '\uD7FF', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uE000', '\uFFFD'];
    for (const first of units) {
      for (const second of units) {
        for (const third of ['', ...units]) {
          const name = `x${first}${second}${third}`;
          let accepted = true;
          try {
            checkLockName(name);
          } catch {
            accepted = false;
          }
          expect(accepted, JSON.stringify(name)).toBe(isWellFormed(name));
        }
      }
    }
  });
});

describe('durations Node timers can honour (pure logic)', () => {
  // Node fires a timer longer than 2^31 − 1 ms after 1 ms, so any longer duration would make every
  // wait, renewal and deadline of the lock spin; they are refused before anything is sent.
  const tooLong = MAX_TIMER_MS + 1;

  it('the longest duration is 2^31 − 1 ms', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });

  it.each([
    ['ttl', { ttl: tooLong }],
    ['waitTimeout', { waitTimeout: tooLong }],
    ['retryDelay', { retryDelay: tooLong }],
    ['maxRetryDelay', { maxRetryDelay: tooLong }],
    ['commandTimeout', { commandTimeout: tooLong }],
    ['renewalInterval', { ttl: MAX_TIMER_MS, renewalInterval: tooLong }],
  ] as const)('refuses %s above 2^31 − 1 ms with a LockOptionError naming it', (option, options) => {
    expectRefused(() => resolveLockOptions({}, options), option);
    // As a Locker default too: checked where the options are merged, whatever the layer.
    expectRefused(() => resolveLockOptions(options, undefined), option);
  });

  it('accepts 2^31 − 1 ms itself, and an unlimited waitTimeout', () => {
    const options = resolveLockOptions({}, { ttl: MAX_TIMER_MS, waitTimeout: MAX_TIMER_MS, retryDelay: 100 });
    expect(options.ttl).toBe(MAX_TIMER_MS);
    expect(options.waitTimeout).toBe(MAX_TIMER_MS);
    expect(resolveLockOptions({}, { waitTimeout: Number.POSITIVE_INFINITY }).waitTimeout).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('refuses extend(ms) above 2^31 − 1 ms before sending anything', async () => {
    const { runner, calls } = scriptedRunner(() => {
      throw new Error('nothing may be sent for a refused duration');
    });
    const lock = new Locker(runner).createLock('long-extend');
    const refusal = await lock.extend(tooLong).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(LockOptionError.isInstance(refusal)).toBe(true);
    expect((refusal as LockOptionError).option).toBe('ms');
    expect(calls).toEqual([]);
  });
});

describe('ttls too short to use, and renewal intervals that leave no time to answer (pure logic)', () => {
  it(`refuses a ttl below MIN_TTL (${MIN_TTL} ms) and accepts MIN_TTL itself`, () => {
    expect(MIN_TTL).toBe(20);
    for (const ttl of [1, 2, MIN_TTL - 1]) expectRefused(() => resolveLockOptions({}, { ttl }), 'ttl');
    expectRefused(() => new Locker(scriptedRunner(() => null).runner, { ttl: 1 }), 'ttl');
    expect(resolveLockOptions({}, { ttl: MIN_TTL }).ttl).toBe(MIN_TTL);
  });

  it('refuses a renewalInterval above ttl − drift − margin, up to ttl itself; accepts the bound', () => {
    const ttl = 1_000;
    const longest = ttl - clockDrift(ttl) - renewalMargin(ttl);
    expect(longest).toBe(1_000 - 12 - 100);
    expect(resolveLockOptions({}, { ttl, renewalInterval: longest }).renewalInterval).toBe(longest);
    for (const renewalInterval of [longest + 1, 950, ttl - 1, ttl]) {
      expectRefused(
        () => resolveLockOptions({}, { ttl, renewalInterval, autoRenewal: true }),
        'renewalInterval',
      );
    }
    // The margin is at least 5 ms: on the shortest ttl the interval still leaves a round trip.
    expect(renewalMargin(MIN_TTL)).toBe(5);
    expectRefused(() => resolveLockOptions({}, { ttl: MIN_TTL, renewalInterval: 14 }), 'renewalInterval');
    expect(resolveLockOptions({}, { ttl: MIN_TTL, renewalInterval: 13 }).renewalInterval).toBe(13);
  });

  it('derives commandTimeout from ttl: a third, at least 500 and at most 2000 ms', () => {
    expect(resolveLockOptions({}, { ttl: 1_000 }).commandTimeout).toBe(500);
    expect(resolveLockOptions({}, { ttl: 3_000 }).commandTimeout).toBe(1_000);
    expect(resolveLockOptions({}, { ttl: 30_000 }).commandTimeout).toBe(2_000);
    expect(resolveLockOptions({}, { ttl: 3_000, commandTimeout: 50 }).commandTimeout).toBe(50);
    expectRefused(() => resolveLockOptions({}, { commandTimeout: 0 }), 'commandTimeout');
  });
});
