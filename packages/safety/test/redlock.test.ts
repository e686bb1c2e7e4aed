/**
 * Redlock: a `Locker` over N independent Redis servers, on both adapters, against five real
 * `redis-server`s. The client under test reaches each server through a loopback fault proxy (to
 * partition it); an admin client talks to each server directly, to set up holders and failures and
 * to see what really is on the servers.
 *
 * Two kinds of failed server: "refusing" (`min-replicas-to-write 1` with no replica, so every
 * write, and so every acquire script, fails at once with NOREPLICAS: instant and deterministic,
 * which lets every assignment of free / refusing / held-elsewhere to N servers be enumerated), and
 * "partitioned" (the proxy blackholes it: commands time out after the client's command timeout),
 * for the tests about time.
 */
import {
  LockAcquireError,
  Locker,
  type LockerOptions,
  LockLostError,
  LockOptionError,
  LockRedisError,
  LockReleasedError,
  type ScriptRunner,
} from '@lock/core';
import {
  type ConnectedClient,
  type FaultProxy,
  provisionRedis,
  type RedisInstance,
  startFaultProxy,
  waitFor,
} from '@lock/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { lostNotice, measureTimerLag, withDeadline } from '../src/deadlines.js';
import { uniqueName } from '../src/names.js';

const SERVERS = 5;
/** How long one command may hang on a partitioned server before the client gives up on it. */
const COMMAND_TIMEOUT = 200;
const PREFIX = 'redlock:';
const OTHER_OWNER = 'another-owner';

let redis: RedisInstance[] = [];
let proxies: FaultProxy[] = [];
let admins: ConnectedClient[] = [];

beforeAll(async () => {
  redis = await Promise.all(Array.from({ length: SERVERS }, () => provisionRedis()));
  proxies = await Promise.all(
    redis.map((server) => startFaultProxy({ targetHost: server.host, targetPort: server.port })),
  );
  admins = await Promise.all(redis.map((server) => connectClient('ioredis', server.url)));
});

afterAll(async () => {
  await Promise.all(admins.map((admin) => admin.close()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(redis.map((server) => server.stop()));
});

const admin = (index: number, ...args: string[]) => (admins[index] as ConnectedClient).command(args);
const keyOf = (name: string) => `${PREFIX}{${name}}`;
/** The owner token of `name` on each of the first `n` servers (null where free). */
const ownersOf = (name: string, n: number) =>
  Promise.all(Array.from({ length: n }, (_, index) => admin(index, 'HGET', keyOf(name), 'owner')));
const holdBy = (index: number, name: string, owner: string) =>
  admin(
    index,
    'EVAL',
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', 1, 'fence', 0) return redis.call('PEXPIRE', KEYS[1], 10000)",
    '1',
    keyOf(name),
    owner,
  );
const refuseWrites = (index: number, on: boolean) =>
  admin(index, 'CONFIG', 'SET', 'min-replicas-to-write', on ? '1' : '0');
const indicesOf = (n: number) => Array.from({ length: n }, (_, index) => index);

describe.each(CLIENT_KINDS)('Redlock on %s', (kind: ClientKind) => {
  let clients: ConnectedClient[] = [];
  let partitionableClients: ConnectedClient[] = [];
  let partitionableRunners: ScriptRunner[] = [];

  beforeAll(async () => {
    // Tests without partitions use clients without a command timeout, so a slow moment of a busy
    // machine is never mistaken for a failed server; partition tests use short deadlines.
    clients = await Promise.all(proxies.map((proxy) => connectClient(kind, proxy.url)));
    partitionableClients = await Promise.all(
      proxies.map((proxy) => connectClient(kind, proxy.url, { commandTimeout: COMMAND_TIMEOUT })),
    );
    partitionableRunners = partitionableClients.map((client) => withDeadline(client.runner, COMMAND_TIMEOUT));
  });

  afterAll(async () => {
    await Promise.all([...clients, ...partitionableClients].map((client) => client.close()));
  });

  afterEach(async () => {
    for (const proxy of proxies) proxy.heal();
    await Promise.all(indicesOf(SERVERS).map((index) => refuseWrites(index, false)));
  });

  const lockerOver = (n: number, options: LockerOptions = {}) =>
    new Locker(
      clients.slice(0, n).map((client) => client.runner),
      { prefix: PREFIX, ...options },
    );
  const partitionableLockerOver = (n: number, options: LockerOptions = {}) =>
    new Locker(partitionableRunners.slice(0, n), { prefix: PREFIX, ...options });

  describe.each([3, 5])('N = %i', (n) => {
    const quorum = Math.floor(n / 2) + 1;

    it('for every assignment of free / refusing / held-elsewhere servers: acquires exactly on a free majority, throws listing the failed servers when they cost the majority, and never leaves a partial hold', async () => {
      const locker = lockerOver(n);
      const mismatches: string[] = [];
      // Refusing is a server-wide setting: for each subset of refusing servers, every split of the
      // others into free and held-elsewhere runs at once (each on its own lock name).
      for (let refusingMask = 0; refusingMask < 2 ** n; refusingMask += 1) {
        const refusing = indicesOf(n).filter((index) => refusingMask & (1 << index));
        const others = indicesOf(n).filter((index) => !refusing.includes(index));
        await Promise.all(refusing.map((index) => refuseWrites(index, true)));
        await Promise.all(
          indicesOf(2 ** others.length).map(async (heldMask) => {
            const held = others.filter((_, position) => heldMask & (1 << position));
            const free = others.length - held.length;
            const states = indicesOf(n)
              .map((index) => (refusing.includes(index) ? 'R' : held.includes(index) ? 'H' : 'F'))
              .join('');
            const name = uniqueName(`enum${n}`);
            await Promise.all(held.map((index) => holdBy(index, name, OTHER_OWNER)));
            const lock = locker.createLock(name);
            let outcome: string;
            try {
              outcome = (await lock.acquire()) ? 'acquired' : 'not acquired';
            } catch (error) {
              outcome = LockRedisError.isInstance(error)
                ? `error on ${error.failures?.map((failure) => failure.index).join(',')}`
                : `unexpected ${String(error)}`;
            }
            // The verdict comes as soon as the failures so far cost the majority: the error names
            // those, which may leave out a refusing server whose reply came after.
            const listed = outcome.startsWith('error on ')
              ? outcome
                  .slice(9)
                  .split(',')
                  .filter((part) => part !== '')
                  .map(Number)
              : [];
            const expected =
              free >= quorum
                ? 'acquired'
                : free + refusing.length >= quorum
                  ? listed.every((index) => refusing.includes(index)) && free + listed.length >= quorum
                    ? outcome
                    : `error on (enough of) ${refusing.join(',')}`
                  : 'not acquired';
            if (outcome !== expected) mismatches.push(`${states}: ${outcome}, expected ${expected}`);
            if (outcome === 'acquired') {
              if (!(await lock.isLockedByMe())) mismatches.push(`${states}: not locked by me`);
              if (!(await lock.release())) mismatches.push(`${states}: release returned false`);
            }
            // Whatever happened, once the background clean-up is done no server holds our token,
            // and the other owner's holds are untouched.
            await waitFor(async () => !(await ownersOf(name, n)).includes(lock.token), 2_000);
            const owners = await ownersOf(name, n);
            const othersKept = indicesOf(n).every(
              (index) => held.includes(index) === (owners[index] === OTHER_OWNER),
            );
            if (!othersKept)
              mismatches.push(`${states}: the other owner's holds changed: ${owners.join(',')}`);
          }),
        );
        await Promise.all(refusing.map((index) => refuseWrites(index, false)));
      }
      expect(mismatches).toEqual([]);
    });

    it('for every subset of partitioned servers: acquires exactly when a majority is reachable; the error lists the partitioned ones', async () => {
      const locker = partitionableLockerOver(n, { ttl: 5_000 });
      const mismatches: string[] = [];
      // Each partition costs a command timeout, so N = 3 runs every subset and N = 5 a few on
      // each side of the majority boundary (the refusing-server enumeration above covers them all).
      const masks = n === 3 ? indicesOf(8) : [0b00000, 0b00011, 0b10100, 0b00111, 0b11010, 0b11111];
      for (const mask of masks) {
        const down = indicesOf(n).filter((index) => mask & (1 << index));
        for (const index of down) (proxies[index] as FaultProxy).blackhole('hold');
        const lock = locker.createLock(uniqueName(`partition${n}`));
        let outcome: string;
        try {
          outcome = (await lock.acquire()) ? 'acquired' : 'not acquired';
        } catch (error) {
          const failures = LockRedisError.isInstance(error) ? (error.failures ?? []) : [];
          const described = failures.every(
            (failure) =>
              failure.server === `127.0.0.1:${(proxies[failure.index] as FaultProxy).port}` &&
              (error as Error).message.includes(`server ${failure.index} (${failure.server})`),
          );
          outcome = `error on ${failures.map((failure) => failure.index).join(',')}${described ? '' : ' (badly described)'}`;
        }
        for (const index of down) (proxies[index] as FaultProxy).heal();
        // The verdict comes once the failures so far cost the majority: a partitioned server whose
        // client gave up on it a moment later may be left out of the list.
        const listed = outcome.startsWith('error on ')
          ? outcome
              .slice(9)
              .split(',')
              .filter((part) => part !== '')
              .map(Number)
          : [];
        const enough =
          listed.every((index) => down.includes(index)) && n - down.length + listed.length >= quorum;
        const expected =
          n - down.length >= quorum
            ? 'acquired'
            : enough
              ? outcome
              : `error on (enough of) ${down.join(',')}`;
        if (outcome !== expected)
          mismatches.push(`mask ${mask.toString(2)}: ${outcome}, expected ${expected}`);
        if (outcome === 'acquired') await lock.release();
        await waitFor(async () => !(await ownersOf(lock.name, n)).includes(lock.token), 2_000);
      }
      expect(mismatches).toEqual([]);
    });

    it('a minority partitioned while held keeps the lock: renewal goes on by majority, the signal stays quiet', async () => {
      const locker = partitionableLockerOver(n);
      const lock = await locker.acquire(uniqueName('minority'), {
        ttl: 800,
        autoRenewal: true,
        renewalInterval: 100,
      });
      const minority = indicesOf(n - quorum);
      for (const index of minority) (proxies[index] as FaultProxy).blackhole('hold');
      // Each renewal now waits out the partitioned servers' command timeout (200 ms), and still
      // lands well inside the ttl.
      await new Promise((resolve) => setTimeout(resolve, 1_600)); // 2 ttl
      expect(lock.signal.aborted).toBe(false);
      expect(lock.isHeld).toBe(true);
      const remaining = await Promise.all(
        indicesOf(n)
          .filter((index) => !minority.includes(index))
          .map((index) => admin(index, 'PTTL', lock.key)),
      );
      for (const pttl of remaining) expect(Number(pttl)).toBeGreaterThan(0);
      for (const index of minority) (proxies[index] as FaultProxy).heal();
      expect(await lock.release()).toBe(true);
      expect(lock.signal.reason).toSatisfy(LockReleasedError.isInstance);
    });

    it('a majority partitioned while held fires the lost signal (unreachable) before the ttl runs out', async () => {
      const locker = partitionableLockerOver(n);
      const ttl = 800;
      const lock = await locker.acquire(uniqueName('majority'), {
        ttl,
        autoRenewal: true,
        renewalInterval: 200,
      });
      const lost = lostNotice(lock);
      const lag = measureTimerLag();
      const cutAt = performance.now();
      for (const index of indicesOf(quorum)) (proxies[index] as FaultProxy).blackhole('hold');
      const { reason, at } = await lost;
      expect(LockLostError.isInstance(reason)).toBe(true);
      expect(reason.reason).toBe('unreachable');
      // The last renewal that reached a majority was sent before the cut, so its ttl on the servers
      // runs out after at most cutAt + ttl: the holder is told before that.
      expect(at - cutAt).toBeLessThan(ttl + lag.stop());
      expect(lock.isHeld).toBe(false);
    });

    it('a majority found taken while held fires the lost signal (taken)', async () => {
      const locker = lockerOver(n);
      const lock = await locker.acquire(uniqueName('taken'), {
        ttl: 2_000,
        autoRenewal: true,
        renewalInterval: 100,
      });
      const lost = lostNotice(lock);
      await Promise.all(indicesOf(quorum).map((index) => holdBy(index, lock.name, OTHER_OWNER)));
      const { reason } = await lost;
      expect(reason.reason).toBe('taken');
      // The servers where it still held it were given back when the handle released after the loss.
      expect(await lock.release()).toBe(false);
      const owners = await ownersOf(lock.name, n);
      expect(owners.filter((owner) => owner === OTHER_OWNER)).toHaveLength(quorum);
    });
  });

  it('checks validity after acquiring: a majority reached too late counts as not acquired and is given back', async () => {
    const locker = lockerOver(3);
    for (const proxy of proxies.slice(0, 3)) proxy.setLatency(40); // 80 ms round trips
    const lock = locker.createLock(uniqueName('late'), { ttl: 60 });
    // No majority within the validity a hold would have: Redlock decides "not acquired" then.
    expect(await lock.acquire()).toBe(false);
    for (const proxy of proxies.slice(0, 3)) proxy.heal();
    await waitFor(async () => !(await ownersOf(lock.name, 3)).includes(lock.token), 2_000);
  });

  it('checks validity after extending: an extend that comes back too late means the lock is lost', async () => {
    const locker = lockerOver(3);
    const lock = await locker.acquire(uniqueName('late-extend'), { ttl: 5_000 });
    for (const proxy of proxies.slice(0, 3)) proxy.setLatency(40);
    expect(await lock.extend(60, { replace: true })).toBe(false);
    expect(lock.state).toBe('lost');
    for (const proxy of proxies.slice(0, 3)) proxy.heal();
  });

  it('extends, releases, reports status and inspects by majority', async () => {
    const locker = lockerOver(5);
    const lock = await locker.acquire(uniqueName('status'), { ttl: 5_000 });
    const probe = locker.createLock(lock.name);
    expect(await probe.isLockedByAnyone()).toBe(true);
    expect(await probe.isLockedByMe()).toBe(false);
    expect(await lock.isLockedByMe()).toBe(true);
    expect(await lock.extend(10_000, { replace: true })).toBe(true);
    expect(await lock.remainingTime()).toBeGreaterThan(5_000);

    // Two servers (a minority) lose it: still held by majority, and inspect says so.
    await admin(0, 'DEL', lock.key);
    await holdBy(1, lock.name, OTHER_OWNER);
    const report = await locker.inspect(lock.name);
    expect(report).toMatchObject({
      owner: lock.token,
      holdCount: 1,
      fencingToken: null,
      lastFencingToken: null,
    });
    expect(report.remaining).toBeGreaterThan(5_000);
    expect(await lock.extend(1_000)).toBe(true);

    expect(await lock.release()).toBe(true);
    // Decided by a majority; the last servers' releases may land just after.
    await waitFor(
      async () => (await ownersOf(lock.name, 5)).filter((owner) => owner !== null).length === 1,
      2_000,
    );
    expect((await ownersOf(lock.name, 5)).filter((owner) => owner !== null)).toEqual([OTHER_OWNER]);
    expect(await probe.isLockedByAnyone()).toBe(false);
    expect((await locker.inspect(lock.name)).owner).toBeNull();
  });

  it('status cannot be read when the failed servers could tip it: LockRedisError with failures', async () => {
    const locker = partitionableLockerOver(3);
    const lock = await locker.acquire(uniqueName('status-fail'), { ttl: 5_000 });
    (proxies[0] as FaultProxy).blackhole('hold');
    expect(await lock.isLockedByMe()).toBe(true); // two of three still say so: decided
    (proxies[1] as FaultProxy).blackhole('hold');
    const error = await lock.isLockedByAnyone().catch((caught: unknown) => caught);
    expect(LockRedisError.isInstance(error) && error.failures?.map((failure) => failure.index)).toEqual([
      0, 1,
    ]);
    for (const proxy of proxies) proxy.heal();
    await lock.release();
  });

  it('has no fencing token (and refuses fencing: true, fair: true); creates no fencing counter', async () => {
    const locker = lockerOver(3);
    const lock = await locker.acquire(uniqueName('fence'));
    expect(lock.fencingToken).toBeUndefined();
    expect(lock.options.fencing).toBe(false);
    for (const index of indicesOf(3)) expect(await admin(index, 'EXISTS', `${lock.key}:fence`)).toBe(0);
    await lock.release();
    expect(() => locker.createLock('x', { fencing: true })).toThrow(LockOptionError);
    expect(() => locker.createLock('x', { fair: true })).toThrow(LockOptionError);
    expect(() => lockerOver(3, { fencing: true })).toThrow(LockOptionError);
    const runner = (clients[0] as ConnectedClient).runner;
    expect(() => new Locker([runner, runner, runner])).toThrow(LockOptionError);
    expect(() => new Locker([])).toThrow(LockOptionError);
  });

  it('mutual exclusion: only one of several contenders holds it at a time', async () => {
    const lockers = [lockerOver(3), lockerOver(3), lockerOver(3)];
    const name = uniqueName('contend');
    let inside = 0;
    let maxInside = 0;
    let entries = 0;
    await Promise.all(
      lockers.flatMap((locker) =>
        Array.from({ length: 3 }, async () => {
          for (let round = 0; round < 5; round += 1) {
            await locker.withLock(
              name,
              async () => {
                inside += 1;
                entries += 1;
                maxInside = Math.max(maxInside, inside);
                await new Promise((resolve) => setTimeout(resolve, 2));
                inside -= 1;
              },
              { waitTimeout: 10_000, retryDelay: 20 },
            );
          }
        }),
      ),
    );
    expect(entries).toBe(45);
    expect(maxInside).toBe(1);
  });

  it('wakes a waiter on release, through the notifications of every server', async () => {
    const locker = lockerOver(3);
    const holder = await locker.acquire(uniqueName('wake'));
    // Polling every 10 s: only a release notification can make the waiter in time.
    const waiting = locker.acquire(holder.name, { waitTimeout: 5_000, retryDelay: 10_000, retryJitter: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const releasedAt = performance.now();
    await holder.release();
    const waiter = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(1_000);
    await waiter.release();
  });

  it('reentrant locks count entries on every server', async () => {
    const locker = lockerOver(3);
    const lock = locker.createLock(uniqueName('reenter'), { reentrant: true });
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire()).toBe(true);
    expect((await locker.inspect(lock.name)).holdCount).toBe(2);
    expect(await lock.release()).toBe(true);
    expect(lock.isHeld).toBe(true);
    expect(await lock.release()).toBe(true);
    // Decided by a majority; the last server's release may land just after.
    await waitFor(async () => (await ownersOf(lock.name, 3)).every((owner) => owner === null), 2_000);
  });

  it('tryAcquire gives null when a majority is held elsewhere, and waiting ends in LOCK_NOT_ACQUIRED', async () => {
    const locker = lockerOver(3);
    const name = uniqueName('held');
    await Promise.all([holdBy(0, name, OTHER_OWNER), holdBy(2, name, OTHER_OWNER)]);
    expect(await locker.tryAcquire(name)).toBeNull();
    const error = await locker
      .acquire(name, { waitTimeout: 150, retryDelay: 30 })
      .catch((caught: unknown) => caught);
    expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
    await waitFor(async () => (await ownersOf(name, 3))[1] === null, 2_000);
  });
});
