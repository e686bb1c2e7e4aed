/**
 * redlock-universal (declares Node >= 22 in `engines`; it installs and runs on Node 20): a lock
 * object per key (`createLock({ adapter, key })`), then `acquire()` → handle and
 * `release(handle)`; `createRedlock` for quorum; `using()` for auto-extension, which renews when
 * 20 % of the ttl is left (not configurable). Its circuit breaker sends a PING on a lock object's first
 * acquire (and every 30 s after); the wrapper reuses the lock object while the key stays the same,
 * as an application holding one hot key would.
 */
import type { Redis } from 'ioredis';
import {
  createLock,
  createRedlock,
  IoredisAdapter,
  type Lock,
  LockAcquisitionError,
  type LockHandle,
} from 'redlock-universal';
import { COMMON_RETRY, LOCK_TTL } from '../config.js';
import { holdWithUsing } from './hold-with-using.js';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import type { LockClient, RenewingClient, RetryPolicy, Subject } from './types.js';

interface RetrySettings {
  retryAttempts?: number;
  retryDelay?: number;
}

function retry(policy: RetryPolicy): RetrySettings {
  switch (policy) {
    case 'once':
      return { retryAttempts: 0 };
    case 'common':
      return {
        retryAttempts: Math.ceil(COMMON_RETRY.budgetMs / COMMON_RETRY.delayMs),
        retryDelay: COMMON_RETRY.delayMs,
      };
    case 'defaults':
      return {};
  }
}

function lockClient(makeLock: (key: string) => Lock, clients: readonly Redis[]): LockClient {
  let last: { key: string; lock: Lock } | undefined;
  return {
    async acquire(key) {
      if (last?.key !== key) last = { key, lock: makeLock(key) };
      const { lock } = last;
      let handle: LockHandle;
      try {
        handle = await lock.acquire();
      } catch (error) {
        if (error instanceof LockAcquisitionError) return null;
        throw error;
      }
      return {
        release: async () => {
          await lock.release(handle);
        },
      };
    },
    close: async () => {
      await Promise.all(clients.map(closeIoredis));
    },
  };
}

export const redlockUniversal: Subject = {
  async connect(url, policy) {
    const client = await openIoredis(url);
    const adapter = new IoredisAdapter(client);
    return lockClient((key) => createLock({ adapter, key, ttl: LOCK_TTL, ...retry(policy) }), [client]);
  },
  async connectQuorum(urls) {
    const clients = await Promise.all(urls.map(openIoredis));
    const adapters = clients.map((client) => new IoredisAdapter(client));
    return lockClient((key) => createRedlock({ adapters, key, ttl: LOCK_TTL, ...retry('once') }), clients);
  },
  async connectRenewing(url, renewal): Promise<RenewingClient> {
    const client = await openIoredis(url);
    const adapter = new IoredisAdapter(client);
    const ttl = renewal.ttlMs;
    return {
      // It renews when 20 % of the ttl is left; the interval cannot be set.
      intervalMs: Math.round(ttl * 0.8),
      acquire: (key) => holdWithUsing((routine) => createLock({ adapter, key, ttl }).using(routine)),
      close: () => closeIoredis(client),
    };
  },
};
