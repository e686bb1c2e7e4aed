/**
 * The mutex's Redis side: one owner at a time, optionally reentrant, optionally fair (waiters
 * served in arrival order, only the next one woken). Both variants share the lock hash, so
 * `extend`, `inspect` and the fencing counter are the same for both.
 */

import {
  type AcquireReply,
  type AcquireRequest,
  type ExtendResult,
  extendResult,
  type HandOff,
  type HoldProtocol,
  type HoldStatus,
  parseAcquireReply,
  parseHandOff,
  type ReleaseResult,
  releaseResult,
  runScript,
  type Subscribe,
} from '../deployments/protocol.js';
import { sendQueueingAttempt, type WakeChannel } from '../deployments/wake-channel.js';
import {
  fencingCounterKey,
  mutexWaiterDeadlinesKey,
  mutexWaitersKey,
  queueDeadlinesKey,
  queueKey,
  waiterTermsKey,
} from '../keys.js';
import type { ResolvedLockOptions } from '../options.js';
import type { LuaScript, ScriptArg, ScriptRunner } from '../port/runner.js';
import {
  ACQUIRE_SCRIPT,
  EXTEND_SCRIPT,
  FAIR_ACQUIRE_SCRIPT,
  FAIR_RELEASE_SCRIPT,
  INSPECT_SCRIPT,
  RELEASE_SCRIPT,
} from '../scripts/index.js';

/**
 * The protocol of a mutex at `key` on one server (or one Cluster): fair when `options.fair` is
 * set. Releases hand the lock to waiters, and wake them, on `wakeChannel`; without one waiters
 * poll. @internal
 */
export function mutexProtocol(
  runner: ScriptRunner,
  wakeChannel: WakeChannel | undefined,
  key: string,
  options: ResolvedLockOptions,
): HoldProtocol {
  return options.fair
    ? new FairMutexProtocol(runner, wakeChannel, key, options)
    : new MutexProtocol(runner, wakeChannel, key, options);
}

// Classes rather than closures: a protocol is made per lock handle, on the fast path.
class MutexProtocol implements HoldProtocol {
  protected readonly runner: ScriptRunner;
  protected readonly lockKeys: readonly [lock: string, fencingCounter: string];
  protected readonly placeTtl: number;
  protected readonly wakeChannel: WakeChannel | undefined;
  // A release may hand the lock to this handle's token while it waits: not when the hold must be
  // confirmed by replicas, which a hand-off, taken by the releaser's script, cannot wait for.
  readonly #mayHandOff: boolean;
  readonly #waiterKeys: readonly string[];
  readonly #bargeBound: number;
  readonly subscribe: Subscribe | undefined;
  readonly keepAliveInterval: number;
  readonly readHandOff: ((message: string | undefined) => HandOff | undefined) | undefined;

  constructor(
    runner: ScriptRunner,
    wakeChannel: WakeChannel | undefined,
    key: string,
    options: ResolvedLockOptions,
  ) {
    this.runner = runner;
    this.lockKeys = [key, fencingCounterKey(key)];
    const waiters = mutexWaitersKey(key);
    this.#waiterKeys = [...this.lockKeys, waiters, mutexWaiterDeadlinesKey(key), waiterTermsKey(waiters)];
    this.wakeChannel = wakeChannel;
    this.#mayHandOff = options.replicas === undefined;
    this.readHandOff = this.#mayHandOff ? parseHandOff : undefined;
    this.placeTtl = queuePlaceTtl(options);
    this.keepAliveInterval = keepAliveInterval(this.placeTtl);
    this.#bargeBound = bargeBound(options);
    // A release wakes only the waiter it hands the lock to (or may serve), by its token.
    this.subscribe =
      wakeChannel === undefined ? undefined : (token, listener) => wakeChannel.listen(token, listener);
  }

  acquire({ token, ttl, holdCount, fencing, mayQueue }: AcquireRequest): Promise<AcquireReply> {
    const placeTtl = mayQueue ? this.placeTtl : 0;
    if (mayQueue && this.wakeChannel !== undefined) {
      const args = [token, ttl, holdCount, fencing ? 1 : 0, placeTtl, this.#bargeBound, 0, ''];
      return this.queueingAttempt(ACQUIRE_SCRIPT, this.#waiterKeys, args, this.wakeChannel);
    }
    // Without the hand-off arguments: every argument is encoded and sent on every call.
    const args = [token, ttl, holdCount, fencing ? 1 : 0, placeTtl, this.#bargeBound];
    return runScript(this.runner, ACQUIRE_SCRIPT, this.#waiterKeys, args, parseAcquireReply);
  }

  protected queueingAttempt(
    script: LuaScript,
    keys: readonly string[],
    args: ScriptArg[],
    channel: WakeChannel,
  ): Promise<AcquireReply> {
    return sendQueueingAttempt(this.runner, script, keys, args, channel, this.#mayHandOff);
  }

  release(token: string, holdCount: number): Promise<ReleaseResult> {
    return runScript(this.runner, RELEASE_SCRIPT, this.#waiterKeys, [token, holdCount], releaseResult);
  }

  extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    const args = [token, ms, replace ? 1 : 0];
    return runScript(this.runner, EXTEND_SCRIPT, this.lockKeys, args, extendResult);
  }

  async status(token: string): Promise<HoldStatus> {
    const { owner, remaining } = await inspectLock(this.runner, this.lockKeys);
    return { heldByAnyone: owner !== null, remainingForToken: owner === token ? remaining : 0 };
  }
}

class FairMutexProtocol extends MutexProtocol {
  readonly #fairKeys: readonly string[];

  constructor(
    runner: ScriptRunner,
    wakeChannel: WakeChannel | undefined,
    key: string,
    options: ResolvedLockOptions,
  ) {
    super(runner, wakeChannel, key, options);
    const queue = queueKey(key);
    this.#fairKeys = [...this.lockKeys, queue, queueDeadlinesKey(key), waiterTermsKey(queue)];
  }

  override acquire({ token, ttl, holdCount, fencing, mayQueue }: AcquireRequest): Promise<AcquireReply> {
    if (mayQueue && this.wakeChannel !== undefined) {
      const args = [token, ttl, holdCount, fencing ? 1 : 0, this.placeTtl, 0, ''];
      return this.queueingAttempt(FAIR_ACQUIRE_SCRIPT, this.#fairKeys, args, this.wakeChannel);
    }
    const args = [token, ttl, holdCount, fencing ? 1 : 0, mayQueue ? this.placeTtl : 0];
    return runScript(this.runner, FAIR_ACQUIRE_SCRIPT, this.#fairKeys, args, parseAcquireReply);
  }

  override release(token: string, holdCount: number): Promise<ReleaseResult> {
    return runScript(this.runner, FAIR_RELEASE_SCRIPT, this.#fairKeys, [token, holdCount], releaseResult);
  }
}

/**
 * How long a waiter subscribed to its own wake channel sleeps at most between two attempts: the
 * release wakes it, so the attempt only renews its place (a third of its lifetime leaves two
 * tries before it lapses) and covers a wake-up that was lost (a subscriber connection that
 * reconnected, a holder that expired without releasing).
 */
export function keepAliveInterval(placeTtl: number): number {
  return Math.floor(placeTtl / 3);
}

/**
 * How long the longest-waiting waiter of a (non-fair) mutex may be passed over by attempts that
 * find the lock free, before only it may take the lock: two retry delays, and at least 100 ms, so
 * that a releaser's immediate next attempt keeps the lock busy while short waits stay short.
 */
export function bargeBound(options: ResolvedLockOptions): number {
  return Math.max(100, 2 * options.retryDelay);
}

/**
 * How long a waiter keeps its place without trying again. Every attempt renews it, so
 * it only has to outlast the longest sleep between two attempts, with room for a slow round
 * trip; it is also how long a crashed waiter can hold up the ones behind it.
 */
export function queuePlaceTtl(options: ResolvedLockOptions): number {
  const longestSleep =
    options.backoff === 'fixed' ? options.retryDelay + options.retryJitter : options.maxRetryDelay;
  return 2 * longestSleep + 1_000;
}

/** What Redis shows about one lock, for operators. */
export interface LockInspection {
  /** The holder's owner token, or `null` when the lock is free. */
  readonly owner: string | null;
  /** Milliseconds until the lock expires; 0 when it is free. */
  readonly remaining: number;
  /** How many times the holder has entered it (0 when free). */
  readonly holdCount: number;
  /** The current holder's fencing token, or `null` (free, or held without fencing). */
  readonly fencingToken: number | null;
  /** The highest fencing token ever minted for this name, or `null` if none was. */
  readonly lastFencingToken: number | null;
}

/** Reads one lock's state in one round trip. @internal */
export async function inspectLock(
  runner: ScriptRunner,
  keys: readonly [lock: string, fencingCounter: string],
): Promise<LockInspection> {
  const reply = await runScript(runner, INSPECT_SCRIPT, keys, []);
  const [owner, pttl, count, fence, lastFence] = Array.isArray(reply) ? reply : [];
  const positiveOrNull = (value: unknown) => (Number(value) > 0 ? Number(value) : null);
  const held = typeof owner === 'string';
  return {
    owner: held ? owner : null,
    remaining: held ? Math.max(0, Number(pttl)) : 0,
    holdCount: held ? Number(count) : 0,
    fencingToken: held ? positiveOrNull(fence) : null,
    lastFencingToken: positiveOrNull(lastFence),
  };
}
