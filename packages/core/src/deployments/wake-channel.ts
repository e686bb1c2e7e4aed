/**
 * One wake channel per Locker for the waiters of its mutexes (fair or not). A release that hands
 * the lock to a waiter publishes on that waiter's Locker's channel (`"<token> <fence> <grantedMs>
 * <serverNow>"`, lib/hand-to-head.lua), so the waiter owns the lock without a round trip of its
 * own — but only if its process hears the message. A channel per waiter would be subscribed only
 * after the waiter's first attempt registered it, leaving a window in which a hand-off is lost and
 * the lock sits idle until the waiter's next attempt. One channel per Locker, kept subscribed
 * while any of its locks waits (and for `idleTimeout` after), is already confirmed when a waiter
 * registers in a busy system, and a waiter registers as one that may be handed the lock only then
 * ({@link WakeChannel.ready}); otherwise a release only wakes it (`"<token>"`) and it tries itself.
 *
 * @internal
 */
import { nanoid } from 'nanoid';
import { unrefTimeout } from '../clock.js';
import type { ReleaseNotifier, Unsubscribe } from '../port/capabilities.js';
import type { LuaScript, ScriptArg, ScriptRunner } from '../port/runner.js';
import { type AcquireReply, parseAcquireReply, runScript } from './protocol.js';

/** Called with what follows the token in a message: a hand-off, or `''` for a plain wake-up. */
type WakeListener = (message?: string) => void;

/** The messages kept for a token, and how many of its attempts keep its mailbox open. */
interface Mailbox {
  readonly messages: (string | undefined)[];
  attempts: number;
}

export class WakeChannel {
  /** The channel's name: the Locker's prefix, `wake:`, and an id of its own. */
  readonly name: string;
  readonly #notifier: ReleaseNotifier;
  readonly #idleTimeout: number;
  readonly #listeners = new Map<string, WakeListener>();
  // Messages to tokens whose attempt is in flight and that do not listen yet: the reply that makes
  // a waiter listen and a release's message come over different connections, in either order.
  readonly #mailboxes = new Map<string, Mailbox>();
  #subscription: Promise<Unsubscribe> | undefined;
  #ready = false;
  // Attempts in flight that may register a waiter of this Locker: the channel must not be dropped
  // between such an attempt and its waiter's `listen`.
  #attemptsInFlight = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(notifier: ReleaseNotifier, prefix: string, idleTimeout = 1_000) {
    this.#notifier = notifier;
    this.name = `${prefix}wake:${nanoid()}`;
    this.#idleTimeout = idleTimeout;
  }

  /**
   * True while the subscription is confirmed: a message published from now on reaches this
   * process, so an attempt sent now may register its waiter as one a release hands the lock to.
   */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Marks an attempt of `token` that may register it as a waiter; call the returned function once
   * the attempt settled. Messages to `token` that come before it listens are kept for it until the
   * code that runs on the attempt's reply (where a waiter that failed starts listening) has run.
   */
  attemptStarted(token: string): () => void {
    this.#attemptsInFlight += 1;
    clearTimeout(this.#idleTimer);
    let mailbox: Mailbox | undefined;
    if (!this.#listeners.has(token)) {
      mailbox = this.#mailboxes.get(token) ?? { messages: [], attempts: 0 };
      mailbox.attempts += 1;
      this.#mailboxes.set(token, mailbox);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#attemptsInFlight -= 1;
      // Closed in a macrotask: every promise continuation of the reply runs first.
      if (mailbox !== undefined) setTimeout(() => this.#closeMailbox(token, mailbox), 0);
      this.#whenIdle();
    };
  }

  /**
   * Calls `listener` for every message to `token`; resolves once the channel's subscription is
   * confirmed, rejects when it cannot be made (the waiter then polls).
   */
  async listen(token: string, listener: WakeListener): Promise<Unsubscribe> {
    clearTimeout(this.#idleTimer);
    this.#listeners.set(token, listener);
    const mailbox = this.#mailboxes.get(token);
    this.#mailboxes.delete(token);
    for (const message of mailbox?.messages.splice(0) ?? []) listener(message);
    const stop = () => {
      if (this.#listeners.get(token) !== listener) return;
      this.#listeners.delete(token);
      this.#whenIdle();
    };
    try {
      await this.#subscribe();
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  #subscribe(): Promise<Unsubscribe> {
    if (this.#subscription !== undefined) return this.#subscription;
    const subscription = this.#notifier.subscribe(this.name, (message) => this.#dispatch(message));
    this.#subscription = subscription;
    subscription.then(
      () => {
        if (this.#subscription === subscription) this.#ready = true;
      },
      () => {
        if (this.#subscription === subscription) this.#subscription = undefined;
      },
    );
    return subscription;
  }

  #dispatch(message: string | undefined): void {
    if (message === undefined) {
      // A notifier that passes no messages on: every waiter of this Locker tries again.
      for (const listener of [...this.#listeners.values()]) listener(undefined);
      for (const mailbox of this.#mailboxes.values()) mailbox.messages.push(undefined);
      return;
    }
    const space = message.indexOf(' ');
    const token = space === -1 ? message : message.slice(0, space);
    const rest = space === -1 ? '' : message.slice(space + 1);
    const listener = this.#listeners.get(token);
    if (listener !== undefined) listener(rest);
    else this.#mailboxes.get(token)?.messages.push(rest);
  }

  #closeMailbox(token: string, mailbox: Mailbox): void {
    mailbox.attempts -= 1;
    if (mailbox.attempts <= 0 && this.#mailboxes.get(token) === mailbox) this.#mailboxes.delete(token);
  }

  /** Drops the subscription `idleTimeout` after the last waiter left and the last attempt settled. */
  #whenIdle(): void {
    if (this.#listeners.size > 0 || this.#attemptsInFlight > 0 || this.#subscription === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = unrefTimeout(() => {
      if (this.#listeners.size > 0 || this.#attemptsInFlight > 0) return;
      const subscription = this.#subscription;
      this.#subscription = undefined;
      this.#ready = false;
      subscription?.then(
        (unsubscribe) => unsubscribe(),
        () => {},
      );
    }, this.#idleTimeout);
  }
}

/**
 * Sends an attempt that may register its waiter; `args` ends with its `handOff, channel`
 * arguments, filled in here. The waiter may be handed the hold (when `mayHandOff`) only if the
 * wake channel's subscription is confirmed already when the attempt is sent, so that the
 * hand-off's message cannot be missed; and the channel stays subscribed at least until the
 * attempt settled. Shared by the mutexes and the semaphore. @internal
 */
export function sendQueueingAttempt(
  runner: ScriptRunner,
  script: LuaScript,
  keys: readonly string[],
  args: ScriptArg[],
  channel: WakeChannel,
  mayHandOff: boolean,
): Promise<AcquireReply> {
  args[args.length - 2] = mayHandOff && channel.ready ? 1 : 0;
  args[args.length - 1] = channel.name;
  const settled = channel.attemptStarted(args[0] as string);
  // Not `async`: this is every contended attempt's path.
  return runScript(runner, script, keys, args).then(
    (reply) => {
      settled();
      return parseAcquireReply(reply);
    },
    (error: unknown) => {
      settled();
      throw error;
    },
  );
}
