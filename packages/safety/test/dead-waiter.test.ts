/**
 * A waiter that died while it was the longest-waiting one of a (non-fair) lock: once it has
 * waited past the barging bound, a free lock is kept for it alone, but only until its
 * registration lapses. The live waiters then get the lock, within the dead waiter's place ttl
 * and one keep-alive of theirs.
 */
import { Locker } from '@lock/core';
import type { ConnectedClient } from '@lock/testing';
import { provisionRedis, type RedisInstance, serverTimeMs, waitFor } from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';

/** How long the dead waiter's registration lasts after its last attempt. */
const PLACE_MS = 800;
/** The live waiter's longest sleep once subscribed: a third of its place ttl (defaults: 1.3 s). */
const KEEP_ALIVE_MS = Math.floor((2 * 150 + 1_000) / 3);
/** Slack for a loaded 2-core machine. */
const MARGIN = 500;

let nameCounter = 0;
const uniqueName = (label: string) => {
  nameCounter += 1;
  return `dead-waiter-${label}-${process.pid}-${nameCounter}`;
};

describe.each(CLIENT_KINDS)('a dead longest-waiting waiter (%s)', (kind: ClientKind) => {
  let redis: RedisInstance;
  let client: ConnectedClient;

  beforeAll(async () => {
    redis = await provisionRedis();
    client = await connectClient(kind, redis.url);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  it('past the barging bound, keeps a free lock from others only until its registration lapses', async () => {
    const locker = new Locker(client.runner);
    const name = uniqueName('lapse');
    const holder = await locker.acquire(name);
    const waitersKey = `${holder.key}:waiters`;

    // The registration a waiter leaves when its process dies: it arrived long ago (well past the
    // bound) and never renews its place.
    const registeredAt = performance.now();
    const serverNow = await serverTimeMs(client.command);
    await client.command(['ZADD', waitersKey, String(serverNow - 10_000), 'dead-waiter']);
    await client.command([
      'ZADD',
      `${holder.key}:waiter-deadlines`,
      String(serverNow + PLACE_MS),
      'dead-waiter',
    ]);

    const live = new Locker(client.runner, { waitTimeout: 10_000 }).acquire(name);
    await waitFor(async () => Number(await client.command(['ZCARD', waitersKey])) === 2, 2_000, 5);
    await holder.release();
    // The lock is free, but kept for the dead waiter: nobody else may take it yet.
    expect(await locker.tryAcquire(name)).toBeNull();

    const lock = await live;
    const tookAfter = performance.now() - registeredAt;
    expect(tookAfter).toBeGreaterThanOrEqual(PLACE_MS - 50);
    expect(tookAfter).toBeLessThan(PLACE_MS + KEEP_ALIVE_MS + MARGIN);
    expect(await client.command(['ZSCORE', waitersKey, 'dead-waiter'])).toBeNull();
    await lock.release();
  });
});
