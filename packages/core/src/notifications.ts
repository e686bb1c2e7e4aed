/**
 * Release notifications: the optional second capability a runner may offer beside `run`, so that a
 * waiter wakes the moment a lock is released instead of sleeping until its next retry.
 *
 * Adapters implement it with one shared subscriber connection; {@link createChannelHub} does the
 * bookkeeping (many waiters on many locks, one Redis subscription per channel) so that each
 * adapter only says how to subscribe and unsubscribe on its client.
 */
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

/** What a client must do for {@link createChannelHub}: the raw SUBSCRIBE and UNSUBSCRIBE. */
export interface ChannelTransport {
  /** Subscribes the shared connection to `channel`; resolves once Redis confirmed it. */
  subscribe(channel: string): Promise<void>;
  /** Unsubscribes the shared connection from `channel`. */
  unsubscribe(channel: string): Promise<void>;
}

/** A {@link ReleaseNotifier} over one connection, plus the entry point for incoming messages. */
export interface ChannelHub extends ReleaseNotifier {
  /** Hand every message the shared connection receives to this. */
  dispatch(channel: string): void;
}

/**
 * Multiplexes any number of listeners onto one subscriber connection: the first listener of a
 * channel subscribes it, the last one to leave unsubscribes it.
 */
export function createChannelHub(transport: ChannelTransport): ChannelHub {
  const listeners = new Map<string, Set<() => void>>();
  // The pending SUBSCRIBE per channel, so concurrent first listeners all wait for the same one.
  const subscribing = new Map<string, Promise<void>>();

  return {
    async subscribe(channel, listener) {
      let channelListeners = listeners.get(channel);
      if (channelListeners === undefined) {
        channelListeners = new Set();
        listeners.set(channel, channelListeners);
        const pending = transport.subscribe(channel);
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
        throw error;
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = listeners.get(channel);
        current?.delete(listener);
        if (current?.size === 0) {
          listeners.delete(channel);
          // Best effort: a failed UNSUBSCRIBE only leaves an idle subscription behind.
          transport.unsubscribe(channel).catch(() => {});
        }
      };
    },
    dispatch(channel) {
      for (const listener of listeners.get(channel) ?? []) listener();
    },
  };
}
