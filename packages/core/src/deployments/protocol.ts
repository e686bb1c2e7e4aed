/**
 * The seam between a lock handle and the kind of hold it takes. A {@link Lock} knows the life of
 * a hold (waiting, renewal, the lost signal, release, `await using`); a protocol knows the Redis
 * side of one primitive: which scripts take, keep, give back and inspect the hold. The mutex, the
 * fair mutex, semaphore permits and read/write holds are protocols, so each gets the whole handle
 * for free.
 *
 * @internal
 */
import { LockRedisError } from '../errors.js';
import type { ReleaseNotifier, Unsubscribe } from '../port/capabilities.js';
import type { LuaScript, ScriptArg, ScriptRunner } from '../port/runner.js';

/** One acquire attempt, as the handle asks for it. */
export interface AcquireRequest {
  readonly token: string;
  readonly ttl: number;
  /** The hold count this token should have afterwards: 1, or more for a reentrant re-entry. */
  readonly holdCount: number;
  /** Mint a fencing token. */
  readonly fencing: boolean;
  /** False for an attempt after which the caller stops waiting: do not leave it queued. */
  readonly mayQueue: boolean;
}

/** What one acquire attempt found. */
export interface AcquireReply {
  readonly acquired: boolean;
  /** The hold's fencing token, when one was minted. */
  readonly fencingToken: number | undefined;
  /** True when the attempt left this token waiting in a queue in Redis (fair lock). */
  readonly queued: boolean;
  /**
   * The server's clock (ms) when the attempt ran, for an attempt that found the lock held and
   * whose protocol may hand the lock over: a later {@link HandOff}'s server time is placed on
   * the waiter's own clock with it.
   */
  readonly serverTime?: number | undefined;
}

/**
 * A lock handed to a waiting token by the release that freed it (the waiter's wake-up message):
 * the token holds it from `serverTime` (the server's clock, ms) for `grantedMs`, with this
 * fencing token.
 */
export interface HandOff {
  readonly fencingToken: number | undefined;
  readonly grantedMs: number;
  readonly serverTime: number;
}

/** What Redis shows about a hold, from one token's point of view. */
export interface HoldStatus {
  /** True when any token holds it (for a semaphore: any permit is out). */
  readonly heldByAnyone: boolean;
  /** Ms until this token's hold expires; 0 when it holds nothing. */
  readonly remainingForToken: number;
}

/** What a release found. */
export type ReleaseResult =
  /** The token's last entry was given back: nothing of it is left. */
  | { readonly kind: 'released' }
  /** Entries were given back, and the token still holds `holdCount` of them. */
  | { readonly kind: 'still-held'; readonly holdCount: number }
  /** The token held nothing: it expired, was deleted, or was never taken. */
  | { readonly kind: 'not-held' };

/** What an extend found. */
export type ExtendResult =
  /** Still held, for `remaining` ms from now. */
  | { readonly kind: 'extended'; readonly remaining: number }
  /**
   * Nothing of this token is held and nobody else holds it either: it ran out, or was deleted
   * (flush, failover). The handle tells which by its own validity deadline.
   */
  | { readonly kind: 'gone' }
  /** Someone else holds it now. */
  | { readonly kind: 'taken' };

export const RELEASED: ReleaseResult = Object.freeze({ kind: 'released' });
export const NOT_HELD: ReleaseResult = Object.freeze({ kind: 'not-held' });
export const GONE: ExtendResult = Object.freeze({ kind: 'gone' });
export const TAKEN: ExtendResult = Object.freeze({ kind: 'taken' });

/**
 * Subscribes `listener` to the wake-ups of `token` (with the message, when the notifier passes
 * it on); resolves once the subscription is confirmed.
 */
export type Subscribe = (token: string, listener: (message?: string) => void) => Promise<Unsubscribe>;

/** The Redis side of one kind of hold. Every call is one script, one round trip. */
export interface HoldProtocol {
  /** Tries once to take (or re-enter) the hold. */
  acquire(request: AcquireRequest): Promise<AcquireReply>;
  /** Lowers the token's hold count to `holdCount`; 0 frees it, and also leaves any queue. */
  release(token: string, holdCount: number): Promise<ReleaseResult>;
  /** Adds `ms` to the hold's remaining time, or sets it to `ms` (`replace`). */
  extend(token: string, ms: number, replace: boolean): Promise<ExtendResult>;
  /** Reads the hold's state. */
  status(token: string): Promise<HoldStatus>;
  /**
   * Tells a waiting token when to try again (a release it may win); `undefined` when the
   * deployment offers no notifications, and waiters only poll.
   */
  readonly subscribe: Subscribe | undefined;
  /**
   * Set when `subscribe` wakes this token itself when it may take the hold: how long a subscribed
   * waiter sleeps at most between attempts (they then only keep its place).
   */
  readonly keepAliveInterval?: number;
  /**
   * Set when a release may hand the hold to a waiting token: reads a wake-up message, and tells
   * whether it handed the hold over (`undefined`: only a wake-up, the waiter tries itself).
   */
  readonly readHandOff?: (message: string | undefined) => HandOff | undefined;
}

/** Decodes a release script's reply: the count left, or a negative number when nothing was held. */
export function releaseResult(reply: unknown): ReleaseResult {
  const left = Number(reply);
  if (!(left >= 0)) return NOT_HELD;
  return left === 0 ? RELEASED : { kind: 'still-held', holdCount: left };
}

/**
 * Decodes an extend script's reply: the remaining ms, -1 when nothing is held, -2 when another
 * token holds it.
 */
export function extendResult(reply: unknown): ExtendResult {
  const remaining = Number(reply);
  if (remaining >= 0) return { kind: 'extended', remaining };
  return remaining === -2 ? TAKEN : GONE;
}

/** The {@link Subscribe} of a protocol whose waiters listen on `channelOf(token)`. */
export function subscribeVia(
  notifier: ReleaseNotifier | undefined,
  channelOf: (token: string) => string,
): Subscribe | undefined {
  if (notifier === undefined) return undefined;
  return (token, listener) => notifier.subscribe(channelOf(token), listener);
}

/**
 * The {@link Subscribe} of a protocol whose waiters listen on all of `channels` (a lock set's
 * members): any of them wakes the waiter. Confirmed once every subscription is; if one fails, the
 * others are dropped and the waiter polls.
 */
export function subscribeToEach(
  notifier: ReleaseNotifier | undefined,
  channels: readonly string[],
): Subscribe | undefined {
  if (notifier === undefined) return undefined;
  if (channels.length === 1) return subscribeVia(notifier, () => channels[0] as string);
  return async (_token, listener) => {
    const subscriptions = await Promise.allSettled(
      channels.map((channel) => notifier.subscribe(channel, listener)),
    );
    const unsubscribes = subscriptions.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    const unsubscribeAll = () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
    const failed = subscriptions.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      unsubscribeAll();
      throw failed.reason;
    }
    return unsubscribeAll;
  };
}

/**
 * Runs a script, turning any failure into a {@link LockRedisError}. Not `async`: this is on every
 * operation's path, and an async wrapper would add a promise and a turn of its own.
 */
export function runScript(
  runner: ScriptRunner,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown>;
/** …and reads the reply with `read`, in the same promise reaction as the failure mapping. */
export function runScript<T>(
  runner: ScriptRunner,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
  read: (reply: unknown) => T,
): Promise<T>;
export function runScript(
  runner: ScriptRunner,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
  read?: (reply: unknown) => unknown,
): Promise<unknown> {
  let call: Promise<unknown>;
  try {
    call = runner.run(script, keys, args);
  } catch (error) {
    return Promise.reject(new LockRedisError(script.name, error));
  }
  // A runner that breaks its contract and answers synchronously still gets a promise.
  return (call instanceof Promise ? call : Promise.resolve(call)).then(read, failureOf(script));
}

// One error mapper per script (scripts are module constants), not a closure per call.
const failureMappers = new WeakMap<LuaScript, (error: unknown) => never>();

function failureOf(script: LuaScript): (error: unknown) => never {
  let mapper = failureMappers.get(script);
  if (mapper === undefined) {
    mapper = (error) => {
      throw new LockRedisError(script.name, error);
    };
    failureMappers.set(script, mapper);
  }
  return mapper;
}

/**
 * Reads an acquire script's reply `{1, count, fence}` or `{0, pttl, queuePosition?, serverNow?}`.
 */
export function parseAcquireReply(reply: unknown): AcquireReply {
  if (!Array.isArray(reply) || Number(reply[0]) !== 1) {
    if (!Array.isArray(reply)) return { acquired: false, fencingToken: undefined, queued: false };
    const serverTime = reply[3] === undefined ? undefined : Number(reply[3]);
    return { acquired: false, fencingToken: undefined, queued: Number(reply[2] ?? 0) > 0, serverTime };
  }
  const fencingToken = Number(reply[2]);
  return { acquired: true, fencingToken: fencingToken > 0 ? fencingToken : undefined, queued: false };
}

/**
 * Reads a hand-off message, `"fence grantedMs serverNow"` (lib/hand-to-head.lua); `undefined` for
 * an empty wake-up, or a message that is not one (a notifier that passes no messages on).
 */
export function parseHandOff(message: string | undefined): HandOff | undefined {
  if (message === undefined || message === '') return undefined;
  const [fence, grantedMs, serverTime] = message.split(' ').map(Number);
  if (fence === undefined || grantedMs === undefined || serverTime === undefined) return undefined;
  if (!(Number.isSafeInteger(fence) && grantedMs > 0 && Number.isSafeInteger(grantedMs))) return undefined;
  if (!Number.isSafeInteger(serverTime)) return undefined;
  return { fencingToken: fence > 0 ? fence : undefined, grantedMs, serverTime };
}
