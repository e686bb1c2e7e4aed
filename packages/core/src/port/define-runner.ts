/**
 * {@link defineRunner}: everything a runner does that does not depend on the client, so that an
 * adapter only describes the shape of its client (how it sends EVALSHA and EVAL, how it opens a
 * subscriber connection, what server it talks to, how it sends WAIT).
 */
import type { DescribedRunner, ReleaseNotifier, ReplicaWaiter } from './capabilities.js';
import { createReleaseNotifier, destroySubscriber, type SubscriberConnection } from './release-notifier.js';
import { createScriptRunner, type EvalFunctions, type ScriptRunner } from './runner.js';

/** The options every adapter's runner takes. */
export interface RunnerOptions {
  /**
   * Wake waiters the moment a lock is released, through one subscriber connection made with
   * `client.duplicate()` when a lock is first waited for, and closed again after 1 s without
   * waiters (so it never keeps a finished process alive). Off: waiters poll.
   * @default true
   */
  notifications?: boolean;
}

/** A subscriber connection as {@link RunnerDefinition.openSubscriber} creates it. */
export interface OpeningSubscriber extends SubscriberConnection {
  /**
   * Resolves once the connection can SUBSCRIBE, rejects when it cannot open; omitted when it can
   * at once. The runner does not wait for it beyond the moment it gives up on the connection
   * (closed, or idle): it then calls `destroy()` (or `close()`), also once more should `ready`
   * resolve later, because a client may still finish opening a socket it was told to drop.
   */
  readonly ready?: Promise<unknown>;
}

/** What {@link defineRunner} needs to know about a client. */
export interface RunnerDefinition extends RunnerOptions {
  /** The client's EVALSHA and EVAL; the runner sends EVAL only on a `NOSCRIPT` reply. */
  evalFunctions: EvalFunctions;
  /**
   * Creates the subscriber connection for release notifications (typically the client's
   * `duplicate()`, with an `'error'` listener so that its errors do not crash the app), which
   * calls `onMessage(channel, message)` for every message (pass the message: a release that hands
   * a lock to a waiter says so in it, and without it that waiter takes one more round trip).
   * Called when a lock is first waited for, and again after the connection was closed when idle.
   * Omitted: waiters poll.
   */
  openSubscriber?: (onMessage: (channel: string, message?: string) => void) => OpeningSubscriber;
  /**
   * `host:port` or socket path of the client's server, never credentials; `undefined` when the
   * client cannot tell (a cluster), and the runner then describes itself as
   * `<clientName> client #<n>`, unlike any other runner.
   */
  describe?: () => string | undefined;
  /** The client library's name, in the description of a runner whose server is unknown. */
  clientName: string;
  /**
   * WAIT on the connection that ran the scripts, for the `replicas` lock option. Only for a client
   * whose WAIT reaches the primary that took the lock (not a cluster). Omitted: `replicas` fails.
   */
  waitForReplicas?: (count: number, timeoutMs: number) => Promise<number>;
}

/** The runner {@link defineRunner} returns; `close()` closes only what the runner opened. */
export interface DefinedRunner
  extends ScriptRunner,
    ReleaseNotifier,
    DescribedRunner,
    Partial<ReplicaWaiter>,
    AsyncDisposable {
  /**
   * Closes the runner's own subscriber connection now, if one is open (it also closes by itself
   * when idle). Waiters then poll. The user's client stays open.
   */
  close(): Promise<void>;
}

/** How many runners were made over a client whose server could not be described. */
let unknownServers = 0;

/**
 * Builds a complete runner from the shape of a client: EVALSHA first and EVAL on `NOSCRIPT`,
 * release notifications over one subscriber connection opened on demand and closed when idle
 * (bounded: see `createReleaseNotifier`), a description of its server, WAIT when the client can,
 * and `close()` / `Symbol.asyncDispose` for the subscriber connection.
 *
 * @example
 * ```ts
 * const runner = defineRunner({
 *   clientName: 'my-client',
 *   evalFunctions: {
 *     evalsha: (sha1, keys, args) => client.evalsha(sha1, keys.length, ...keys, ...args),
 *     eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
 *   },
 *   describe: () => `${client.host}:${client.port}`,
 * });
 * ```
 */
export function defineRunner(definition: RunnerDefinition): DefinedRunner {
  const { evalFunctions, openSubscriber, describe, waitForReplicas } = definition;
  const runner = createScriptRunner(evalFunctions);
  unknownServers += 1;
  const unknownServer = `${definition.clientName} client #${unknownServers}`;
  const notifier = createReleaseNotifier(async (onMessage, signal) => {
    if (definition.notifications === false || openSubscriber === undefined) {
      throw new Error('release notifications are off for this runner; waiters poll');
    }
    signal.throwIfAborted();
    const connection = openSubscriber(onMessage);
    if (connection.ready !== undefined) await untilAborted(connection.ready, signal, connection);
    return connection;
  });
  const close = () => notifier.close();
  return {
    run: runner.run,
    subscribe: notifier.subscribe,
    describe: () => describe?.() ?? unknownServer,
    ...(waitForReplicas === undefined ? {} : { waitForReplicas }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Settles like `ready`, or, once `signal` aborts, destroys `connection` and rejects at once: a
 * client may only settle `ready` after its next reconnect delay, if at all. A connection that
 * fails to open is destroyed too, so that its client stops reconnecting it.
 */
function untilAborted(
  ready: Promise<unknown>,
  signal: AbortSignal,
  connection: SubscriberConnection,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      void destroySubscriber(connection);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    ready.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        // Opened after the abort (node-redis 4 and 5 resolve connect() after a destroy): destroy
        // it once more; the rejection above stands.
        if (signal.aborted) void destroySubscriber(connection);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        void destroySubscriber(connection);
        reject(error);
      },
    );
  });
}
