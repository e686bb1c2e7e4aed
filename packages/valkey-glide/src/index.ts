/**
 * `@lock/valkey-glide`: turns a Valkey GLIDE client you already own (`GlideClient` or
 * `GlideClusterClient`) into the `ScriptRunner` that `@lock/core` runs on. The client is only
 * used, never closed or reconfigured; the subscriber client the adapter opens for release
 * notifications (only when given a way to make one) is closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import { type DefinedRunner, defineRunner } from '@lock/core/adapter';
import type { GlideLikeClient, GlideRunnerOptions } from './client.js';
import { describeClient, sender } from './script-calls.js';
import { subscriber } from './subscriber.js';

export type { GlideKeyRoute, GlideLikeClient, GlideLikeSubscriber, GlideRunnerOptions } from './client.js';

/** A runner over a GLIDE client; `close()` closes only what the adapter opened. */
export type GlideRunner = DefinedRunner;

/**
 * A `ScriptRunner` over a GLIDE client: EVALSHA with core's precomputed SHA-1 first, and EVAL
 * (which also caches the script) only when the server answers NOSCRIPT.
 *
 * @example
 * ```ts
 * import { GlideClient } from '@valkey/valkey-glide';
 * import { Locker } from '@lock/core';
 * import { createGlideRunner } from '@lock/valkey-glide';
 *
 * const config = { addresses: [{ host: 'localhost', port: 6379 }], requestTimeout: 5_000 };
 * const client = await GlideClient.createClient(config);
 * const locker = new Locker(
 *   createGlideRunner(client, { subscriber: () => GlideClient.createClient(config) }),
 * );
 * ```
 */
export function createGlideRunner(client: GlideLikeClient, options: GlideRunnerOptions = {}): GlideRunner {
  if (typeof client?.customCommand !== 'function') {
    throw new TypeError('createGlideRunner(client) needs a GLIDE GlideClient or GlideClusterClient.');
  }
  const send = sender(client);
  const cluster = client.ssubscribe !== undefined;
  const open = options.subscriber;
  return defineRunner({
    clientName: 'valkey-glide',
    evalFunctions: {
      evalsha: (sha1, keys, args) => send(['EVALSHA', sha1, String(keys.length), ...keys, ...args], keys[0]),
      eval: (source, keys, args) => send(['EVAL', source, String(keys.length), ...keys, ...args], keys[0]),
    },
    openSubscriber: open && ((onMessage) => subscriber(open(), onMessage)),
    describe: () => describeClient(client, cluster),
    // WAIT on a standalone client reaches the primary that took the lock; on a cluster it would not.
    waitForReplicas: cluster
      ? undefined
      : async (count, timeoutMs) => Number(await send(['WAIT', String(count), String(timeoutMs)])),
  });
}
