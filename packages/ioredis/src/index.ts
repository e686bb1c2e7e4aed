/**
 * `@lock/ioredis`: turns an ioredis client you already own (`Redis` or `Cluster`) into the
 * `ScriptRunner` that `@lock/core` runs on. The client is only used, never closed or reconfigured;
 * the one connection the adapter makes itself (a `duplicate()` for release notifications) is
 * closed by `runner.close()`.
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

/** The subscriber connection made with `client.duplicate()`. */
export interface IoredisLikeSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
  /** Starts connecting a connection made with `lazyConnect`. */
  connect?(): Promise<unknown>;
  quit(): Promise<unknown>;
  /**
   * Closes the connection at once and stops ioredis from reconnecting it: what `runner.close()`
   * does instead of QUIT when the connection is not ready, and when QUIT fails or does not answer.
   */
  disconnect?(): void;
  /** ioredis's connection state (`'ready'`, `'reconnecting'`, `'end'`, ...). */
  readonly status?: string;
}

/**
 * The ioredis methods the adapter calls. An ioredis `Redis` or `Cluster` (v5 or v6) fits, and so
 * does any client with the same signatures (e.g. iovalkey). Without `duplicate`, waiters poll.
 */
export interface IoredisLikeClient {
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  duplicate?(): IoredisLikeSubscriber;
  /** `WAIT numreplicas timeout`, for the `replicas` lock option. */
  wait?(numreplicas: number, timeout: number): Promise<number>;
  /** True on an ioredis `Cluster`, where WAIT would not reach the primary that took the lock. */
  isCluster?: boolean;
}

/** Options of {@link createIoredisRunner}. */
export interface IoredisRunnerOptions {
  /**
   * Wake waiters the moment a lock is released, through one subscriber connection made with
   * `client.duplicate()` when a lock is first waited for, and closed again after 1 s without
   * waiters (so it never keeps a finished process alive). Off: waiters poll.
   * @default true
   */
  notifications?: boolean;
}

/** A runner over an ioredis client; `close()` closes only what the adapter opened. */
export interface IoredisRunner
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
  // Redlock takes equal descriptions for one server: a client whose server is unknown (a Cluster)
  // gets a description of its own.
  unknownServers += 1;
  const unknownServer = `ioredis client #${unknownServers}`;
  const runner = createScriptRunner({
    evalsha: (sha1, keys, args) => client.evalsha(sha1, keys.length, ...keys, ...args),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
  });

  const notifier = createReleaseNotifier(async (onMessage, signal) => {
    if (options.notifications === false || typeof client.duplicate !== 'function') {
      throw new Error('release notifications are off for this runner; waiters poll');
    }
    signal.throwIfAborted();
    const connection = client.duplicate();
    // Our own connection: its errors must not surface as unhandled 'error' events in the app;
    // ioredis reconnects and resubscribes by itself, and waiters keep polling meanwhile.
    connection.on('error', () => {});
    connection.on('message', (channel) => onMessage(channel));
    const destroy = () => {
      // After QUIT ('end') there is nothing left to stop, and disconnecting again would only leave
      // a timer behind that keeps the process alive for ioredis's disconnectTimeout.
      if (connection.status !== 'end') connection.disconnect?.();
    };
    // Opened once ready: with enableOfflineQueue: false, a SUBSCRIBE sent before would be refused.
    // While it cannot connect (e.g. the server is at maxclients), ioredis keeps retrying until the
    // notifier gives up on it (it closes or goes idle) and aborts.
    await whenReady(connection, signal, destroy);
    return {
      subscribe: async (channel) => {
        await connection.subscribe(channel);
      },
      unsubscribe: async (channel) => {
        await connection.unsubscribe(channel);
      },
      close: async () => {
        // QUIT on a connection that is not ready is queued until it reconnects (or refused at once
        // with enableOfflineQueue: false) and leaves ioredis reconnecting: disconnect instead.
        if (connection.disconnect !== undefined && connection.status !== 'ready') destroy();
        else await connection.quit();
      },
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
 * Resolves once `connection` is ready (at once for a client that reports no status); once
 * `signal` aborts, calls `destroy` and rejects.
 */
function whenReady(
  connection: IoredisLikeSubscriber,
  signal: AbortSignal,
  destroy: () => void,
): Promise<void> {
  if (connection.status === undefined || connection.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onReady = () => {
      connection.removeListener?.('ready', onReady);
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      connection.removeListener?.('ready', onReady);
      destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    connection.on('ready', onReady);
    // lazyConnect: connect() rejects when the first connection fails, but ioredis keeps retrying.
    if (connection.status === 'wait') connection.connect?.().catch(() => {});
  });
}

/**
 * `host:port` (or the socket path) of the client's server, for Redlock errors that name the
 * server that failed and for Redlock's refusal of one server given twice; `undefined` when the
 * options do not tell (a Cluster). Never includes credentials.
 */
function describeClient(client: IoredisLikeClient): string | undefined {
  const options = (client as { options?: { host?: unknown; port?: unknown; path?: unknown } }).options;
  if (typeof options?.path === 'string' && options.path !== '') return options.path;
  if (typeof options?.host === 'string') return `${options.host}:${String(options.port ?? 6379)}`;
  return undefined;
}

/** How many runners were made over a client whose server could not be described. */
let unknownServers = 0;

/**
 * `waitForReplicas` (WAIT on the client's one connection, so it covers the lock just written),
 * for a plain client only: on a `Cluster` WAIT would go to an arbitrary node.
 */
function replicaWaiter(client: IoredisLikeClient): Partial<ReplicaWaiter> {
  const wait = client.wait;
  if (typeof wait !== 'function' || client.isCluster === true) return {};
  return { waitForReplicas: (count, timeoutMs) => wait.call(client, count, timeoutMs) };
}
