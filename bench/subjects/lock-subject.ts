/**
 * @lock itself, with its defaults (fencing tokens on, release notifications on), over whichever
 * client a {@link Connect} opens. Only what a policy needs is set: `waitTimeout` to wait at all
 * (the default is one attempt), and the common retry delay and jitter. Quorum is a Redlock
 * `Locker` over one runner per server (no fencing there, and no fair locks); the primitives are
 * `locker.semaphore` and `locker.readWriteLock` with the common policy.
 */
import { LockAcquireError, Locker, type LockOptions, type ScriptRunner } from '@lock/core';
import { COMMON_RETRY } from '../config.js';
import type {
  Held,
  LockClient,
  ReadWriteClient,
  RenewalSettings,
  RenewingClient,
  RetryPolicy,
  Subject,
} from './types.js';

/** A runner over a freshly opened client, and how to close both. */
export interface Connection {
  readonly runner: ScriptRunner;
  close(): Promise<void>;
}

export type Connect = (url: string) => Promise<Connection>;

function policyOptions(policy: RetryPolicy): LockOptions {
  switch (policy) {
    case 'once':
      return {};
    case 'common':
      return {
        retryDelay: COMMON_RETRY.delayMs,
        retryJitter: COMMON_RETRY.jitterMs,
        waitTimeout: COMMON_RETRY.budgetMs,
      };
    case 'defaults':
      return { waitTimeout: COMMON_RETRY.budgetMs };
  }
}

/** Waits as the policy says; `null` when the wait ran out. */
async function orGaveUp(acquire: () => Promise<Held>): Promise<Held | null> {
  try {
    return await acquire();
  } catch (error) {
    if (error instanceof LockAcquireError) return null;
    throw error;
  }
}

async function closeAll(connections: readonly Connection[]): Promise<void> {
  await Promise.all(connections.map((connection) => connection.close()));
}

function lockClient(
  connections: readonly Connection[],
  policy: RetryPolicy,
  options: LockOptions,
): LockClient {
  const runners = connections.map((connection) => connection.runner);
  const locker = new Locker(runners, { ...policyOptions(policy), ...options });
  return {
    acquire: (key) => (policy === 'once' ? locker.tryAcquire(key) : orGaveUp(() => locker.acquire(key))),
    close: () => closeAll(connections),
  };
}

/** @lock over `connect`; `fair: true` in `extraOptions` leaves out quorum (Redlock refuses it). */
export function lockSubject(connect: Connect, extraOptions: LockOptions = {}): Subject {
  const common = policyOptions('common');
  return {
    connect: async (url, policy) => lockClient([await connect(url)], policy, extraOptions),
    ...(extraOptions.fair === true
      ? {}
      : {
          connectQuorum: async (urls: readonly string[]) =>
            lockClient(await Promise.all(urls.map(connect)), 'once', extraOptions),
        }),
    async connectSemaphore(url, limit): Promise<LockClient> {
      const connection = await connect(url);
      const locker = new Locker(connection.runner, common);
      return {
        acquire: (key) => orGaveUp(() => locker.semaphore(key, { limit }).acquire()),
        close: () => connection.close(),
      };
    },
    async connectReadWrite(url): Promise<ReadWriteClient> {
      const connection = await connect(url);
      const locker = new Locker(connection.runner, common);
      return {
        read: (key) => orGaveUp(() => locker.readWriteLock(key).acquireRead()),
        write: (key) => orGaveUp(() => locker.readWriteLock(key).acquireWrite()),
        close: () => connection.close(),
      };
    },
    async connectRenewing(url, renewal: RenewalSettings): Promise<RenewingClient> {
      const connection = await connect(url);
      const locker = new Locker(connection.runner, {
        ttl: renewal.ttlMs,
        renewalInterval: renewal.intervalMs,
        autoRenewal: true,
      });
      return {
        intervalMs: renewal.intervalMs,
        async acquire(key) {
          const lock = await locker.acquire(key);
          return {
            get lost() {
              return lock.state === 'lost';
            },
            release: () => lock.release(),
          };
        },
        close: () => connection.close(),
      };
    },
  };
}
