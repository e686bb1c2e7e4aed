import { describe, expect, it } from 'vitest';
import { Locker } from '../src/locker.js';
import { MAX_SEMAPHORE_LIMIT } from '../src/primitives/semaphore.js';
import { expectRefused as refused, scriptedRunner } from './scripted-runner.js';

describe('Semaphore (pure logic, scripted runner)', () => {
  it('sends the keys, token, ttl, permits, limit and waiter place each script needs', async () => {
    const { runner, calls } = scriptedRunner((script) =>
      script.name === 'semaphore-acquire' ? [1, 2, 7] : script.name === 'semaphore-extend' ? 900 : 0,
    );
    const semaphore = new Locker(runner, { prefix: 'p:', ttl: 1_000 }).semaphore('pool', { limit: 5 });
    const permit = semaphore.createPermit({ permits: 2, retryCount: 3, retryDelay: 100, retryJitter: 50 });
    expect(await permit.acquire()).toBe(true);
    expect(permit.fencingToken).toBe(7);
    expect(await permit.extend(500)).toBe(true);
    expect(await permit.release()).toBe(true);

    const keys = [
      'p:{pool}:semaphore',
      'p:{pool}:semaphore:fence',
      'p:{pool}:semaphore:waiters',
      'p:{pool}:semaphore:arrivals',
      'p:{pool}:semaphore:waiters:terms',
      'p:{pool}:semaphore:fences',
    ];
    expect(calls).toEqual([
      // The place lasts 2 × (retryDelay + retryJitter) + 1 s without a new attempt; a waiter may
      // be passed over for 2 × retryDelay (at least 100 ms). Without notifications it polls: no
      // hand-off, no wake channel.
      {
        script: 'semaphore-acquire',
        keys,
        args: [permit.token, 1_000, 2, 5, 1, 1_300, 200],
      },
      { script: 'semaphore-extend', keys: [keys[0]], args: [permit.token, 500, 0, 2] },
      { script: 'semaphore-release', keys, args: [permit.token, 2, 5] },
    ]);
  });

  it('a last attempt (tryAcquire) asks not to be registered as a waiter; a miss resolves null', async () => {
    const { runner, calls } = scriptedRunner(() => [0, 3, 0]);
    const semaphore = new Locker(runner).semaphore('pool', { limit: 3, retryCount: 5 });
    expect(await semaphore.tryAcquire()).toBeNull();
    expect(calls.map((call) => call.args[5])).toEqual([0]);
  });

  it('groups permits by holder in inspect: permits, the soonest deadline, in-use and free counts', async () => {
    const now = 1_000_000;
    const { runner } = scriptedRunner(() => [
      now,
      ['a:1', String(now + 400), 'b:1', String(now + 900), 'b:2', String(now + 900)],
      '12',
      2,
    ]);
    const semaphore = new Locker(runner).semaphore('pool', { limit: 4 });
    expect(await semaphore.inspect()).toEqual({
      name: 'pool',
      key: 'lock:{pool}:semaphore',
      limit: 4,
      inUse: 3,
      available: 1,
      holders: [
        { token: 'a', permits: 1, remaining: 400 },
        { token: 'b', permits: 2, remaining: 900 },
      ],
      waiting: 2,
      lastFencingToken: 12,
    });
    const probe = semaphore.createPermit();
    expect(await probe.isLockedByAnyone()).toBe(true);
    expect(await probe.remainingTime()).toBe(0);
  });

  it('reports an empty semaphore with no fencing token yet', async () => {
    const { runner } = scriptedRunner(() => [5, [], false, 0]);
    const report = await new Locker(runner).semaphore('pool', { limit: 2 }).inspect();
    expect(report).toMatchObject({ inUse: 0, available: 2, holders: [], waiting: 0, lastFencingToken: null });
  });

  it('uses its own options over the Locker defaults, and per-call options over both', () => {
    const { runner } = scriptedRunner(() => 0);
    const locker = new Locker(runner, { ttl: 9_000, retryDelay: 10 });
    const semaphore = locker.semaphore('pool', { limit: 2, ttl: 4_000, retryDelay: undefined });
    expect(semaphore.limit).toBe(2);
    expect(semaphore.createPermit().options).toMatchObject({ ttl: 4_000, retryDelay: 10 });
    expect(semaphore.createPermit({ ttl: 1_000, retryDelay: undefined }).options).toMatchObject({
      ttl: 1_000,
      retryDelay: 10,
    });
  });

  it('caps the limit at MAX_SEMAPHORE_LIMIT, so permits are capped too; nothing is sent', () => {
    const { runner, calls } = scriptedRunner(() => 0);
    const locker = new Locker(runner);
    expect(MAX_SEMAPHORE_LIMIT).toBe(10_000);
    refused(() => locker.semaphore('pool', { limit: MAX_SEMAPHORE_LIMIT + 1 }), 'limit');
    refused(() => locker.semaphore('pool', { limit: 500_000 }), 'limit');
    const widest = locker.semaphore('pool', { limit: MAX_SEMAPHORE_LIMIT });
    expect(() => widest.createPermit({ permits: MAX_SEMAPHORE_LIMIT })).not.toThrow();
    refused(() => widest.createPermit({ permits: MAX_SEMAPHORE_LIMIT + 1 }), 'permits');
    expect(calls).toEqual([]);
  });

  it('is refused on a Redlock Locker, and refuses replicas from any level; nothing is sent', () => {
    const { runner, calls } = scriptedRunner(() => 0);
    const others = [scriptedRunner(() => 0).runner, scriptedRunner(() => 0).runner];
    refused(() => new Locker([runner, ...others]).semaphore('pool', { limit: 2 }), 'runner');
    const replicas = { count: 1, timeout: 100 };
    refused(() => new Locker(runner, { replicas }).semaphore('pool', { limit: 2 }), 'replicas');
    refused(() => new Locker(runner).semaphore('pool', { limit: 2, replicas } as never), 'replicas');
    const semaphore = new Locker(runner).semaphore('pool', { limit: 2 });
    refused(() => semaphore.createPermit({ replicas } as never), 'replicas');
    refused(() => semaphore.createPermit({ reentrant: true } as never), 'reentrant');
    expect(calls).toEqual([]);
  });
});
