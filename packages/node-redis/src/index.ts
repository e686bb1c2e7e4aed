/**
 * `@lock/node-redis`: turns a node-redis client you already own (the result of `createClient()`
 * or `createCluster()` from the `redis` package) into the `ScriptRunner` that `@lock/core` runs
 * on. The client is only used, never closed or reconfigured.
 *
 * @packageDocumentation
 */
import { createScriptRunner, type ScriptRunner } from '@lock/core';

/** The arguments node-redis takes for EVAL and EVALSHA. */
export interface NodeRedisEvalOptions {
  keys: string[];
  arguments: string[];
}

/**
 * The two node-redis methods the adapter calls. A connected node-redis v4, v5 or v6 client or
 * cluster fits.
 */
export interface NodeRedisLikeClient {
  evalSha(sha1: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
}

/**
 * A `ScriptRunner` over a node-redis client: EVALSHA first, and EVAL (which also caches the
 * script) only when Redis answers NOSCRIPT, so the steady state is one EVALSHA per lock
 * operation. The client must be connected (`await client.connect()`) by its owner.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { Locker } from '@lock/core';
 * import { createNodeRedisRunner } from '@lock/node-redis';
 *
 * const client = await createClient().connect();
 * const locker = new Locker(createNodeRedisRunner(client));
 * ```
 */
export function createNodeRedisRunner(client: NodeRedisLikeClient): ScriptRunner {
  if (typeof client?.evalSha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createNodeRedisRunner(client) needs a node-redis client or cluster.');
  }
  return createScriptRunner({
    evalsha: (sha1, keys, args) => client.evalSha(sha1, { keys: [...keys], arguments: [...args] }),
    eval: (source, keys, args) => client.eval(source, { keys: [...keys], arguments: [...args] }),
  });
}
