import { describe, expect, it } from 'vitest';
import { LockOptionError } from '../src/errors.js';
import { checkLockName, DEFAULTS, resolveLockOptions } from '../src/options.js';

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

  it('names the option at fault and suggests ttl for the seed-style `timeout`', () => {
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
