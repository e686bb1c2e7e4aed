/**
 * Every error @lock throws or reports is a {@link LockError} with a stable `code`.
 *
 * @packageDocumentation
 */

/** The stable, documented codes carried by {@link LockError.code}. */
export type LockErrorCode =
  /** The lock was held elsewhere and every allowed attempt failed (or the wait budget ran out). */
  | 'LOCK_NOT_ACQUIRED'
  /** Waiting for the lock was cancelled through an `AbortSignal`. */
  | 'LOCK_ACQUIRE_ABORTED'
  /** A lock this process held is no longer held: it expired, was taken, or Redis stayed unreachable. */
  | 'LOCK_LOST'
  /** This handle released its hold: the `reason` of `lock.signal` after a normal release. */
  | 'LOCK_RELEASED'
  /** An option, lock name or argument was invalid; nothing was sent to Redis. */
  | 'INVALID_OPTION'
  /** A lock handle was used in a way its state does not allow (e.g. acquire after release). */
  | 'LOCK_MISUSE'
  /** Redis (or the client talking to it) failed; `cause` holds the original error. */
  | 'REDIS_ERROR'
  /**
   * A Redis call did not answer within its deadline (`commandTimeout`, or what was left of the
   * lock's validity or of the wait budget). Whatever it may still do in Redis is cleaned up in the
   * background with the handle's token.
   */
  | 'REDIS_TIMEOUT';

// A global symbol, so errors from two copies of @lock/core in one app still recognise each other.
const LOCK_ERROR_MARKER = Symbol.for('@lock/core.LockError');

/**
 * Base class of every `@lock` error. Check with {@link LockError.isInstance} rather than
 * `instanceof` when more than one copy of the package may be loaded.
 */
export class LockError extends Error {
  /** The `name` given to instances of this class. */
  static readonly errorName: string = 'LockError';

  /** A stable, machine-readable code; see {@link LockErrorCode}. */
  readonly code: LockErrorCode;

  constructor(code: LockErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = (new.target as typeof LockError).errorName;
    Object.defineProperty(this, LOCK_ERROR_MARKER, { value: true });
  }

  /**
   * True when `value` is an `@lock` error of any class, even one created by another copy of the
   * package. Each subclass has its own `isInstance` for its own kind. Safe to pass detached, e.g.
   * `errors.filter(LockError.isInstance)`.
   */
  static readonly isInstance: (value: unknown) => value is LockError = (value) => hasLockErrorMarker(value);
}

function hasLockErrorMarker(value: unknown): value is LockError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<PropertyKey, unknown>)[LOCK_ERROR_MARKER] === true
  );
}

/** `isInstance` for one subclass: the marker plus that class's `name`. */
function isLockErrorNamed<T extends LockError>(errorName: string): (value: unknown) => value is T {
  return (value): value is T => hasLockErrorMarker(value) && value.name === errorName;
}

/** Why a lock could not be had. */
export class LockAcquireError extends LockError {
  static override readonly errorName: string = 'LockAcquireError';
  /** True when `value` is a LockAcquireError, even from another copy of the package. */
  static override readonly isInstance = isLockErrorNamed<LockAcquireError>('LockAcquireError');

  /** The lock's name (without prefix). */
  readonly lockName: string;
  /** How many acquire attempts were sent to Redis. */
  readonly attempts: number;
  /** How long the caller waited in total, in milliseconds. */
  readonly waited: number;

  constructor(
    code: 'LOCK_NOT_ACQUIRED' | 'LOCK_ACQUIRE_ABORTED',
    details: { lockName: string; attempts: number; waited: number; cause?: unknown },
  ) {
    const why =
      code === 'LOCK_ACQUIRE_ABORTED'
        ? 'waiting was aborted'
        : `it is held elsewhere (${details.attempts} attempt${details.attempts === 1 ? '' : 's'})`;
    super(code, `Could not acquire lock "${details.lockName}": ${why}.`, { cause: details.cause });
    this.lockName = details.lockName;
    this.attempts = details.attempts;
    this.waited = details.waited;
  }
}

/**
 * Why a held lock ended:
 * - `expired`: its time ran out before it was renewed or extended;
 * - `taken`: Redis shows another owner, or no lock at all while its time had not yet run out
 *   (deleted, flushed, or lost in a failover);
 * - `unreachable`: Redis could not be reached until the lock's validity deadline passed.
 *
 * A normal release is not a loss: it ends the hold with a {@link LockReleasedError}.
 */
export type LockLostReason = 'expired' | 'taken' | 'unreachable';

/**
 * A held lock was lost: the `reason` of its `signal` and what the `onLost` hook reports. A normal
 * release is never a `LockLostError` (the signal's reason is then a {@link LockReleasedError}).
 */
export class LockLostError extends LockError {
  static override readonly errorName: string = 'LockLostError';
  /** True when `value` is a LockLostError, even from another copy of the package. */
  static override readonly isInstance = isLockErrorNamed<LockLostError>('LockLostError');

  readonly lockName: string;
  readonly reason: LockLostReason;

  constructor(lockName: string, reason: LockLostReason, options?: { cause?: unknown }) {
    const messages: Record<LockLostReason, string> = {
      expired: 'its ttl ran out before it was renewed',
      taken: 'Redis no longer shows this holder as the owner',
      unreachable: 'Redis was unreachable until its validity deadline passed',
    };
    super('LOCK_LOST', `Lock "${lockName}" is no longer held: ${messages[reason]}.`, options);
    this.lockName = lockName;
    this.reason = reason;
  }
}

/**
 * The `reason` of a lock's `signal` after this handle released its hold (the normal end of a
 * hold; also what a wait cancelled by `release()` reports as its `cause`). Work that listens to the
 * signal stops either way; code that cares only about losses checks `LockLostError.isInstance`.
 */
export class LockReleasedError extends LockError {
  static override readonly errorName: string = 'LockReleasedError';
  /** True when `value` is a LockReleasedError, even from another copy of the package. */
  static override readonly isInstance = isLockErrorNamed<LockReleasedError>('LockReleasedError');

  readonly lockName: string;

  constructor(lockName: string) {
    super('LOCK_RELEASED', `Lock "${lockName}" was released by its holder.`);
    this.lockName = lockName;
  }
}

/** An option, lock name or argument was invalid. Thrown before anything is sent to Redis. */
export class LockOptionError extends LockError {
  static override readonly errorName: string = 'LockOptionError';
  /** True when `value` is a LockOptionError, even from another copy of the package. */
  static override readonly isInstance = isLockErrorNamed<LockOptionError>('LockOptionError');

  /** The option or argument at fault, e.g. `ttl` or `name`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super('INVALID_OPTION', `Invalid ${option}: ${message}`);
    this.option = option;
  }
}

/** A lock handle was used in a way its state does not allow. Nothing was sent to Redis. */
export class LockMisuseError extends LockError {
  static override readonly errorName: string = 'LockMisuseError';
  /** True when `value` is a LockMisuseError, even from another copy of the package. */
  static override readonly isInstance = isLockErrorNamed<LockMisuseError>('LockMisuseError');

  constructor(message: string) {
    super('LOCK_MISUSE', message);
  }
}

/**
 * One server of a Redlock `Locker` (several independent servers) that failed during an operation,
 * as listed in {@link LockRedisError.failures}.
 */
export interface RedisServerFailure {
  /** The server's position in the array of runners given to the `Locker`. */
  readonly index: number;
  /** The runner's own description (e.g. `127.0.0.1:6380`), when its adapter offers one. */
  readonly server: string | undefined;
  /** What the client reported. */
  readonly error: unknown;
}

/**
 * Redis, or the client in front of it, failed (`code: 'REDIS_ERROR'`) or did not answer in time
 * (`code: 'REDIS_TIMEOUT'`). The original error is the `cause`.
 */
export class LockRedisError extends LockError {
  static override readonly errorName: string = 'LockRedisError';
  /** True when `value` is a LockRedisError, even from another copy of the package. */
  static override readonly isInstance = isLockErrorNamed<LockRedisError>('LockRedisError');

  declare readonly code: 'REDIS_ERROR' | 'REDIS_TIMEOUT';
  /** The name of the Lua script that was being run. */
  readonly script: string;
  /**
   * Redlock only (a `Locker` over several servers): the servers that failed when too few answered
   * to reach a quorum, in index order. The message lists them too; `cause` is an `AggregateError`
   * of their errors. `undefined` for a single server.
   */
  readonly failures: readonly RedisServerFailure[] | undefined;

  constructor(
    script: string,
    cause: unknown,
    quorum?: { readonly failures: readonly RedisServerFailure[]; readonly servers: number },
  ) {
    const timedOut =
      cause instanceof RedisCallTimeout ||
      (quorum !== undefined &&
        quorum.failures.length > 0 &&
        quorum.failures.every(({ error }) => error instanceof RedisCallTimeout));
    const message =
      quorum === undefined
        ? `Redis ${timedOut ? 'did not answer in time' : 'failed'} while running "${script}": ${describeError(cause)}`
        : `Redis failed while running "${script}" on ${quorum.failures.length} of ${quorum.servers} servers, ` +
          `so no majority (${Math.floor(quorum.servers / 2) + 1}) could be reached: ` +
          quorum.failures.map(describeFailure).join('; ');
    super(timedOut ? 'REDIS_TIMEOUT' : 'REDIS_ERROR', message, { cause });
    this.script = script;
    this.failures = quorum?.failures;
  }
}

/**
 * The `cause` of a `REDIS_TIMEOUT` {@link LockRedisError}: the call was still unanswered after
 * `timeout` ms. The call itself may still reach Redis later.
 */
export class RedisCallTimeout extends Error {
  override readonly name = 'RedisCallTimeout';
  /** The deadline the call missed, in ms. */
  readonly timeout: number;

  constructor(timeout: number) {
    super(`no reply within ${timeout} ms`);
    this.timeout = timeout;
  }
}

function describeFailure({ index, server, error }: RedisServerFailure): string {
  return `server ${index}${server === undefined ? '' : ` (${server})`}: ${describeError(error)}`;
}

/** A client error as text, also for the ones with an empty message (node-redis' closed client). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  const kind = error.name !== 'Error' ? error.name : error.constructor?.name;
  return kind && kind !== 'Error' ? `${kind} (no message)` : 'an error without a message';
}
