/**
 * Lock sets under Redlock: a `Locker` over three independent real `redis-server`s, on both
 * adapters. Each server runs the set's all-or-nothing script, and the set is held when a majority
 * of the servers hold all of it. An admin client per server sets up holders elsewhere and reads
 * what really is on each server.
 */
import {
  LockAcquireError,
  Locker,
  type LockerOptions,
  LockOptionError,
  type MultiLock,
  type ScriptRunner,
} from '@lock/core';
import { type ConnectedClient, provisionRedis, type RedisInstance, waitFor } from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { lostNotice } from '../src/deadlines.js';
import { uniqueName } from '../src/names.js';

const SERVERS = 3;
const PREFIX = 'redlock-set:';
const OTHER_OWNER = 'another-owner';

let redis: RedisInstance[] = [];
let admins: ConnectedClient[] = [];

beforeAll(async () => {
  redis = await Promise.all(Array.from({ length: SERVERS }, () => provisionRedis()));
  admins = await Promise.all(redis.map((server) => connectClient('ioredis', server.url)));
});

afterAll(async () => {
  await Promise.all(admins.map((admin) => admin.close()));
  await Promise.all(redis.map((server) => server.stop()));
});

const admin = (index: number, ...args: string[]) => (admins[index] as ConnectedClient).command(args);
const servers = Array.from({ length: SERVERS }, (_, index) => index);
/** The names of one set, sharing a hash tag. */
const setNames = (label: string, ...members: string[]) => {
  const tag = uniqueName(label);
  return members.map((member) => `{${tag}}:${member}`);
};
/** The owner of each of `keys` on server `index` (null where free). */
const ownersOn = (index: number, keys: readonly string[]) =>
  Promise.all(keys.map((key) => admin(index, 'HGET', key, 'owner')));
/** Holds `key` on server `index` for another owner, as a mutex hash. */
const holdBy = (index: number, key: string, owner = OTHER_OWNER) =>
  admin(
    index,
    'EVAL',
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', 1, 'fence', 0) return redis.call('PEXPIRE', KEYS[1], 10000)",
    '1',
    key,
    owner,
  );

describe.each(CLIENT_KINDS)('Redlock lock sets on %s', (kind: ClientKind) => {
  let clients: ConnectedClient[] = [];

  beforeAll(async () => {
    clients = await Promise.all(redis.map((server) => connectClient(kind, server.url)));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });

  const locker = (options: LockerOptions = {}) =>
    new Locker(
      clients.map((client) => client.runner),
      { prefix: PREFIX, ...options },
    );
  const keysOf = (names: readonly string[]) => locker().createLock(names).keys;

  it('a minority server holding a member does not block the set; that server takes none of it', async () => {
    const names = setNames('minority', 'a', 'b', 'c');
    const keys = keysOf(names);
    await holdBy(2, keys[1] as string);
    const lock = await locker().acquire(names);
    for (const index of [0, 1]) expect(await ownersOn(index, keys)).toEqual(keys.map(() => lock.token));
    // All or nothing on each server: the one that found a member taken wrote nothing.
    expect(await ownersOn(2, keys)).toEqual([null, OTHER_OWNER, null]);
    expect(await lock.isLockedByMe()).toBe(true);
    expect(await lock.remainingTime()).toBeGreaterThan(0);
    expect(await lock.release()).toBe(true);
    await waitFor(async () => (await ownersOn(0, keys)).every((owner) => owner === null), 2_000);
    expect(await ownersOn(1, keys)).toEqual([null, null, null]);
    await admin(2, 'DEL', keys[1] as string);
  });

  it('a majority holding members elsewhere (different ones on each server) means nothing is taken anywhere', async () => {
    const names = setNames('majority', 'a', 'b', 'c');
    const keys = keysOf(names);
    await holdBy(0, keys[0] as string);
    await holdBy(1, keys[2] as string);
    expect(await locker().tryAcquire(names)).toBeNull();
    const error = await locker({ retryCount: 2, retryDelay: 20 })
      .acquire(names)
      .catch((caught: unknown) => caught);
    expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
    // The free server took the set at each attempt; the failed attempts gave it back.
    await waitFor(async () => (await ownersOn(2, keys)).every((owner) => owner === null), 2_000);
    expect(await ownersOn(0, keys)).toEqual([OTHER_OWNER, null, null]);
    expect(await ownersOn(1, keys)).toEqual([null, null, OTHER_OWNER]);
    await admin(0, 'DEL', keys[0] as string);
    await admin(1, 'DEL', keys[2] as string);
  });

  it('overlapping sets exclude each other by quorum', async () => {
    const [x, y, z] = setNames('overlap', 'x', 'y', 'z') as [string, string, string];
    const first = await locker().acquire([x, y]);
    expect(await locker().tryAcquire([y, z])).toBeNull();
    expect(await locker().tryAcquire(y)).toBeNull();
    const disjoint = await locker().tryAcquire([z]);
    expect(disjoint?.isHeld).toBe(true);
    await first.release();
    await disjoint?.release();
    const second = await locker().acquire([y, z]);
    await second.release();
  });

  it('renewal keeps every member alive on every server; extend covers the whole set', async () => {
    const names = setNames('renew', 'a', 'b');
    const lock = await locker({ ttl: 400, autoRenewal: true }).acquire(names);
    await new Promise((resolve) => setTimeout(resolve, 1_400));
    expect(lock.signal.aborted).toBe(false);
    for (const index of servers) {
      expect(await ownersOn(index, lock.keys)).toEqual(lock.keys.map(() => lock.token));
    }
    expect(await lock.release()).toBe(true);
    // Without renewal, whose next replace would undo an added extend.
    const held = await locker({ ttl: 1_000 }).acquire(names);
    expect(await held.extend(5_000)).toBe(true);
    // Decided by a majority: a server whose earlier command was still in flight may never get it.
    let extendedOn = 0;
    for (const index of servers) {
      const pttls = await Promise.all(held.keys.map((key) => admin(index, 'PTTL', key)));
      if (pttls.every((pttl) => Number(pttl) > 4_500)) extendedOn += 1;
    }
    expect(extendedOn).toBeGreaterThanOrEqual(2);
    expect(await held.release()).toBe(true);
  });

  it('a member lost on a majority of servers loses the hold (a re-taken server does not count)', async () => {
    const lock: MultiLock = await locker({ ttl: 2_000, autoRenewal: true, renewalInterval: 100 }).acquire(
      setNames('lost', 'a', 'b', 'c'),
    );
    const lost = lostNotice(lock);
    // Flushed on two servers: the renewal re-takes the member there, but that is no majority.
    await Promise.all([admin(0, 'DEL', lock.keys[1] as string), admin(1, 'DEL', lock.keys[1] as string)]);
    const { reason } = await lost;
    expect(reason.reason).toBe('taken');
    expect(await lock.release()).toBe(false);
  });

  it('a member taken on a majority of servers loses the hold as taken', async () => {
    const lock = await locker({ ttl: 2_000, autoRenewal: true, renewalInterval: 100 }).acquire(
      setNames('taken', 'a', 'b'),
    );
    const lost = lostNotice(lock);
    for (const index of [0, 1]) {
      await admin(index, 'DEL', lock.keys[0] as string);
      await holdBy(index, lock.keys[0] as string);
    }
    const { reason } = await lost;
    expect(reason.reason).toBe('taken');
    // What was left of the set on those servers was freed by the extend that found it broken.
    for (const index of [0, 1]) expect(await ownersOn(index, lock.keys)).toEqual([OTHER_OWNER, null]);
  });

  it("a waiter listens on every member's channel on every server: any member's release wakes it", async () => {
    const [a, b] = setNames('wake', 'a', 'b') as [string, string];
    const confirmed: string[] = [];
    const spies: ScriptRunner[] = clients.map((client) => ({
      run: (script, keys, args) => client.runner.run(script, keys, args),
      subscribe: async (channel: string, listener: () => void) => {
        const unsubscribe = await client.runner.subscribe(channel, listener);
        confirmed.push(channel);
        return unsubscribe;
      },
    }));
    const holder = await locker().acquire(b);
    // Polling every 20 s: only a release notification can make the waiter in time.
    const waiting = new Locker(spies, { prefix: PREFIX }).acquire([a, b], {
      retryCount: 2,
      retryDelay: 20_000,
    });
    const channels = keysOf([a, b]).map((key) => `${key}:released`);
    await waitFor(async () => channels.every((channel) => confirmed.includes(channel)), 5_000);
    const releasedAt = performance.now();
    await holder.release();
    const lock = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(5_000);
    await lock.release();
  });

  it('refuses fair, fencing and names in different slots, before anything is sent', async () => {
    const names = setNames('refused', 'a', 'b');
    expect(() => locker().createLock(names, { fair: true })).toThrow(LockOptionError);
    expect(() => locker().createLock(names, { fencing: true })).toThrow(LockOptionError);
    await expect(locker().acquire(['plain-a', 'plain-b'])).rejects.toMatchObject({ option: 'names' });
    expect(locker().createLock(names).fencingToken).toBeUndefined();
  });
});
