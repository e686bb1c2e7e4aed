/**
 * `@lock/node-redis`: turns a node-redis client you already own (the result of `createClient()`
 * or `createCluster()` from the `redis` package) into the `ScriptRunner` that `@lock/core` runs
 * on. The client is only used, never closed or reconfigured; the one connection the adapter makes
 * itself (a `duplicate()` for release notifications) is closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import {
  type DefinedRunner,
  defineRunner,
  type EvalFunctions,
  type OpeningSubscriber,
  type RunnerOptions,
} from '@lock/core/adapter';

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
  /**
   * Closes the connection at once and stops node-redis from reconnecting it (node-redis 5 and 6;
   * node-redis 4 has `disconnect()` for this).
   */
  destroy?(): unknown;
  /** node-redis 4's `destroy()`; deprecated but still there in 5 and 6. */
  disconnect?(): Promise<unknown>;
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

/**
 * What the adapter uses of a node-redis cluster (`createCluster()`, v4, v5 or v6), told apart
 * from a client by its `masters`. Scripts go through `sendCommand` with the lock's key as the
 * routing key, because node-redis 4 routes `cluster.evalSha()` to a random node.
 */
export interface NodeRedisLikeCluster {
  /** The cluster's primaries; only its presence is used, to recognise a cluster. */
  readonly masters: readonly unknown[];
  /** Sends `args` to the primary serving `firstKey` (node-redis follows MOVED and ASK). */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  /**
   * A new, unconnected cluster with the same options, for the subscriber. The adapter asks for
   * `minimizeConnections`, so it opens one connection for its subscriptions instead of one per
   * primary.
   */
  duplicate?(overrides?: { minimizeConnections?: boolean }): NodeRedisLikeSubscriber;
}

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

/** Makes the subscriber connection: `duplicate()`, on a cluster with one connection, not one per primary. */
function duplicateOf(
  client: NodeRedisLikeClient | NodeRedisLikeCluster,
): (() => NodeRedisLikeSubscriber) | undefined {
  if (isCluster(client)) {
    const { duplicate } = client;
    return duplicate && (() => duplicate.call(client, { minimizeConnections: true }));
  }
  const { duplicate } = client;
  return duplicate && (() => duplicate.call(client));
}

function subscriber(
  connection: NodeRedisLikeSubscriber,
  onMessage: (channel: string) => void,
): OpeningSubscriber {
  // Our own connection: an 'error' event without a listener would crash the app; node-redis
  // reconnects and resubscribes by itself, and waiters keep polling meanwhile.
  connection.on('error', () => {});
  const destroy = async () => {
    try {
      if (connection.destroy !== undefined) connection.destroy();
      else if (connection.disconnect !== undefined) await connection.disconnect();
      else await (connection.close?.() ?? connection.quit?.());
    } catch {
      // Already closed (node-redis 4 and 5 throw ClientClosedError then): nothing left to stop.
    }
  };
  return {
    // connect() keeps retrying for as long as the server refuses the connection (e.g. at
    // maxclients), until the runner gives up on it and destroys it.
    ready: connection.connect(),
    subscribe: (channel) => connection.subscribe(channel, (_message, from) => onMessage(from)),
    unsubscribe: (channel) => connection.unsubscribe(channel),
    // Never QUIT or close(): they wait for the server (forever while it reconnects), and only
    // node-redis 6 can still destroy a connection once they started (4 and 5 then throw
    // ClientClosedError, after failing the QUIT whose reply later crashes the client). Nothing on
    // a subscriber connection is worth waiting for: the server drops its subscriptions.
    close: destroy,
    destroy,
  };
}

function isCluster(client: NodeRedisLikeClient | NodeRedisLikeCluster): client is NodeRedisLikeCluster {
  return (
    typeof client === 'object' &&
    client !== null &&
    'masters' in client &&
    typeof client.sendCommand === 'function'
  );
}

/** EVALSHA and EVAL in the call shape of a client or a cluster. */
function evalFunctions(client: NodeRedisLikeClient | NodeRedisLikeCluster): EvalFunctions {
  if (isCluster(client)) {
    return {
      evalsha: (sha1, keys, args) =>
        client.sendCommand(keys[0], false, scriptCommand('EVALSHA', sha1, keys, args)),
      eval: (source, keys, args) =>
        client.sendCommand(keys[0], false, scriptCommand('EVAL', source, keys, args)),
    };
  }
  if (typeof client?.evalSha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createNodeRedisRunner(client) needs a node-redis client or cluster.');
  }
  // Every node-redis client has `sendCommand(args, options)` (a sentinel's takes `isReadonly`
  // first): scripts go through it, which is what `evalSha` does in the end (node-redis 5 and 6 send
  // it with the client's command options, 4 with none), without its argument parser and its extra
  // async steps per call. Not on a client with node-redis 6's `keyPrefix`, which only `evalSha`
  // applies to the keys.
  const { sendCommand } = client as { sendCommand?: (args: string[], options?: unknown) => Promise<unknown> };
  if (typeof sendCommand === 'function' && sendCommand.length === 2 && !hasKeyPrefix(client)) {
    const send = (args: string[]) => sendCommand.call(client, args, commandOptionsOf(client));
    return {
      evalsha: (sha1, keys, args) => send(scriptCommand('EVALSHA', sha1, keys, args)),
      eval: (source, keys, args) => send(scriptCommand('EVAL', source, keys, args)),
    };
  }
  return {
    evalsha: (sha1, keys, args) => client.evalSha(sha1, { keys: [...keys], arguments: [...args] }),
    eval: (source, keys, args) => client.eval(source, { keys: [...keys], arguments: [...args] }),
  };
}

/** `command script numkeys ...keys ...args`, as one array for `sendCommand`. */
function scriptCommand(
  command: 'EVALSHA' | 'EVAL',
  script: string,
  keys: readonly string[],
  args: readonly string[],
): string[] {
  const commandArgs = [command, script, String(keys.length)];
  for (const key of keys) commandArgs.push(key);
  for (const arg of args) commandArgs.push(arg);
  return commandArgs;
}

/** node-redis 6's `keyPrefix` option, which `evalSha` applies to the keys and `sendCommand` does not. */
function hasKeyPrefix(client: NodeRedisLikeClient): boolean {
  const prefix = (client as { _keyPrefix?: unknown })._keyPrefix;
  return prefix !== undefined && prefix !== null && prefix !== '';
}

/**
 * The command options `evalSha` would send with: those of the client, or of the proxy that
 * `withCommandOptions()` / `withTypeMapping()` made (node-redis 5 and 6); none on node-redis 4.
 */
function commandOptionsOf(client: NodeRedisLikeClient): unknown {
  return (client as { _commandOptions?: unknown })._commandOptions;
}

/**
 * `host:port` (or the socket path) of the client's server, for Redlock errors that name the
 * server that failed and for Redlock's refusal of one server given twice; `undefined` when the
 * options do not tell (a cluster). Never includes credentials.
 */
function describeClient(client: NodeRedisLikeClient | NodeRedisLikeCluster): string | undefined {
  const options = (
    client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown; path?: unknown } } }
  ).options;
  const socket = options?.socket;
  if (typeof socket?.path === 'string') return socket.path;
  if (typeof socket?.host === 'string' || typeof socket?.port === 'number') {
    return `${String(socket?.host ?? 'localhost')}:${String(socket?.port ?? 6379)}`;
  }
  if (typeof options?.url === 'string' && URL.canParse(options.url)) {
    const url = new URL(options.url);
    return `${url.hostname}:${url.port || '6379'}`;
  }
  // A plain client given no address connects to node-redis's default.
  if (typeof options === 'object' && options !== null && !isCluster(client)) return 'localhost:6379';
  return undefined;
}
