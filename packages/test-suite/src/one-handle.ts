/**
 * One handle, many concurrent calls: what a single lock handle must guarantee when its calls are
 * not awaited one by one. Confirmations apply in the order Redis applied them (a renewal and a
 * shorter `extend(ms, { replace: true })` sent together leave the handle with the shorter
 * deadline); a call-chain re-entry never outlives the outer hold; concurrent releases of a
 * reentrant handle each count; `release()` during the handle's own `acquire()` cancels it; and
 * `retryCount`/`waitTimeout: 0` bound the attempts exactly. Run unchanged by both adapters against
 * a real Redis.
 */
import { Locker, type LockerOptions, type ScriptRunner } from '@lock/core';
import { afterAll, beforeAll, describe } from 'vitest';
import type { AdapterUnderTest, ConnectedClient } from './adapter-under-test.js';
import { describeCallChainHolds } from './one-handle/call-chain.js';
import { describeCancellation } from './one-handle/cancellation.js';
import { describeOrdering } from './one-handle/ordering.js';
import type { OneHandleContext } from './one-handle/support.js';
import { provisionRedis, type RedisInstance } from './redis/redis-server.js';

/**
 * Registers the suite for `adapter`. Call it at the top level of a test file; it provisions its
 * own Redis for that file.
 */
export function runOneHandleSuite(adapter: AdapterUnderTest): void {
  describe(`one handle, concurrent calls: ${adapter.name}`, () => {
    let redis: RedisInstance;
    let client: ConnectedClient;
    /** A second client: "another process" as far as the lock can tell. */
    let other: ConnectedClient;

    const command = (...args: string[]) => client.command(args);
    const newLocker = (options: LockerOptions = {}, runner: ScriptRunner = client.runner) =>
      new Locker(runner, { prefix: 'one-handle:', ...options });
    const otherLocker = (options: LockerOptions = {}) => newLocker(options, other.runner);

    beforeAll(async () => {
      redis = await provisionRedis();
      client = await adapter.connect(redis.url);
      other = await adapter.connect(redis.url);
    });

    afterAll(async () => {
      await other?.close();
      await client?.close();
      await redis?.stop();
    });

    const ctx: OneHandleContext = {
      get client() {
        return client;
      },
      command,
      newLocker,
      otherLocker,
    };
    describeOrdering(ctx);
    describeCallChainHolds(ctx);
    describeCancellation(ctx);
  });
}
