/**
 * The conformance suite of the coordination primitives beyond the plain mutex (fair lock,
 * semaphore, read-write lock): one set of behavioural tests per primitive, each in its own file
 * under `primitives/`, run unchanged by every adapter against a real Redis.
 */
import { Locker, type LockerOptions, type ScriptRunner } from '@lock/core';
import { afterAll, beforeAll, describe } from 'vitest';
import type { AdapterUnderTest, ConnectedClient } from './adapter-under-test.js';
import { parseCommandStats } from './helpers.js';
import { describeFairLock } from './primitives/fair-lock.js';
import { describeReadWriteLock } from './primitives/read-write-lock.js';
import { describeReadWriteLockWaiting } from './primitives/read-write-lock-waiting.js';
import { describeSemaphore } from './primitives/semaphore.js';
import { describeSemaphoreWaiting } from './primitives/semaphore-waiting.js';
import { provisionRedis, type RedisInstance } from './redis/redis-server.js';

/** What every primitive's sub-suite gets: a Redis of its own file, clients, and Lockers. */
export interface PrimitiveSuiteContext {
  /** The Redis of this test file (for restarts). */
  redis(): RedisInstance;
  /** The file's main client. */
  client(): ConnectedClient;
  /** Connects one more client; closed after the file. */
  connect(): Promise<ConnectedClient>;
  /** Sends a raw command through the main client. */
  command(...args: string[]): Promise<unknown>;
  /** A Locker over `runner` (default: the main client's) with a test prefix. */
  newLocker(options?: LockerOptions, runner?: ScriptRunner): Locker;
  /**
   * Resets the server's command statistics, runs `work`, and resolves the calls per command Redis
   * counted meanwhile (without the INFO and RESETSTAT calls of the measurement itself).
   */
  commandsDuring(work: () => Promise<void>): Promise<Record<string, number>>;
}

/** Registers every primitive's sub-suite for `adapter`; provisions its own Redis for the file. */
export function runPrimitivesSuite(adapter: AdapterUnderTest): void {
  describe(`primitives: ${adapter.name}`, () => {
    let redis: RedisInstance;
    let client: ConnectedClient;
    const extraClients: ConnectedClient[] = [];

    beforeAll(async () => {
      redis = await provisionRedis();
      client = await adapter.connect(redis.url);
    });

    afterAll(async () => {
      await Promise.all(extraClients.map((extra) => extra.close()));
      await client?.close();
      await redis?.stop();
    });

    const context: PrimitiveSuiteContext = {
      redis: () => redis,
      client: () => client,
      async connect() {
        const extra = await adapter.connect(redis.url);
        extraClients.push(extra);
        return extra;
      },
      command: (...args) => client.command(args),
      newLocker: (options = {}, runner = client.runner) =>
        new Locker(runner, { prefix: 'primitives:', ...options }),
      async commandsDuring(work) {
        await client.command(['CONFIG', 'RESETSTAT']);
        await work();
        const stats = parseCommandStats(String(await client.command(['INFO', 'commandstats'])));
        delete stats.info;
        delete stats['config|resetstat'];
        return stats;
      },
    };

    describeFairLock(context);
    describeReadWriteLock(context);
    describeReadWriteLockWaiting(context);
    describeSemaphore(context);
    describeSemaphoreWaiting(context);
  });
}
