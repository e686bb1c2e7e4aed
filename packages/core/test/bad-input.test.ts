import { describe, expect, it } from 'vitest';
import { LockOptionError } from '../src/errors.js';
import { Locker } from '../src/locker.js';
import type { ScriptRunner } from '../src/port/runner.js';
import { expectRefused, scriptedRunner } from './scripted-runner.js';

// Input that must end in a LockOptionError (or be taken as "no options"), never in a TypeError or
// in a key layout that breaks on a Cluster; checked without Redis, on scripted runners.

/** A stand-in for Redis that grants every acquire, extend and release. */
function grantingRunner() {
  return scriptedRunner((script) => {
    if (script.name.endsWith('acquire')) return [1, 1, 0];
    if (script.name.endsWith('extend')) return 1_000;
    return 0;
  });
}

/** Rejects (or throws) a LockOptionError about `option`, whichever way `make` fails. */
async function expectRejected(make: () => unknown, option: string): Promise<void> {
  let error: unknown;
  try {
    await make();
  } catch (caught) {
    error = caught;
  }
  expect(LockOptionError.isInstance(error), String(error)).toBe(true);
  expect((error as LockOptionError).option).toBe(option);
}

const nil = null as never;

describe('null options are no options', () => {
  it('on the Locker: acquire, tryAcquire, withLock, createLock, locked and the constructor', async () => {
    const { runner } = grantingRunner();
    const locker = new Locker(runner, { ttl: 1_000 });
    expect(await (await locker.acquire('a', nil)).release()).toBe(true);
    expect(await (await locker.tryAcquire('b', nil))?.release()).toBe(true);
    expect(await locker.withLock('c', () => 7, nil)).toBe(7);
    expect(locker.createLock('d', nil).options.ttl).toBe(1_000);
    expect(await locker.locked('e', nil)(async () => 8)()).toBe(8);
    expect(
      await locker.locked(
        undefined,
        nil,
      )(async function named() {
        return 9;
      })(),
    ).toBe(9);
    expect(new Locker(runner, nil).prefix).toBe('lock:');
  });

  it("on a semaphore's permits", async () => {
    const { runner } = grantingRunner();
    const semaphore = new Locker(runner, { ttl: 1_000 }).semaphore('pool', { limit: 2 });
    expect(semaphore.createPermit(nil).options.ttl).toBe(1_000);
    expect(await (await semaphore.acquire(nil)).release()).toBe(true);
    expect(await (await semaphore.tryAcquire(nil))?.release()).toBe(true);
    expect(await semaphore.withPermit(() => 7, nil)).toBe(7);
  });

  it('on a read-write lock and its holds', async () => {
    const { runner } = grantingRunner();
    const catalog = new Locker(runner, { ttl: 1_000 }).readWriteLock('catalog', nil);
    expect(catalog.createReadLock(nil).options.ttl).toBe(1_000);
    expect(catalog.createWriteLock(nil).options.ttl).toBe(1_000);
    expect(await (await catalog.acquireRead(nil)).release()).toBe(true);
    expect(await (await catalog.acquireWrite(nil)).release()).toBe(true);
    expect(await (await catalog.tryAcquireRead(nil))?.release()).toBe(true);
    expect(await (await catalog.tryAcquireWrite(nil))?.release()).toBe(true);
    expect(await catalog.withRead(() => 7, nil)).toBe(7);
    expect(await catalog.withWrite(() => 8, nil)).toBe(8);
  });
});

describe("a lock handle's call options", () => {
  it('null is no options for acquire() and extend(); a non-object is refused', async () => {
    const { runner, calls } = grantingRunner();
    const lock = new Locker(runner).createLock('handle');
    await expectRejected(() => lock.acquire(5 as never), 'options');
    expect(calls).toEqual([]);
    expect(await lock.acquire(nil)).toBe(true);
    expect(await lock.extend(1_000, nil)).toBe(true);
    await expectRejected(() => lock.extend(1_000, 'replace' as never), 'options');
    expect(calls.map((call) => call.script)).toEqual(['acquire', 'extend']);
    expect(await lock.release()).toBe(true);
  });
});

describe('options that are not an object are refused, not ignored', () => {
  it('on every acquiring call of the Locker, a semaphore and a read-write lock; nothing is sent', async () => {
    const { runner, calls } = grantingRunner();
    const locker = new Locker(runner);
    const five = 5 as never;
    await expectRejected(() => locker.acquire('a', five), 'options');
    await expectRejected(() => locker.tryAcquire('a', five), 'options');
    await expectRejected(() => locker.withLock('a', () => 1, five), 'options');
    await expectRejected(() => locker.createLock('a', five), 'options');
    await expectRejected(() => locker.locked('a', five), 'options');
    await expectRejected(() => locker.locked('a', 'skip' as never), 'options');
    const semaphore = locker.semaphore('pool', { limit: 2 });
    await expectRejected(() => semaphore.acquire(five), 'options');
    await expectRejected(() => semaphore.tryAcquire(five), 'options');
    await expectRejected(() => semaphore.withPermit(() => 1, five), 'options');
    await expectRejected(() => semaphore.createPermit(five), 'options');
    await expectRejected(() => locker.readWriteLock('catalog', five), 'options');
    const catalog = locker.readWriteLock('catalog');
    await expectRejected(() => catalog.acquireRead(five), 'options');
    await expectRejected(() => catalog.tryAcquireWrite(five), 'options');
    await expectRejected(() => catalog.withWrite(() => 1, five), 'options');
    await expectRejected(() => catalog.createReadLock(five), 'options');
    expect(calls).toEqual([]);
  });
});

describe('locked() checks its options as the Locker would, at wrap time', () => {
  const replicas = { count: 1, timeout: 100 };

  it('on a Redlock Locker: fair, fencing and replicas are refused before any call', () => {
    const runners = [grantingRunner(), grantingRunner(), grantingRunner()];
    const redlock = new Locker(runners.map(({ runner }) => runner));
    expectRefused(() => redlock.locked('job', { fair: true }), 'fair');
    expectRefused(() => redlock.locked({ fencing: true }), 'fencing');
    expectRefused(() => redlock.locked((id: string) => `job:${id}`, { fair: true }), 'fair');
    expectRefused(() => redlock.locked('job', { replicas }), 'replicas');
    expect(() => redlock.locked('job', { fencing: false, onLocked: 'skip' })).not.toThrow();
    expect(runners.flatMap(({ calls }) => calls)).toEqual([]);
  });

  it('replicas on a runner that cannot wait for them are refused; on one that can, accepted', () => {
    const { runner, calls } = grantingRunner();
    expectRefused(() => new Locker(runner).locked('job', { replicas }), 'replicas');
    const waiting: ScriptRunner = Object.assign({}, runner, { waitForReplicas: async () => 1 });
    expect(() => new Locker(waiting).locked('job', { replicas })).not.toThrow();
    expect(calls).toEqual([]);
  });
});

describe('names and prefixes that would break the one-slot key layout', () => {
  const badNames: [string, string][] = [
    ['a name starting with "}" (empty hash tag)', '}x'],
    ['the name "}"', '}'],
    ['a lone high surrogate', '\uD800'],
    ['a lone low surrogate', '\uDFFF'],
    ['another lone high surrogate', '\uDBFF'],
    ['a lone surrogate inside a name', 'report\uD83D:daily'],
    ['a reversed surrogate pair', '\uDE00\uD83D'],
  ];

  for (const [label, name] of badNames) {
    it(`refuses ${label} for every primitive; nothing is sent`, async () => {
      const { runner, calls } = grantingRunner();
      const locker = new Locker(runner);
      expectRefused(() => locker.createLock(name), 'name');
      await expectRejected(() => locker.acquire(name), 'name');
      await expectRejected(() => locker.tryAcquire(name), 'name');
      await expectRejected(() => locker.withLock(name, () => 1), 'name');
      await expectRejected(() => locker.inspect(name), 'name');
      expectRefused(() => locker.locked(name), 'name');
      await expectRejected(
        () => locker.locked((suffix: string) => suffix)(async (_suffix: string) => 1)(name),
        'name',
      );
      expectRefused(() => locker.semaphore(name, { limit: 2 }), 'name');
      expectRefused(() => locker.readWriteLock(name), 'name');
      expect(calls).toEqual([]);
    });
  }

  it('says why a leading "}" is refused', () => {
    const { runner } = grantingRunner();
    expect(() => new Locker(runner).createLock('}x')).toThrow(/hash tag.*slot/);
  });

  it('accepts braces after the first character, and well-formed surrogate pairs', () => {
    const { runner } = grantingRunner();
    const locker = new Locker(runner);
    for (const name of ['a}b', 'x{y}', '{x}', 'emoji-😀', '\uD83D\uDE00']) {
      expect(locker.createLock(name).key).toBe(`lock:{${name}}`);
      expect(() => locker.semaphore(name, { limit: 1 })).not.toThrow();
      expect(() => locker.readWriteLock(name)).not.toThrow();
    }
  });

  it('refuses a prefix containing "{" or "}"', () => {
    const { runner } = grantingRunner();
    for (const prefix of ['app{', 'app}', '{app}:', 'a{b}c:']) {
      expectRefused(() => new Locker(runner, { prefix }), 'prefix');
    }
    expect(new Locker(runner, { prefix: 'app:lock:' }).createLock('x').key).toBe('app:lock:{x}');
    expect(new Locker(runner, { prefix: '' }).createLock('x').key).toBe('{x}');
  });
});
