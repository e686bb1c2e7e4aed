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
  type EvalFunctions,
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
  const runner = createScriptRunner(evalFunctions(client));
  // Redlock takes equal descriptions for one server: a client whose server is unknown (a cluster)
  // gets a description of its own.
  unknownServers += 1;
  const unknownServer = `node-redis client #${unknownServers}`;
  const notifier = createReleaseNotifier(async (onMessage, signal) => {
    const connection = options.notifications === false ? undefined : duplicateOf(client);
    if (connection === undefined)
      throw new Error('release notifications are off for this runner; waiters poll');
    signal.throwIfAborted();
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
    // connect() keeps retrying for as long as the server refuses the connection (e.g. at
    // maxclients): the notifier aborts it when it closes or goes idle, and then it must stop.
    await untilAborted(connection.connect(), signal, destroy);
    return {
      subscribe: async (channel) => {
        await connection.subscribe(channel, (_message, from) => onMessage(from));
      },
      unsubscribe: async (channel) => {
        await connection.unsubscribe(channel);
      },
      // Never QUIT or close(): they wait for the server (forever while it reconnects), and only
      // node-redis 6 can still destroy a connection once they started (4 and 5 then throw
      // ClientClosedError, after failing the QUIT whose reply later crashes the client). Nothing
      // on a subscriber connection is worth waiting for: the server drops its subscriptions.
      close: destroy,
      destroy,
    };
  });
  const close = () => notifier.close();
  return {
    run: runner.run,
    subscribe: notifier.subscribe,
    describe: () => describeClient(client) ?? unknownServer,
    ...replicaWaiter(client),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Settles like `connecting`, or, once `signal` aborts, calls `destroy` and rejects at once: the
 * client's connect() may only settle after its next reconnect delay, if at all.
 */
function untilAborted<T>(
  connecting: Promise<T>,
  signal: AbortSignal,
  destroy: () => Promise<void>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      void destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    connecting.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        // node-redis 4 and 5 resolve connect() after a destroy() too; a socket that was already
        // connecting may even have opened: destroy once more, and the rejection above stands.
        if (signal.aborted) void destroy();
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isCluster(client: NodeRedisLikeClient | NodeRedisLikeCluster): client is NodeRedisLikeCluster {
  return (
    typeof client === 'object' &&
    client !== null &&
    'masters' in client &&
    typeof client.sendCommand === 'function'
  );
}

/** The subscriber connection, `duplicate()` (on a cluster, with one connection); none without it. */
function duplicateOf(
  client: NodeRedisLikeClient | NodeRedisLikeCluster,
): NodeRedisLikeSubscriber | undefined {
  return isCluster(client) ? client.duplicate?.({ minimizeConnections: true }) : client.duplicate?.();
}

/** EVALSHA and EVAL in the call shape of a client or a cluster. */
function evalFunctions(client: NodeRedisLikeClient | NodeRedisLikeCluster): EvalFunctions {
  if (isCluster(client)) {
    const send = (command: string, script: string, keys: readonly string[], args: readonly string[]) =>
      client.sendCommand(keys[0], false, [command, script, String(keys.length), ...keys, ...args]);
    return {
      evalsha: (sha1, keys, args) => send('EVALSHA', sha1, keys, args),
      eval: (source, keys, args) => send('EVAL', source, keys, args),
    };
  }
  if (typeof client?.evalSha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createNodeRedisRunner(client) needs a node-redis client or cluster.');
  }
  return {
    evalsha: (sha1, keys, args) => client.evalSha(sha1, { keys: [...keys], arguments: [...args] }),
    eval: (source, keys, args) => client.eval(source, { keys: [...keys], arguments: [...args] }),
  };
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
  if (typeof options?.url === 'string') {
    try {
      const url = new URL(options.url);
      return `${url.hostname}:${url.port || '6379'}`;
    } catch {
      // fall through
    }
  }
  // A plain client given no address connects to node-redis's default.
  if (typeof options === 'object' && options !== null && !isCluster(client)) return 'localhost:6379';
  return undefined;
}

/** How many runners were made over a client whose server could not be described. */
let unknownServers = 0;

/**
 * `waitForReplicas` (WAIT on the client's connection, so it covers the lock just written), for a
 * plain client only: on a cluster, WAIT would not reach the lock's primary over the connection
 * that wrote it (node-redis 6 even sends it to every shard).
 */
function replicaWaiter(client: NodeRedisLikeClient | NodeRedisLikeCluster): Partial<ReplicaWaiter> {
  if (isCluster(client)) return {};
  const wait = client.wait;
  if (typeof wait !== 'function') return {};
  return { waitForReplicas: (count, timeoutMs) => wait.call(client, count, timeoutMs) };
}
