/**
 * `@lock/valkey-glide`: turns a Valkey GLIDE client you already own (`GlideClient` or
 * `GlideClusterClient`) into the `ScriptRunner` that `@lock/core` runs on. The client is only
 * used, never closed or reconfigured; the subscriber client the adapter opens for release
 * notifications (only when given a way to make one) is closed by `runner.close()`.
 *
 * @packageDocumentation
 */
import { type DefinedRunner, defineRunner, type OpeningSubscriber } from '@lock/core/adapter';

/** The route GLIDE's cluster client takes: the primary that owns `key`'s hash slot. */
export interface GlideKeyRoute {
  readonly type: 'primarySlotKey';
  readonly key: string;
}

/**
 * The GLIDE methods the adapter calls on the user's client. A `GlideClient` or
 * `GlideClusterClient` (2.x) fits without a cast.
 */
export interface GlideLikeClient {
  /** Sets no `decoder`: replies come in the client's default, which {@link GlideRunner} converts. */
  customCommand(args: string[], options?: { route?: GlideKeyRoute; decoder?: undefined }): Promise<unknown>;
  /** Sharded pub/sub exists only on a `GlideClusterClient`: it tells the adapter to route by key. */
  readonly ssubscribe?: unknown;
}

/** The GLIDE methods the adapter calls on the subscriber client it opens. */
export interface GlideLikeSubscriber {
  /** Dynamic SUBSCRIBE (GLIDE ≥ 2.3): resolves once confirmed, rejects after `timeoutMs`. */
  subscribe(channels: Iterable<string>, timeoutMs: number): Promise<unknown>;
  unsubscribe(channels: Iterable<string>, timeoutMs: number): Promise<unknown>;
  /** The next message; rejects once the client is closed. */
  getPubSubMessage(): Promise<{ channel: unknown }>;
  /** For QUIT, sent before `close()`. */
  customCommand(args: string[]): Promise<unknown>;
  close(): void;
}

/** Options of {@link createGlideRunner}. */
export interface GlideRunnerOptions {
  /**
   * Makes the adapter's own subscriber client, which wakes waiters the moment a lock is released.
   * GLIDE has no `duplicate()`, so pass a function that creates a client like yours, without
   * `pubsubSubscriptions` (its messages are read with `getPubSubMessage()`), e.g.
   * `() => GlideClient.createClient(config)`. It is called when a lock is first waited for and the
   * client is closed after 1 s without waiters. Without it, waiters poll.
   */
  subscriber?: () => Promise<GlideLikeSubscriber>;
}

/** A runner over a GLIDE client; `close()` closes only what the adapter opened. */
export type GlideRunner = DefinedRunner;

/** How long the subscriber waits for Redis to confirm an (UN)SUBSCRIBE, in ms. */
const SUBSCRIBE_TIMEOUT = 2_000;

/**
 * Sends one command through `client`: on a cluster client routed to the primary of `key`'s slot
 * (every key of a lock shares that slot), on a standalone client as is.
 */
function sender(client: GlideLikeClient) {
  const cluster = client.ssubscribe !== undefined;
  return async (args: string[], key?: string): Promise<unknown> => {
    const options = cluster && key !== undefined ? { route: { type: 'primarySlotKey', key } as const } : {};
    try {
      return toPlain(await client.customCommand(args, options));
    } catch (error) {
      throw asRedisError(error);
    }
  };
}

/**
 * GLIDE's reply as the plain values core expects: bulk strings as `string` (also with a `Buffer`
 * decoder), integers as `number`, nil as `null`, arrays as arrays, and RESP3 booleans as RESP2
 * gives Lua's: `true` as 1, `false` as nil.
 */
function toPlain(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString();
  if (typeof reply === 'bigint') return Number(reply);
  if (typeof reply === 'boolean') return reply ? 1 : null;
  if (Array.isArray(reply)) return reply.map(toPlain);
  return reply;
}

/**
 * GLIDE rewrites server errors (`NOSCRIPT No matching…` becomes `…NoScriptError: No matching…`,
 * `CROSSSLOT Keys…` becomes `…CrossSlot: Keys…`); core and users recognise Redis's own codes, so
 * those are put back in front, with GLIDE's error kept as the cause.
 */
function asRedisError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = /\bNoScriptError\b/.test(error.message)
    ? 'NOSCRIPT'
    : /\bCrossSlot\b/.test(error.message) && !error.message.includes('CROSSSLOT')
      ? 'CROSSSLOT'
      : undefined;
  return code === undefined ? error : new Error(`${code} ${error.message}`, { cause: error });
}

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

/**
 * The subscriber client `opening` resolves with, as the runner drives it. GLIDE cannot stop a
 * client mid-connect: `destroy()` before it has connected closes it as soon as it has (the runner
 * calls `destroy()` again once `ready` settles late, which closes it then).
 */
function subscriber(
  opening: Promise<GlideLikeSubscriber>,
  onMessage: (channel: string) => void,
): OpeningSubscriber {
  let connection: GlideLikeSubscriber | undefined;
  const ready = opening.then((client) => {
    if (typeof client.subscribe !== 'function') {
      client.close();
      // A GLIDE before 2.3 has no dynamic SUBSCRIBE: its waiters poll.
      throw new Error('this GLIDE client has no subscribe(); waiters poll');
    }
    connection = client;
    void (async () => {
      // Ends with the rejection GLIDE gives every pending read once the client is closed.
      for (;;) onMessage(String((await client.getPubSubMessage()).channel));
    })().catch(() => {});
  });
  const opened = async () => {
    await ready;
    return connection as GlideLikeSubscriber;
  };
  return {
    ready,
    subscribe: async (channel) => (await opened()).subscribe([channel], SUBSCRIBE_TIMEOUT),
    unsubscribe: async (channel) => (await opened()).unsubscribe([channel], SUBSCRIBE_TIMEOUT),
    close: async () => {
      const client = await opened();
      // GLIDE's close() alone leaves the server connection open for seconds; QUIT ends it now.
      await client.customCommand(['QUIT']).finally(() => client.close());
    },
    destroy: () => connection?.close(),
  };
}

/**
 * `host:port` of a standalone client's first address (GLIDE keeps its configuration as `config`),
 * for Redlock's errors and its refusal of one server given twice; never credentials.
 */
function describeClient(client: GlideLikeClient, cluster: boolean): string | undefined {
  const address = (client as { config?: { addresses?: { host?: unknown; port?: unknown }[] } }).config
    ?.addresses?.[0];
  if (cluster || typeof address?.host !== 'string') return undefined;
  return `${address.host}:${String(address.port ?? 6379)}`;
}
