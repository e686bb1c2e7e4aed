/**
 * redis-semaphore: a `Mutex` object per hold (`new Mutex(client, key, options)`), then
 * `tryAcquire()` and `release()`; `RedlockMutex` for quorum, `Semaphore` (same API, plus the
 * limit) for the primitives scenario. It has no read-write lock. It refreshes every held lock on a
 * `setInterval` by default (every 0.8 × lockTimeout), and polls every 10 ms by default.
 */
import type { Redis } from 'ioredis';
import { type LockOptions, Mutex, RedlockMutex, Semaphore } from 'redis-semaphore';
import { COMMON_RETRY, LOCK_TTL } from '../config.js';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import type { LockClient, RenewingClient, RetryPolicy, Subject } from './types.js';

function options(policy: RetryPolicy): LockOptions {
  switch (policy) {
    case 'once':
      return { lockTimeout: LOCK_TTL, acquireAttemptsLimit: 1 };
    case 'common':
      return {
        lockTimeout: LOCK_TTL,
        retryInterval: COMMON_RETRY.delayMs,
        acquireTimeout: COMMON_RETRY.budgetMs,
      };
    case 'defaults':
      return { lockTimeout: LOCK_TTL };
  }
}

type MakeMutex = (key: string, options: LockOptions) => Mutex | RedlockMutex | Semaphore;

function lockClient(makeMutex: MakeMutex, policy: RetryPolicy, clients: readonly Redis[]): LockClient {
  return {
    async acquire(key) {
      const mutex = makeMutex(key, options(policy));
      if (!(await mutex.tryAcquire())) return null;
      return { release: () => mutex.release() };
    },
    close: async () => {
      await Promise.all(clients.map(closeIoredis));
    },
  };
}

export const redisSemaphore: Subject = {
  async connect(url, policy) {
    const client = await openIoredis(url);
    return lockClient((key, opts) => new Mutex(client, key, opts), policy, [client]);
  },
  async connectQuorum(urls) {
    const clients = await Promise.all(urls.map(openIoredis));
    return lockClient((key, opts) => new RedlockMutex(clients, key, opts), 'once', clients);
  },
  async connectSemaphore(url, limit) {
    const client = await openIoredis(url);
    return lockClient((key, opts) => new Semaphore(client, key, limit, opts), 'common', [client]);
  },
  async connectRenewing(url, renewal): Promise<RenewingClient> {
    const client = await openIoredis(url);
    return {
      intervalMs: renewal.intervalMs,
      async acquire(key) {
        let lost = false;
        const mutex = new Mutex(client, key, {
          lockTimeout: renewal.ttlMs,
          refreshInterval: renewal.intervalMs,
          onLockLost: () => {
            lost = true;
          },
        });
        await mutex.acquire();
        return {
          get lost() {
            return lost;
          },
          release: () => mutex.release(),
        };
      },
      close: () => closeIoredis(client),
    };
  },
};
