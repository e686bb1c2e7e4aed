/**
 * `@lock/node-redis`: turns a node-redis client you already own (the result of `createClient()`
 * or `createCluster()` from the `redis` package) into the `ScriptRunner` that `@lock/core` runs
 * on. The client is only used, never closed or reconfigured; the one connection the adapter makes
 * itself (a `duplicate()` for release notifications) is closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import {
  createReleaseNotifier,
  createScriptRunner,
  type DescribedRunner,
  type ReleaseNotifier,
  type ReplicaWaiter,
  type ScriptRunner,
} from '@lock/core';

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
  /** `WAIT numberOfReplicas timeout`, for the `replicas` lock option (a plain client has it). */
  wait?(numberOfReplicas: number, timeout: number): Promise<number>;
}

/** Options of {@link createNodeRedisRunner}. */
export interface NodeRedisRunnerOptions {
  /**
   * Wake waiters the moment a lock is released, through one subscriber connection made with
   * `client.duplicate()` when a lock is first waited for, and closed again after 1 s without
   * waiters (so it never keeps a finished process alive). Off: waiters poll.
   * @default true
   */
  notifications?: boolean;
}

/** A runner over a node-redis client; `close()` closes only what the adapter opened. */
export interface NodeRedisRunner
  extends ScriptRunner,
    ReleaseNotifier,
    DescribedRunner,
    Partial<ReplicaWaiter>,
    AsyncDisposable {
  /**
   * Closes the adapter's own subscriber connection now, if one is open (it also closes by itself
   * when idle). Waiters then poll. The user's client stays open.
   */
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

  const notifier = createReleaseNotifier(async (onMessage) => {
    if (options.notifications === false || typeof client.duplicate !== 'function') {
      throw new Error('release notifications are off for this runner; waiters poll');
    }
    const connection = client.duplicate();
    // Our own connection: an 'error' event without a listener would crash the app; node-redis
    // reconnects and resubscribes by itself, and waiters keep polling meanwhile.
    connection.on('error', () => {});
    await connection.connect();
    return {
      subscribe: async (channel) => {
        await connection.subscribe(channel, (_message, from) => onMessage(from));
      },
      unsubscribe: async (channel) => {
        await connection.unsubscribe(channel);
      },
      close: async () => {
        await (connection.close?.() ?? connection.quit?.());
      },
    };
  });
  const close = () => notifier.close();
  return {
    run: runner.run,
    subscribe: notifier.subscribe,
    describe: () => describeClient(client),
    ...replicaWaiter(client),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * `host:port` (or the socket path) of the client's server, for Redlock errors that name the
 * server that failed. Never includes credentials.
 */
function describeClient(client: NodeRedisLikeClient): string {
  const options = (
    client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown; path?: unknown } } }
  ).options;
  const socket = options?.socket;
  if (typeof socket?.path === 'string') return socket.path;
  if (typeof socket?.host === 'string' || typeof socket?.port === 'number') {
    return `${String(socket?.host ?? 'localhost')}:${String(socket?.port ?? 6379)}`;
  }
  if (typeof options?.url === 'string') {
    try {
      const url = new URL(options.url);
      return `${url.hostname}:${url.port || '6379'}`;
    } catch {
      // fall through
    }
  }
  return 'node-redis client';
}

/**
 * `waitForReplicas` (WAIT on the client's connection, so it covers the lock just written), for a
 * plain client only: a cluster (`createCluster()`, recognised by `getMasters`) would send WAIT to
 * an arbitrary node.
 */
function replicaWaiter(client: NodeRedisLikeClient): Partial<ReplicaWaiter> {
  const wait = client.wait;
  const isCluster = typeof (client as { getMasters?: unknown }).getMasters === 'function';
  if (typeof wait !== 'function' || isCluster) return {};
  return { waitForReplicas: (count, timeoutMs) => wait.call(client, count, timeoutMs) };
}
