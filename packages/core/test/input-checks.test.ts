import { describe, expect, it } from 'vitest';
import { LockAcquireError, LockError, LockMisuseError, LockOptionError } from '../src/errors.js';
import { Locker } from '../src/locker.js';
import type { LockerOptions } from '../src/options.js';
import type { ScriptRunner } from '../src/port/runner.js';
import type { ReadWriteLockOptions } from '../src/primitives/read-write-lock.js';
import type { SemaphoreOptions } from '../src/primitives/semaphore.js';
import { scriptedRunner } from './scripted-runner.js';

// Bad input to the Locker and its primitives ends in a typed error before anything is sent: each
// test runs on a scripted runner that grants everything and records every call, and asserts that
// the refused call recorded none.

/** A stand-in for Redis that grants every acquire, extend and release, and records each call. */
function grantingRunner() {
  return scriptedRunner((script) => {
    if (script.name.endsWith('acquire')) return [1, 1, 0];
    if (script.name.endsWith('extend')) return 1_000;
    return 0;
  });
}

describe('the Locker and its locks: bad input is refused, nothing is sent', () => {
  const badLockOptions: [string, Record<string, unknown>][] = [
    ['ttl 0', { ttl: 0 }],
    ['negative ttl', { ttl: -1 }],
    ['fractional ttl', { ttl: 1.5 }],
    ['NaN ttl', { ttl: Number.NaN }],
    ['infinite ttl', { ttl: Number.POSITIVE_INFINITY }],
    ['string ttl', { ttl: '1000' }],
    ['renewalInterval equal to ttl', { ttl: 1_000, renewalInterval: 1_000 }],
    ['renewalInterval above ttl', { ttl: 1_000, renewalInterval: 5_000 }],
    ['renewalInterval 0', { renewalInterval: 0 }],
    ['negative retryCount', { retryCount: -1 }],
    ['fractional retryCount', { retryCount: 1.5 }],
    ['negative retryDelay', { retryDelay: -5 }],
    ['negative waitTimeout', { waitTimeout: -1 }],
    ['unknown backoff', { backoff: 'linear' }],
    ['non-boolean autoRenewal', { autoRenewal: 'yes' }],
    ['an unknown option (a seconds-based `timeout`)', { timeout: 30 }],
  ];
  for (const [label, options] of badLockOptions) {
    it(`rejects ${label}`, async () => {
      const { runner, calls } = grantingRunner();
      const locker = new Locker(runner);
      await expect(locker.acquire('bad-input', options as LockerOptions)).rejects.toSatisfy(
        LockOptionError.isInstance,
      );
      expect(() => new Locker(runner, options as LockerOptions)).toThrow(LockOptionError);
      expect(calls).toEqual([]);
    });
  }

  const badNames: [string, unknown][] = [
    ['an empty name', ''],
    ['a numeric name', 42],
    ['an undefined name', undefined],
    ['an object name', { name: 'x' }],
    ['a name over 1024 characters', 'x'.repeat(1025)],
    ['a name starting with "}" (an empty hash tag)', '}x'],
    ['a name with a lone surrogate', 'x\uD800'],
  ];
  for (const [label, name] of badNames) {
    it(`rejects ${label}`, async () => {
      const { runner, calls } = grantingRunner();
      const locker = new Locker(runner);
      await expect(locker.acquire(name as string)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(locker.withLock(name as string, () => 1)).rejects.toSatisfy(LockOptionError.isInstance);
      expect(() => locker.createLock(name as string)).toThrow(LockOptionError);
      expect(calls).toEqual([]);
    });
  }

  it('rejects a signal that is not an AbortSignal', async () => {
    const { runner, calls } = grantingRunner();
    const locker = new Locker(runner);
    const notASignal = { aborted: 'no' } as unknown as AbortSignal;
    await expect(locker.acquire('bad-signal', { signal: notASignal })).rejects.toSatisfy(
      LockOptionError.isInstance,
    );
    await expect(locker.createLock('bad-signal').acquire({ signal: notASignal })).rejects.toSatisfy(
      LockOptionError.isInstance,
    );
    expect(calls).toEqual([]);
  });

  it('an already-aborted signal rejects with LOCK_ACQUIRE_ABORTED and sends nothing', async () => {
    const { runner, calls } = grantingRunner();
    const error = await new Locker(runner)
      .acquire('pre-aborted', { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect((error as LockError).code).toBe('LOCK_ACQUIRE_ABORTED');
    expect(calls).toEqual([]);
  });

  it('rejects a bad prefix, runner or onLocked', () => {
    const { runner, calls } = grantingRunner();
    const locker = new Locker(runner);
    expect(() => new Locker(runner, { prefix: 5 as unknown as string })).toThrow(LockOptionError);
    expect(() => new Locker(runner, { prefix: 'app:{lock}:' })).toThrow(LockOptionError);
    expect(() => new Locker({} as ScriptRunner)).toThrow(LockOptionError);
    expect(() => locker.locked('x', { onLocked: 'wait' as 'skip' })).toThrow(LockOptionError);
    expect(() => locker.locked()(async () => 1)).toThrow(LockOptionError);
    expect(calls).toEqual([]);
  });

  it('rejects non-positive or fractional extend(ms)', async () => {
    const { runner, calls } = grantingRunner();
    const lock = await new Locker(runner).acquire('bad-extend');
    calls.length = 0;
    for (const ms of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(lock.extend(ms)).rejects.toSatisfy(LockOptionError.isInstance);
    }
    expect(calls).toEqual([]);
    await lock.release();
  });

  it('rejects use after release and after dispose', async () => {
    const { runner, calls } = grantingRunner();
    const locker = new Locker(runner);
    const released = await locker.acquire('after-release');
    await released.release();
    const disposed = await locker.acquire('after-dispose');
    await disposed[Symbol.asyncDispose]();
    calls.length = 0;
    for (const lock of [released, disposed]) {
      await expect(lock.acquire()).rejects.toSatisfy(LockMisuseError.isInstance);
      await expect(lock.extend(1_000)).rejects.toSatisfy(LockMisuseError.isInstance);
      await expect(lock.release()).rejects.toSatisfy(LockMisuseError.isInstance);
      await lock[Symbol.asyncDispose](); // disposing twice stays a no-op
    }
    expect(calls).toEqual([]);
  });

  it('gives every handle its own token', () => {
    const locker = new Locker(grantingRunner().runner);
    const tokens = new Set(Array.from({ length: 100 }, () => locker.createLock('same').token));
    expect(tokens.size).toBe(100);
  });
});

describe('error classes', () => {
  it('LockError.isInstance recognises errors by marker, not by class identity', () => {
    const error = new LockOptionError('ttl', 'bad');
    const foreign = Object.assign(Object.create(null), error);
    expect(LockError.isInstance(error)).toBe(true);
    expect(LockOptionError.isInstance(error)).toBe(true);
    expect(LockAcquireError.isInstance(error)).toBe(false);
    expect(LockError.isInstance(new Error('plain'))).toBe(false);
    expect(LockError.isInstance(foreign)).toBe(false);
    expect(error.name).toBe('LockOptionError');
  });
});

describe('a semaphore: bad input is refused, nothing is sent', () => {
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
      const { runner, calls } = grantingRunner();
      expect(() => new Locker(runner).semaphore('bad', options as SemaphoreOptions)).toThrow(LockOptionError);
      expect(calls).toEqual([]);
    });
  }

  it('locker.semaphore rejects a bad name', () => {
    const locker = new Locker(grantingRunner().runner);
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
      const { runner, calls } = grantingRunner();
      const sem = new Locker(runner).semaphore('bad', { limit: 3 });
      const given = options as never;
      await expect(sem.acquire(given)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(sem.tryAcquire(given)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(sem.withPermit(() => 1, given)).rejects.toSatisfy(LockOptionError.isInstance);
      if (!('signal' in options)) expect(() => sem.createPermit(given)).toThrow(LockOptionError);
      expect(calls).toEqual([]);
    });
  }

  it('withPermit rejects a non-function, and a bad extend(ms) sends nothing', async () => {
    const { runner, calls } = grantingRunner();
    const sem = new Locker(runner).semaphore('bad-fn', { limit: 1 });
    await expect(sem.withPermit(undefined as never)).rejects.toSatisfy(LockOptionError.isInstance);
    expect(calls).toEqual([]);
    const permit = await sem.acquire();
    calls.length = 0;
    for (const ms of [0, -5, 1.5, Number.NaN]) {
      await expect(permit.extend(ms)).rejects.toSatisfy(LockOptionError.isInstance);
    }
    expect(calls).toEqual([]);
    await permit.release();
  });

  it("ignores a Locker's reentrant and fair defaults (they do not apply to permits)", async () => {
    const sem = new Locker(grantingRunner().runner, { reentrant: true, fair: true }).semaphore('defaults', {
      limit: 1,
    });
    const permit = await sem.acquire();
    expect(permit.options).toMatchObject({ reentrant: false, fair: false });
    await permit.release();
  });
});

describe('a read-write lock: bad input is refused, nothing is sent', () => {
  const badOptions: [string, Record<string, unknown>][] = [
    ['reentrant: true', { reentrant: true }],
    ['fair: true', { fair: true }],
    ['a string reentrant', { reentrant: 'no' }],
    ['ttl 0', { ttl: 0 }],
    ['renewalInterval above ttl', { ttl: 1_000, renewalInterval: 5_000 }],
    ['an unknown option', { timeout: 30 }],
  ];
  for (const [label, options] of badOptions) {
    it(`rejects ${label}`, async () => {
      const { runner, calls } = grantingRunner();
      const locker = new Locker(runner);
      const bad = options as ReadWriteLockOptions;
      expect(() => locker.readWriteLock('bad', bad)).toThrow(LockOptionError);
      const rw = locker.readWriteLock('bad');
      expect(() => rw.createReadLock(bad)).toThrow(LockOptionError);
      expect(() => rw.createWriteLock(bad)).toThrow(LockOptionError);
      await expect(rw.acquireRead(bad)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(rw.acquireWrite(bad)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(rw.tryAcquireWrite(bad)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(rw.withRead(() => 1, bad)).rejects.toSatisfy(LockOptionError.isInstance);
      await expect(rw.withWrite(() => 1, bad)).rejects.toSatisfy(LockOptionError.isInstance);
      expect(calls).toEqual([]);
    });
  }

  it('rejects bad names, callbacks and signals, and an already-aborted signal sends nothing', async () => {
    const { runner, calls } = grantingRunner();
    const locker = new Locker(runner);
    for (const name of ['', 42, undefined, 'x'.repeat(1025)]) {
      expect(() => locker.readWriteLock(name as string)).toThrow(LockOptionError);
    }
    const rw = locker.readWriteLock('bad-input');
    await expect(rw.withRead('fn' as unknown as () => number)).rejects.toSatisfy(LockOptionError.isInstance);
    const notASignal = { aborted: 'no' } as unknown as AbortSignal;
    await expect(rw.acquireWrite({ signal: notASignal })).rejects.toSatisfy(LockOptionError.isInstance);
    for (const ms of [0, -5, 1.5]) {
      await expect(rw.createReadLock().extend(ms)).rejects.toSatisfy(LockOptionError.isInstance);
    }
    const aborted = AbortSignal.abort();
    await expect(rw.acquireRead({ signal: aborted })).rejects.toSatisfy(
      (error: unknown) => LockAcquireError.isInstance(error) && error.code === 'LOCK_ACQUIRE_ABORTED',
    );
    await expect(rw.withWrite(() => 1, { signal: aborted })).rejects.toSatisfy(LockAcquireError.isInstance);
    expect(calls).toEqual([]);
  });
});
