/**
 * Release notifications: the optional second capability a runner may offer beside `run`, so that a
 * waiter wakes the moment a lock is released instead of sleeping until its next retry.
 *
 * {@link createReleaseNotifier} holds all of the bookkeeping (one subscriber connection opened on
 * first use and closed when idle, one Redis subscription per channel however many waiters share
 * it), so that an adapter only says how to open a subscriber connection on its client.
 */
import { unrefTimeout } from './clock.js';
import type { ScriptRunner } from './runner.js';

/** Stops a subscription made with {@link ReleaseNotifier.subscribe}. Never rejects. */
export type Unsubscribe = () => void;

/**
 * A source of release notifications. Kept apart from {@link ScriptRunner} so the port stays one
 * method; core uses it when the runner also implements it and polls otherwise.
 */
export interface ReleaseNotifier {
  /**
   * Calls `listener` for every message on `channel`. Resolves once Redis has confirmed the
   * subscription, so that a release published after that point cannot be missed.
   */
  subscribe(channel: string, listener: () => void): Promise<Unsubscribe>;
}

/** True when `runner` also delivers release notifications. */
export function hasReleaseNotifier(runner: ScriptRunner): runner is ScriptRunner & ReleaseNotifier {
  return typeof (runner as Partial<ReleaseNotifier>).subscribe === 'function';
}

/** One subscriber connection, as an adapter opens it for {@link createReleaseNotifier}. */
export interface SubscriberConnection {
  /** SUBSCRIBE; resolves once Redis confirmed it. */
  subscribe(channel: string): Promise<void>;
  /** UNSUBSCRIBE. */
  unsubscribe(channel: string): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * Opens a subscriber connection (typically the user's client's `duplicate()`) that calls
 * `onMessage(channel)` for every message it receives.
 */
export type OpenSubscriberConnection = (
  onMessage: (channel: string) => void,
) => Promise<SubscriberConnection>;

/** A {@link ReleaseNotifier} that owns its connection. */
export interface ManagedReleaseNotifier extends ReleaseNotifier {
  /** Closes the subscriber connection now; later subscriptions fail, so waiters poll. */
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
}

/**
 * Multiplexes any number of waiters onto one subscriber connection: opened when the first waiter
 * subscribes, subscribed once per channel, and closed `idleTimeout` ms after the last waiter left.
 */
export function createReleaseNotifier(
  open: OpenSubscriberConnection,
  options: ReleaseNotifierOptions = {},
): ManagedReleaseNotifier {
  const idleTimeout = options.idleTimeout ?? 1_000;
  const listeners = new Map<string, Set<() => void>>();
  // The pending SUBSCRIBE per channel, so concurrent first listeners all wait for the same one.
  const subscribing = new Map<string, Promise<void>>();
  // The pending UNSUBSCRIBE per channel: a new SUBSCRIBE to it waits for that first, because some
  // clients (node-redis) drop a subscription made while an unsubscribe of it is in flight.
  const unsubscribing = new Map<string, Promise<void>>();
  let connection: Promise<SubscriberConnection> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const dispatch = (channel: string) => {
    for (const listener of listeners.get(channel) ?? []) listener();
  };
  const connect = (): Promise<SubscriberConnection> => {
    if (closed) return Promise.reject(new Error('this runner was closed; waiters poll'));
    if (connection === undefined) {
      const opening = open(dispatch);
      connection = opening;
      opening.catch(() => {
        if (connection === opening) connection = undefined;
      });
    }
    return connection;
  };
  const closeConnection = async () => {
    const current = connection;
    connection = undefined;
    listeners.clear();
    subscribing.clear();
    unsubscribing.clear();
    await (await current?.catch(() => undefined))?.close();
  };
  const whenIdle = () => {
    clearTimeout(idleTimer);
    if (listeners.size === 0)
      idleTimer = unrefTimeout(() => void closeConnection().catch(() => {}), idleTimeout);
  };

  return {
    async subscribe(channel, listener) {
      clearTimeout(idleTimer);
      let channelListeners = listeners.get(channel);
      if (channelListeners === undefined) {
        channelListeners = new Set();
        listeners.set(channel, channelListeners);
        const pending = (unsubscribing.get(channel) ?? Promise.resolve())
          .then(connect)
          .then((subscriber) => subscriber.subscribe(channel));
        subscribing.set(channel, pending);
        pending.then(
          () => subscribing.delete(channel),
          () => subscribing.delete(channel),
        );
      }
      channelListeners.add(listener);
      try {
        await subscribing.get(channel);
      } catch (error) {
        channelListeners.delete(listener);
        if (channelListeners.size === 0) listeners.delete(channel);
        whenIdle();
        throw error;
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = listeners.get(channel);
        current?.delete(listener);
        if (current?.size !== 0) return;
        listeners.delete(channel);
        // Best effort: a failed UNSUBSCRIBE only leaves an idle subscription behind.
        const leaving = (connection ?? Promise.reject(new Error('no connection')))
          .then((subscriber) => subscriber.unsubscribe(channel))
          .catch(() => {})
          .finally(() => {
            if (unsubscribing.get(channel) === leaving) unsubscribing.delete(channel);
          });
        unsubscribing.set(channel, leaving);
        whenIdle();
      };
    },
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      await closeConnection();
    },
  };
}
