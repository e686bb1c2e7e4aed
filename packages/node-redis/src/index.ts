/**
 * `@lock/node-redis`: turns a node-redis client you already own (the result of `createClient()`
 * or `createCluster()` from the `redis` package) into the `ScriptRunner` that `@lock/core` runs
 * on. The client is only used, never closed or reconfigured; the one connection the adapter makes
 * itself (a `duplicate()` for release notifications) is closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import { createChannelHub, createScriptRunner, type ReleaseNotifier, type ScriptRunner } from '@lock/core';

/** The arguments node-redis takes for EVAL and EVALSHA. */
export interface NodeRedisEvalOptions {
  keys: string[];
  arguments: string[];
}

/** The subscriber connection made with `client.duplicate()`. */
export interface NodeRedisLikeSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
}

/**
 * The node-redis methods the adapter calls. A connected node-redis v4, v5 or v6 client fits.
 * Without `duplicate`, waiters poll.
 */
export interface NodeRedisLikeClient {
  evalSha(sha1: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
  duplicate?(): NodeRedisLikeSubscriber;
}

/** Options of {@link createNodeRedisRunner}. */
export interface NodeRedisRunnerOptions {
  /**
   * Wake waiters the moment a lock is released, through one subscriber connection made lazily
   * with `client.duplicate()` the first time a lock is waited for. Off: waiters poll.
   * @default true
   */
  notifications?: boolean;
}

/** A runner over a node-redis client; `close()` closes only what the adapter opened. */
export interface NodeRedisRunner extends ScriptRunner, ReleaseNotifier, AsyncDisposable {
  /** Closes the adapter's own subscriber connection, if it made one. The user's client stays open. */
  close(): Promise<void>;
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
export function createNodeRedisRunner(
  client: NodeRedisLikeClient,
  options: NodeRedisRunnerOptions = {},
): NodeRedisRunner {
  if (typeof client?.evalSha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createNodeRedisRunner(client) needs a node-redis client or cluster.');
  }
  const runner = createScriptRunner({
    evalsha: (sha1, keys, args) => client.evalSha(sha1, { keys: [...keys], arguments: [...args] }),
    eval: (source, keys, args) => client.eval(source, { keys: [...keys], arguments: [...args] }),
  });

  let subscriber: Promise<NodeRedisLikeSubscriber> | undefined;
  let closed = false;
  const connectSubscriber = (): Promise<NodeRedisLikeSubscriber> => {
    if (subscriber !== undefined) return subscriber;
    if (closed || options.notifications === false || typeof client.duplicate !== 'function') {
      // Waiters fall back to polling when subscribing fails.
      return Promise.reject(new Error('release notifications are off for this runner'));
    }
    const connection = client.duplicate();
    // Our own connection: an 'error' event without a listener would crash the app; node-redis
    // reconnects and resubscribes by itself, and waiters keep polling meanwhile.
    connection.on('error', () => {});
    subscriber = connection.connect().then(() => connection);
    subscriber.catch(() => {
      subscriber = undefined;
    });
    return subscriber;
  };
  const hub = createChannelHub({
    subscribe: async (channel) => {
      const connection = await connectSubscriber();
      await connection.subscribe(channel, (_message, from) => hub.dispatch(from));
    },
    unsubscribe: async (channel) => {
      await (await subscriber)?.unsubscribe(channel);
    },
  });

  const close = async () => {
    closed = true;
    const connection = await subscriber?.catch(() => undefined);
    subscriber = undefined;
    if (connection === undefined) return;
    await (connection.close?.() ?? connection.quit?.());
  };
  return {
    run: runner.run,
    subscribe: hub.subscribe,
    close,
    [Symbol.asyncDispose]: close,
  };
}
