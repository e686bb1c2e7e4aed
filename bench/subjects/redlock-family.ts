/**
 * redlock 5 and its fork @sesamecare-oss/redlock share one API: `redlock.acquire([key], ttl)`,
 * `lock.release()`, and `using(resources, duration, settings, routine)` for auto-extension. Both
 * emit an `error` event for every failed attempt, so a listener is required.
 */
import type { Redis } from 'ioredis';
import { COMMON_RETRY, LOCK_TTL } from '../config.js';
import { holdWithUsing } from './hold-with-using.js';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import type { LockClient, RenewingClient, RetryPolicy, Subject } from './types.js';

export interface RedlockSettings {
  retryCount?: number;
  retryDelay?: number;
  retryJitter?: number;
  automaticExtensionThreshold?: number;
}

/** The part of a redlock-5-style instance the benchmark calls. */
export interface RedlockLike {
  acquire(resources: string[], duration: number): Promise<{ release(): Promise<unknown> }>;
  using(
    resources: string[],
    duration: number,
    settings: RedlockSettings,
    routine: (signal: AbortSignal) => Promise<void>,
  ): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface RedlockFamily {
  create(clients: Redis[], settings: RedlockSettings): RedlockLike;
  /** True for the error the library throws when it gave up on a lock held elsewhere. */
  isGiveUp(error: unknown): boolean;
}

function settings(policy: RetryPolicy): RedlockSettings {
  switch (policy) {
    case 'once':
      return { retryCount: 0 };
    case 'common':
      return { retryCount: -1, retryDelay: COMMON_RETRY.delayMs, retryJitter: COMMON_RETRY.jitterMs };
    case 'defaults':
      return {};
  }
}

export function redlockFamilySubject(family: RedlockFamily): Subject {
  const connectMany = async (urls: readonly string[], policy: RetryPolicy): Promise<LockClient> => {
    const clients = await Promise.all(urls.map(openIoredis));
    const redlock = family.create(clients, settings(policy));
    redlock.on('error', () => {});
    return {
      async acquire(key) {
        try {
          const lock = await redlock.acquire([key], LOCK_TTL);
          return {
            release: async () => {
              await lock.release();
            },
          };
        } catch (error) {
          if (family.isGiveUp(error)) return null;
          throw error;
        }
      },
      close: async () => {
        await Promise.all(clients.map(closeIoredis));
      },
    };
  };

  return {
    connect: (url, policy) => connectMany([url], policy),
    connectQuorum: (urls) => connectMany(urls, 'once'),
    async connectRenewing(url, renewal): Promise<RenewingClient> {
      const client = await openIoredis(url);
      const redlock = family.create([client], {});
      redlock.on('error', () => {});
      // It extends when `threshold` ms of the lock are left: the interval is ttl − threshold.
      const threshold = { automaticExtensionThreshold: renewal.ttlMs - renewal.intervalMs };
      return {
        intervalMs: renewal.intervalMs,
        acquire: (key) => holdWithUsing((routine) => redlock.using([key], renewal.ttlMs, threshold, routine)),
        close: () => closeIoredis(client),
      };
    },
  };
}
