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
}

/** What Redis shows about a hold, from one token's point of view. */
export interface HoldStatus {
  /** True when any token holds it (for a semaphore: any permit is out). */
  readonly heldByAnyone: boolean;
  /** Ms until this token's hold expires; 0 when it holds nothing. */
  readonly remainingForToken: number;
}

/** The Redis side of one kind of hold. Every call is one script, one round trip. */
export interface HoldProtocol {
  /** Tries once to take (or re-enter) the hold. */
  acquire(request: AcquireRequest): Promise<AcquireReply>;
  /**
   * Lowers the token's hold count to `holdCount` (0 frees it, and also leaves any queue).
   * Resolves the count left, or -1 when the token did not hold it.
   */
  release(token: string, holdCount: number): Promise<number>;
  /**
   * Adds `ms` to the hold's remaining time, or sets it (`replace`). Resolves the new remaining
   * ms, -1 when nothing is held any more, -2 when someone else holds it.
   */
  extend(token: string, ms: number, replace: boolean): Promise<number>;
  /** Reads the hold's state. */
  status(token: string): Promise<HoldStatus>;
  /** The channel on which this token is told to try again, when the runner offers notifications. */
  wakeChannel(token: string): string;
}

/** Runs a script, turning any failure into a {@link LockRedisError}. */
export async function runScript(
  runner: ScriptRunner,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  try {
    return await runner.run(script, keys, args);
  } catch (error) {
    throw new LockRedisError(script.name, error);
  }
}

/** Reads an acquire script's reply `{1, count, fence}` or `{0, pttl, queuePosition?}`. */
export function parseAcquireReply(reply: unknown): AcquireReply {
  if (!Array.isArray(reply) || Number(reply[0]) !== 1) {
    const position = Array.isArray(reply) ? Number(reply[2] ?? 0) : 0;
    return { acquired: false, fencingToken: undefined, queued: position > 0 };
  }
  const fencingToken = Number(reply[2]);
  return { acquired: true, fencingToken: fencingToken > 0 ? fencingToken : undefined, queued: false };
}
