/**
 * `@lock/ioredis`: turns an ioredis client you already own (`Redis` or `Cluster`) into the
 * `ScriptRunner` that `@lock/core` runs on. The client is only used, never closed or reconfigured;
 * the one connection the adapter makes itself (a `duplicate()` for release notifications) is
 * closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import { type DefinedRunner, defineRunner, type RunnerOptions } from '@lock/core/adapter';
import type { IoredisLikeClient } from './client.js';
import { subscriber } from './subscriber.js';

export type { IoredisLikeClient, IoredisLikeSubscriber } from './client.js';

/** Options of {@link createIoredisRunner}. */
export type IoredisRunnerOptions = RunnerOptions;

/** A runner over an ioredis client; `close()` closes only what the adapter opened. */
export type IoredisRunner = DefinedRunner;

/**
 * A `ScriptRunner` over an ioredis client: EVALSHA first, and EVAL (which also caches the script)
 * only when Redis answers NOSCRIPT, so the steady state is one EVALSHA per lock operation.
 *
 * A `Cluster` needs nothing special: ioredis routes each script by its first key, the lock's key,
 * whose hash slot every key of the lock shares, so the NOSCRIPT fallback happens once per node.
 * Its `duplicate()` is a second `Cluster` whose subscriber connection sits on any node and still
 * hears every release, because a `PUBLISH` is broadcast over the cluster bus.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { Locker } from '@lock/core';
 * import { createIoredisRunner } from '@lock/ioredis';
 *
 * const locker = new Locker(createIoredisRunner(new Redis()));
 * ```
 */
export function createIoredisRunner(
  client: IoredisLikeClient,
  options: IoredisRunnerOptions = {},
): IoredisRunner {
  if (typeof client?.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createIoredisRunner(client) needs an ioredis Redis or Cluster client.');
  }
  const { duplicate, wait } = client;
  const address = (client as { options?: { host?: unknown; port?: unknown; path?: unknown } }).options;
  return defineRunner({
    notifications: options.notifications,
    clientName: 'ioredis',
    evalFunctions: {
      evalsha: (sha1, keys, args) => client.evalsha(sha1, keys.length, ...keys, ...args),
      eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
    },
    openSubscriber: duplicate && ((onMessage) => subscriber(duplicate.call(client), onMessage)),
    // `host:port` or the socket path, never credentials; a Cluster's options do not tell.
    describe: () => {
      if (typeof address?.path === 'string' && address.path !== '') return address.path;
      if (typeof address?.host === 'string') return `${address.host}:${String(address.port ?? 6379)}`;
      return undefined;
    },
    // WAIT on the client's one connection covers the lock just written; on a Cluster it would go
    // to an arbitrary node.
    waitForReplicas:
      typeof wait !== 'function' || client.isCluster === true
        ? undefined
        : (count, timeoutMs) => wait.call(client, count, timeoutMs),
  });
}
