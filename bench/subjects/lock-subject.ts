/**
 * @lock itself, with its defaults (fencing tokens on, release notifications on), over whichever
 * client a {@link Connect} opens. Only what a policy needs is set: `waitTimeout` to wait at all
 * (the default is one attempt), and the common retry delay and jitter.
 */
import { LockAcquireError, Locker, type LockOptions, type ScriptRunner } from '@lock/core';
import { COMMON_RETRY } from '../config.js';
import type { LockClient, RenewalSettings, RenewingClient, RetryPolicy, Subject } from './types.js';

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

export function lockSubject(connect: Connect, extraOptions: LockOptions = {}): Subject {
  return {
    async connect(url, policy): Promise<LockClient> {
      const connection = await connect(url);
      const locker = new Locker(connection.runner, { ...policyOptions(policy), ...extraOptions });
      return {
        async acquire(key) {
          if (policy === 'once') return locker.tryAcquire(key);
          try {
            return await locker.acquire(key);
          } catch (error) {
            if (error instanceof LockAcquireError) return null;
            throw error;
          }
        },
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
