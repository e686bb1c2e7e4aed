/**
 * `@lock/ioredis`: turns an ioredis client you already own (`Redis` or `Cluster`) into the
 * `ScriptRunner` that `@lock/core` runs on. The client is only used, never closed or reconfigured;
 * the one connection the adapter makes itself (a `duplicate()` for release notifications) is
 * closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import {
  type DefinedRunner,
  defineRunner,
  type OpeningSubscriber,
  type RunnerOptions,
} from '@lock/core/adapter';

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

function subscriber(
  connection: IoredisLikeSubscriber,
  onMessage: (channel: string) => void,
): OpeningSubscriber {
  // Our own connection: its errors must not surface as unhandled 'error' events in the app;
  // ioredis reconnects and resubscribes by itself, and waiters keep polling meanwhile.
  connection.on('error', () => {});
  connection.on('message', (channel) => onMessage(channel));
  // After QUIT ('end') there is nothing left to stop, and disconnecting again would only leave a
  // timer behind that keeps the process alive for ioredis's disconnectTimeout.
  const destroy = () => {
    if (connection.status !== 'end') connection.disconnect?.();
  };
  return {
    ready: whenReady(connection),
    subscribe: (channel) => connection.subscribe(channel),
    unsubscribe: (channel) => connection.unsubscribe(channel),
    // QUIT on a connection that is not ready is queued until it reconnects (or refused at once
    // with enableOfflineQueue: false) and leaves ioredis reconnecting: disconnect instead.
    close: async () =>
      connection.disconnect !== undefined && connection.status !== 'ready' ? destroy() : connection.quit(),
    destroy,
  };
}

/**
 * Resolves once `connection` is ready; `undefined` when it already is (or reports no status).
 * Subscribed before, with enableOfflineQueue: false, a SUBSCRIBE would be refused. While it cannot
 * connect (e.g. the server is at maxclients), ioredis keeps retrying until the runner gives up.
 */
function whenReady(connection: IoredisLikeSubscriber): Promise<void> | undefined {
  if (connection.status === undefined || connection.status === 'ready') return undefined;
  const ready = new Promise<void>((resolve) => {
    const onReady = () => {
      connection.removeListener?.('ready', onReady);
      resolve();
    };
    connection.on('ready', onReady);
  });
  // lazyConnect: connect() rejects when the first connection fails, but ioredis keeps retrying.
  if (connection.status === 'wait') connection.connect?.().catch(() => {});
  return ready;
}
