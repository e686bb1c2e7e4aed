import { describe, expect, it } from 'vitest';
import { subscribeToEach } from '../src/deployments/protocol.js';
import { LockAcquireError } from '../src/errors.js';
import { Locker } from '../src/locker.js';
import { MAX_LOCK_SET_SIZE, MultiLock } from '../src/primitives/multi-mutex.js';
import { expectRefused, scriptedRunner } from './scripted-runner.js';

// The input checks of lock sets: everything here is refused or normalised before any script is
// sent. What the scripts do is tested on real Redis by the multi-resource conformance suite.

/** A stand-in for Redis that grants every acquire, extend and release. */
function grantingRunner() {
  return scriptedRunner((script) => {
    if (script.name.endsWith('acquire')) return [1, 1, 0];
    if (script.name.endsWith('extend')) return 1_000;
    return 0;
  });
}

const tagged = (tag: string, ...parts: string[]) => parts.map((part) => `{${tag}}:${part}`);

describe('lock sets: input checks (nothing sent)', () => {
  it('refuses an empty array, a non-string or invalid name, and too many names', async () => {
    const { runner, calls } = grantingRunner();
    const locker = new Locker(runner);
    expectRefused(() => locker.createLock([]), 'names');
    expectRefused(() => locker.createLock(['{t}:a', 7 as never]), 'name');
    expectRefused(() => locker.createLock(['{t}:a', '']), 'name');
    expectRefused(() => locker.createLock(['}a']), 'name');
    const many = Array.from({ length: MAX_LOCK_SET_SIZE + 1 }, (_, i) => `{t}:${i}`);
    expectRefused(() => locker.createLock(many), 'names');
    expect(locker.createLock(many.slice(1)).keys).toHaveLength(MAX_LOCK_SET_SIZE);
    await expect(locker.acquire([])).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'names' });
    await expect(locker.tryAcquire([])).rejects.toMatchObject({ option: 'names' });
    await expect(locker.withLock([], () => 1)).rejects.toMatchObject({ option: 'names' });
    expect(calls).toEqual([]);
  });

  it('refuses names in different Cluster slots, saying to use a hash tag, on every deployment', async () => {
    const { runner, calls } = grantingRunner();
    for (const locker of [new Locker(runner), new Locker([runner, grantingRunner().runner])]) {
      let error: unknown;
      try {
        locker.createLock(['account:1', 'account:2']);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'names' });
      expect(String((error as Error).message)).toMatch(/hash tag, e\.g\. "\{order:7\}:stock"/);
      await expect(locker.acquire(['account:1', 'account:2'])).rejects.toMatchObject({ option: 'names' });
    }
    expect(calls).toEqual([]);
  });

  it('dedupes and sorts the names: listing order never matters', () => {
    const { runner } = grantingRunner();
    const locker = new Locker(runner, { prefix: 'p:' });
    const lock = locker.createLock(tagged('o', 'b', 'a', 'b', 'c', 'a'));
    expect(lock).toBeInstanceOf(MultiLock);
    expect(lock.names).toEqual(tagged('o', 'a', 'b', 'c'));
    expect(lock.keys).toEqual(tagged('o', 'a', 'b', 'c').map((name) => `p:{${name}}`));
    expect(lock.key).toBe(lock.keys[0]);
    expect(locker.createLock(tagged('o', 'c', 'a', 'b')).keys).toEqual(lock.keys);
  });

  it('refuses fair and fencing (in the call or as Locker defaults); forces fencing off', async () => {
    const { runner, calls } = grantingRunner();
    const names = tagged('o', 'a', 'b');
    expectRefused(() => new Locker(runner).createLock(names, { fair: true }), 'fair');
    expectRefused(() => new Locker(runner).createLock(names, { fencing: true }), 'fencing');
    expectRefused(() => new Locker(runner, { fencing: true }).createLock(names), 'fencing');
    expectRefused(() => new Locker(runner, { fair: true }).createLock(names), 'fair');
    expect(new Locker(runner, { fencing: true }).createLock(names, { fencing: false }).options.fencing).toBe(
      false,
    );
    expect(new Locker(runner).createLock(names).options.fencing).toBe(false);
    await expect(new Locker(runner).tryAcquire(names, { fair: true })).rejects.toMatchObject({
      option: 'fair',
    });
    expect(calls).toEqual([]);
  });

  it('sends one script with every member key, and one per extend and release', async () => {
    const { runner, calls } = grantingRunner();
    const lock = await new Locker(runner, { prefix: 'p:' }).acquire(tagged('o', 'b', 'a'));
    expect(await lock.extend(500)).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(calls.map((call) => call.script)).toEqual(['multi-acquire', 'multi-extend', 'multi-release']);
    for (const call of calls) expect(call.keys).toEqual(['p:{{o}:a}', 'p:{{o}:b}']);
    expect(calls[2]?.args).toEqual([lock.token, 0, 'p:{{o}:a}:released', 'p:{{o}:b}:released']);
  });

  it('withLock passes the set handle and reports the set by its names when not acquired', async () => {
    const { runner } = grantingRunner();
    const locker = new Locker(runner);
    expect(await locker.withLock(tagged('o', 'b', 'a'), (lock) => lock.names.join('|'))).toBe('{o}:a|{o}:b');
    const busy = scriptedRunner((script) => (script.name === 'multi-acquire' ? [0, 500, 0, 1] : 0));
    const error = await new Locker(busy.runner, { retryCount: 0 })
      .withLock(tagged('o', 'b', 'a'), () => 1)
      .catch((caught: unknown) => caught);
    expect(LockAcquireError.isInstance(error)).toBe(true);
    expect((error as LockAcquireError).lockName).toBe('{o}:a, {o}:b');
    expect(await new Locker(busy.runner).tryAcquire(tagged('o', 'a'))).toBeNull();
  });
});

describe('a Redlock set waiter subscribes to every member', () => {
  it('is confirmed once every channel is; a failed one drops the others', async () => {
    const subscribed = new Set<string>();
    const notifier = {
      async subscribe(channel: string) {
        if (channel === 'bad') throw new Error('refused');
        subscribed.add(channel);
        return () => subscribed.delete(channel);
      },
    };
    const listener = () => {};
    const unsubscribe = await subscribeToEach(notifier, ['a', 'b'])?.('token', listener);
    expect([...subscribed]).toEqual(['a', 'b']);
    unsubscribe?.();
    expect(subscribed.size).toBe(0);
    await expect(subscribeToEach(notifier, ['a', 'bad', 'c'])?.('token', listener)).rejects.toThrow(
      'refused',
    );
    expect(subscribed.size).toBe(0);
    expect(subscribeToEach(undefined, ['a'])).toBeUndefined();
  });
});
