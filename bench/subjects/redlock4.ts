/**
 * redlock 4 (the last stable redlock): `redlock.lock(key, ttl)` and `lock.unlock()`. A failed
 * attempt makes it send an unlock to every server before it retries or gives up.
 */
import Redlock from 'redlock';
import { COMMON_RETRY, LOCK_TTL } from '../config.js';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import type { LockClient, RetryPolicy, Subject } from './types.js';

function settings(policy: RetryPolicy): ConstructorParameters<typeof Redlock>[1] {
  switch (policy) {
    case 'once':
      return { retryCount: 0 };
    case 'common':
      return { retryCount: -1, retryDelay: COMMON_RETRY.delayMs, retryJitter: COMMON_RETRY.jitterMs };
    case 'defaults':
      return {};
  }
}

async function connectMany(urls: readonly string[], policy: RetryPolicy): Promise<LockClient> {
  const clients = await Promise.all(urls.map(openIoredis));
  const redlock = new Redlock(clients, settings(policy));
  redlock.on('clientError', () => {});
  return {
    async acquire(key) {
      try {
        const lock = await redlock.lock(key, LOCK_TTL);
        return { release: async () => lock.unlock() };
      } catch (error) {
        if (error instanceof Error && error.name === 'LockError') return null;
        throw error;
      }
    },
    close: async () => {
      await Promise.all(clients.map(closeIoredis));
    },
  };
}

export const redlock4: Subject = {
  connect: (url, policy) => connectMany([url], policy),
  connectQuorum: (urls) => connectMany(urls, 'once'),
};
