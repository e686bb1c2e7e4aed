/**
 * The {@link ReleaseNotifier} behind every runner `defineRunner` builds.
 * {@link createReleaseNotifier} holds all of the bookkeeping (one subscriber connection opened on
 * first use and closed when idle, one Redis subscription per channel however many waiters share
 * it), so that an adapter only says how to open a subscriber connection on its client.
 */
import { monotonicNow, unrefTimeout } from '../clock.js';
import type { ReleaseNotifier } from './capabilities.js';

/** One subscriber connection, as an adapter opens it for the runner's release notifier. */
export interface SubscriberConnection {
  /** SUBSCRIBE; resolves (with any value) once Redis confirmed it. */
  subscribe(channel: string): Promise<unknown>;
  /** UNSUBSCRIBE. */
  unsubscribe(channel: string): Promise<unknown>;
  /**
   * Closes the connection gracefully (QUIT). The notifier gives it 1 s
   * (`SUBSCRIBER_CLOSE_TIMEOUT`), then calls {@link SubscriberConnection.destroy}.
   */
  close(): Promise<unknown>;
  /**
   * Closes the connection at once, whatever state it is in, and stops the client from
   * reconnecting it: called when `close()` fails or does not answer in time. Without it, a
   * connection whose QUIT fails may stay open (and keep its process alive).
   */
  destroy?(): unknown;
}

/**
 * Opens a subscriber connection (typically the user's client's `duplicate()`) that calls
 * `onMessage(channel, message)` for every message it receives (`message` may be left out by a
 * client that cannot pass it on: waiters then only lose the hand-off shortcut). When `signal`
 * aborts (the notifier closed, or went idle, while the connection was still opening), the adapter
 * destroys the connection, stops it from reconnecting, and rejects.
 */
export type OpenSubscriberConnection = (
  onMessage: (channel: string, message?: string) => void,
  signal: AbortSignal,
) => Promise<SubscriberConnection>;

/** A {@link ReleaseNotifier} that owns its connection. */
export interface ManagedReleaseNotifier extends ReleaseNotifier {
  /**
   * Closes the subscriber connection now, also one still opening; later subscriptions fail, so
   * waiters poll. Resolves within {@link SUBSCRIBER_CLOSE_TIMEOUT} ms (plus the adapter's
   * `destroy()`), whatever the server does. Never rejects.
   */
  close(): Promise<void>;
}

/** Options of {@link createReleaseNotifier}. */
export interface ReleaseNotifierOptions {
  /**
   * How long the subscriber connection stays open with nobody waiting, in ms. Closing it when
   * idle means an app never has to close the runner for its process to exit.
   * @default 1000
   */
  idleTimeout?: number;
  /**
   * How long one `subscribe()` waits for Redis to confirm, in ms, opening the connection included.
   * It then rejects (the waiter polls), so a subscriber connection that cannot connect never holds
   * a waiter, nor, once its waiters are gone, the process.
   * @default 2000
   */
  subscribeTimeout?: number;
}

/**
 * How long `close()` gives a subscriber connection to open (when it was still opening) and to
 * answer QUIT, in ms, before it destroys it.
 */
export const SUBSCRIBER_CLOSE_TIMEOUT = 1_000;

/** One channel's subscription on one connection. */
interface Channel {
  readonly listeners: Set<(message?: string) => void>;
  /** The SUBSCRIBE: resolves once Redis confirmed it. Every listener of the channel awaits it. */
  readonly subscribed: Promise<void>;
  confirmed: boolean;
}

/** One subscriber connection and the subscriptions made on it; discarded when it closes. */
interface Session {
  /** Aborted when the session closes, so that a connection still opening is destroyed. */
  readonly abort: AbortController;
  readonly opening: Promise<SubscriberConnection>;
  readonly channels: Map<string, Channel>;
  // The pending UNSUBSCRIBE per channel: a new SUBSCRIBE to it waits for that first, because some
  // clients (node-redis) drop a subscription made while an unsubscribe of it is in flight.
  readonly unsubscribing: Map<string, Promise<void>>;
  closing: Promise<void> | undefined;
}

/**
 * Multiplexes any number of waiters onto one subscriber connection: opened when the first waiter
 * subscribes, subscribed once per channel, and closed `idleTimeout` ms after the last waiter left.
 *
 * Nothing here waits on Redis without a bound: a subscription that is not confirmed within
 * `subscribeTimeout` rejects, a subscription confirmed after its last waiter left is dropped, and
 * closing (on `close()` or when idle) destroys a connection that is still opening or whose QUIT
 * does not answer within {@link SUBSCRIBER_CLOSE_TIMEOUT}.
 */
export function createReleaseNotifier(
  open: OpenSubscriberConnection,
  options: ReleaseNotifierOptions = {},
): ManagedReleaseNotifier {
  const idleTimeout = options.idleTimeout ?? 1_000;
  const subscribeTimeout = options.subscribeTimeout ?? 2_000;
  let session: Session | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const openSession = (): Session => {
    const abort = new AbortController();
    const channels = new Map<string, Channel>();
    const dispatch = (channel: string, message?: string) => {
      for (const listener of channels.get(channel)?.listeners ?? []) listener(message);
    };
    // Called through a promise so that an adapter that throws synchronously still only rejects.
    const opening = Promise.resolve().then(() => open(dispatch, abort.signal));
    const opened: Session = { abort, opening, channels, unsubscribing: new Map(), closing: undefined };
    opening.catch(() => {
      // Nothing was opened: the next waiter tries again with a new connection.
      if (session === opened) session = undefined;
      void closeSession(opened);
    });
    return opened;
  };

  const closeSession = (closing: Session): Promise<void> => {
    closing.closing ??= (async () => {
      closing.abort.abort(new Error('the subscriber connection was closed; waiters poll'));
      const deadline = monotonicNow() + SUBSCRIBER_CLOSE_TIMEOUT;
      const connection = await settledWithin(closing.opening, SUBSCRIBER_CLOSE_TIMEOUT);
      if (connection === undefined) {
        // Still opening after the adapter was told to give up: destroy it if it ever opens.
        closing.opening.then(destroySubscriber, () => {});
        return;
      }
      const quit = Promise.resolve()
        .then(() => connection.close())
        .then(() => true);
      if ((await settledWithin(quit, deadline - monotonicNow())) !== true)
        await destroySubscriber(connection);
    })();
    return closing.closing;
  };

  const listenerCount = (current: Session) => {
    let count = 0;
    for (const channel of current.channels.values()) count += channel.listeners.size;
    return count;
  };
  const whenIdle = () => {
    clearTimeout(idleTimer);
    const current = session;
    if (current === undefined || listenerCount(current) > 0) return;
    idleTimer = unrefTimeout(() => {
      if (session !== current || listenerCount(current) > 0) return;
      session = undefined;
      void closeSession(current);
    }, idleTimeout);
  };

  const dropChannel = (current: Session, name: string, channel: Channel) => {
    if (current.channels.get(name) !== channel) return;
    current.channels.delete(name);
    if (current.closing !== undefined) return;
    // Best effort: a failed UNSUBSCRIBE only leaves an idle subscription behind.
    const leaving = current.opening
      .then((connection) => connection.unsubscribe(name))
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        if (current.unsubscribing.get(name) === leaving) current.unsubscribing.delete(name);
      });
    current.unsubscribing.set(name, leaving);
  };

  const joinChannel = (current: Session, name: string): Channel => {
    const existing = current.channels.get(name);
    if (existing !== undefined) return existing;
    const subscribed = (current.unsubscribing.get(name) ?? Promise.resolve())
      .then(() => current.opening)
      .then((connection) => connection.subscribe(name))
      .then(() => {});
    const channel: Channel = { listeners: new Set(), subscribed, confirmed: false };
    current.channels.set(name, channel);
    subscribed.then(
      () => {
        channel.confirmed = true;
        // Everyone who wanted it gave up before Redis confirmed it: it would only cost messages.
        if (channel.listeners.size === 0) dropChannel(current, name, channel);
      },
      () => {
        if (current.channels.get(name) === channel) current.channels.delete(name);
      },
    );
    return channel;
  };

  const leave = (current: Session, name: string, channel: Channel, listener: (message?: string) => void) => {
    channel.listeners.delete(listener);
    if (channel.listeners.size === 0 && channel.confirmed) dropChannel(current, name, channel);
    whenIdle();
  };

  return {
    async subscribe(name, listener, signal) {
      if (closed) throw new Error('this runner was closed; waiters poll');
      if (signal?.aborted) throw signal.reason;
      clearTimeout(idleTimer);
      session ??= openSession();
      const current = session;
      const channel = joinChannel(current, name);
      channel.listeners.add(listener);
      try {
        await confirmation(channel.subscribed, subscribeTimeout, signal);
        if (current.closing !== undefined)
          throw new Error('the subscriber connection was closed; waiters poll');
      } catch (error) {
        leave(current, name, channel, listener);
        throw error;
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        leave(current, name, channel, listener);
      };
    },
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      const current = session;
      session = undefined;
      if (current !== undefined) await closeSession(current);
    },
  };
}

/** Destroys `connection`, or closes it when the adapter cannot destroy. Never rejects. */
export async function destroySubscriber(connection: SubscriberConnection): Promise<void> {
  try {
    await (connection.destroy === undefined ? connection.close() : connection.destroy());
  } catch {
    // Nothing more can be done about a connection that refuses to close.
  }
}

/** `operation`'s value when it resolves within `ms`; `undefined` when it rejects or is late. */
function settledWithin<T>(operation: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = unrefTimeout(() => resolve(undefined), Math.max(0, ms));
    operation.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/**
 * Settles like `subscribed`, or rejects once `ms` have passed or `signal` aborted. The timer is
 * unref'd: a pending subscription alone never keeps the process alive.
 */
function confirmation(subscribed: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      finish();
      reject(signal?.reason);
    };
    const timer = unrefTimeout(() => {
      finish();
      reject(new Error(`Redis did not confirm the subscription within ${ms} ms; waiters poll`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    subscribed.then(
      () => {
        finish();
        resolve();
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}
