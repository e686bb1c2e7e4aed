/**
 * `@lock/node-redis`: turns a node-redis client you already own (the result of `createClient()`
 * or `createCluster()` from the `redis` package) into the `ScriptRunner` that `@lock/core` runs
 * on. The client is only used, never closed or reconfigured; the one connection the adapter makes
 * itself (a `duplicate()` for release notifications) is closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import { type DefinedRunner, defineRunner, type RunnerOptions } from '@lock/core/adapter';
import type { NodeRedisLikeClient, NodeRedisLikeCluster } from './client.js';
import { describeClient, evalFunctions, isCluster } from './script-calls.js';
import { duplicateOf, subscriber } from './subscriber.js';

export type {
  NodeRedisEvalOptions,
  NodeRedisLikeClient,
  NodeRedisLikeCluster,
  NodeRedisLikeSubscriber,
} from './client.js';

/** Options of {@link createNodeRedisRunner}. */
export type NodeRedisRunnerOptions = RunnerOptions;

/** A runner over a node-redis client; `close()` closes only what the adapter opened. */
export type NodeRedisRunner = DefinedRunner;

/**
 * A `ScriptRunner` over a node-redis client or cluster: EVALSHA first, and EVAL (which also
 * caches the script) only when Redis answers NOSCRIPT, so the steady state is one EVALSHA per lock
 * operation. The client must be connected (`await client.connect()`) by its owner.
 *
 * On a cluster (`createCluster()`), each script is sent to the primary that serves the lock's key
 * (every key of a lock shares its hash slot), so the NOSCRIPT fallback happens once per node; the
 * subscriber for release notifications is `cluster.duplicate()`, whose one pub/sub connection
 * receives releases published on any node.
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
export function createNodeRedisRunner(
  client: NodeRedisLikeClient | NodeRedisLikeCluster,
  options: NodeRedisRunnerOptions = {},
): NodeRedisRunner {
  const calls = evalFunctions(client);
  const duplicate = duplicateOf(client);
  const wait = isCluster(client) ? undefined : client.wait;
  return defineRunner({
    notifications: options.notifications,
    clientName: 'node-redis',
    evalFunctions: calls,
    openSubscriber: duplicate && ((onMessage) => subscriber(duplicate(), onMessage)),
    describe: () => describeClient(client),
    // WAIT on the client's connection covers the lock just written; on a cluster it would not
    // reach the lock's primary over the connection that wrote it (node-redis 6 even sends it to
    // every shard).
    waitForReplicas:
      typeof wait === 'function' ? (count, timeoutMs) => wait.call(client, count, timeoutMs) : undefined,
  });
}
