/**
 * `@lock/ioredis`: turns an ioredis client you already own (`Redis` or `Cluster`) into the
 * `ScriptRunner` that `@lock/core` runs on. The client is only used, never closed or reconfigured.
 *
 * @packageDocumentation
 */
import { createScriptRunner, type ScriptRunner } from '@lock/core';

/**
 * The two ioredis methods the adapter calls. An ioredis `Redis` or `Cluster` (v5 or v6) fits, and
 * so does any client with the same `evalsha`/`eval` signatures (e.g. iovalkey).
 */
export interface IoredisLikeClient {
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * A `ScriptRunner` over an ioredis client: EVALSHA first, and EVAL (which also caches the script)
 * only when Redis answers NOSCRIPT, so the steady state is one EVALSHA per lock operation. On a
 * `Cluster`, ioredis routes each call by its first key, so the fallback happens per node.
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
export function createIoredisRunner(client: IoredisLikeClient): ScriptRunner {
  if (typeof client?.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createIoredisRunner(client) needs an ioredis Redis or Cluster client.');
  }
  return createScriptRunner({
    evalsha: (sha1, keys, args) => client.evalsha(sha1, keys.length, ...keys, ...args),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
  });
}
