/**
 * Option types, their defaults (applied in exactly one place: {@link resolveLockOptions}), and
 * validation. Every duration is in milliseconds. Invalid input throws a {@link LockOptionError}
 * before anything is sent to Redis. Wherever options are taken, `null` is the same as none, and
 * anything else that is not an object is refused.
 */
import { clockDrift } from './clock.js';
import type { ReplicaAcknowledgement } from './deployments/replicas.js';
import { LockOptionError } from './errors.js';
import { MAX_TIMER_MS } from './handle/deadline.js';
import type { LockHooks } from './handle/hooks.js';

/** How the wait between two acquire attempts grows. */
export type BackoffStrategy = 'fixed' | 'exponential';

/** Options of one lock; set them on the `Locker` as defaults, or per call. */
export interface LockOptions {
  /**
   * How long the lock lives in Redis unless extended or renewed, in ms. If the holder crashes, the
   * lock frees itself after at most this long.
   * @default 30000
   */
  ttl?: number;
  /**
   * How many times to wait and retry after the first attempt finds the lock held (or fails because
   * Redis did not answer): an acquire makes at most `retryCount + 1` attempts. `Infinity` retries
   * until `waitTimeout` or the `signal` ends the wait.
   * @default 0, or Infinity when `waitTimeout` is set
   */
  retryCount?: number;
  /**
   * Base wait between attempts, in ms.
   * @default 100
   */
  retryDelay?: number;
  /**
   * With `backoff: 'fixed'`, each wait is `retryDelay` plus or minus a random amount up to this
   * many ms, so that waiters do not retry in lockstep.
   * @default retryDelay / 2
   */
  retryJitter?: number;
  /**
   * `fixed`: wait `retryDelay ± retryJitter`. `exponential`: capped exponential backoff with full
   * jitter: a random wait between 0 and `min(maxRetryDelay, retryDelay × 2^attempt)`.
   * @default 'fixed'
   */
  backoff?: BackoffStrategy;
  /**
   * Upper bound of one wait with `backoff: 'exponential'`, in ms.
   * @default 2000
   */
  maxRetryDelay?: number;
  /**
   * Overall budget for waiting, in ms: no attempt starts after it has passed, and an acquire
   * settles at the latest 200 ms after it (an attempt still unanswered
   * then is abandoned and cleaned up). `0` makes exactly one attempt. Within the budget, an attempt
   * that fails because Redis did not answer is retried like one that found the lock held.
   * @default Infinity
   */
  waitTimeout?: number;
  /**
   * How long one Redis call may take, in ms: an acquire attempt, a release, an extend, a status
   * check, an `inspect` and each renewal. A call still unanswered then rejects with a
   * `REDIS_TIMEOUT` `LockRedisError` (renewal retries until the lock's validity ends); what it may
   * still do in Redis is undone in the background with the handle's token. Calls on a held lock
   * are also bounded by the time left on the lock. Independent of the client's own timeouts,
   * which by default wait far longer.
   * @default ttl / 3, at least 500 and at most 2000
   */
  commandTimeout?: number;
  /**
   * Keep the lock alive in the background until it is released.
   * @default false
   */
  autoRenewal?: boolean;
  /**
   * How often auto-renewal resets the lock's expiry to `ttl`, in ms, counted from when the previous
   * renewal was sent. At most `ttl − drift − margin` (drift: `ttl × 1% + 2 ms`; margin:
   * `ttl / 10`, at least 5 ms), so each renewal has time to answer before the lock's validity ends.
   * @default ttl / 3 (rounded down)
   */
  renewalInterval?: number;
  /**
   * Let the holder acquire the lock again through the same handle: a count goes up on each
   * acquire and down on each release; the lock is freed when it reaches zero.
   * @default false
   */
  reentrant?: boolean;
  /**
   * Mint a fencing token on each acquire (`lock.fencingToken`): an integer that strictly increases
   * per lock name, for stores that must reject writes from a holder that lost the lock. Costs one
   * INCR inside the acquire script and one small counter key per lock name that never expires
   * (so tokens never go backwards); turn it off for unbounded name spaces you never fence.
   * @default true
   */
  fencing?: boolean;
  /**
   * Serve waiters in arrival order: a free lock goes to the longest-waiting client, and a release
   * wakes only that one (no thundering herd, no barging by the releaser). Waiters queue in Redis;
   * a waiter that crashes or gives up leaves the queue at once or after `2 × (longest retry sleep)
   * + 1 s`. Every client locking a name must use the same setting: a non-fair acquire ignores the
   * queue (mutual exclusion still holds).
   * @default false
   */
  fair?: boolean;
  /**
   * After acquiring, and after each extend or renewal, send `WAIT count timeout` and require
   * `count` replicas of the primary to acknowledge the lock within `timeout` ms. An acquire they
   * did not acknowledge in time is released and counts as not acquired; an extend or renewal they
   * did not acknowledge rejects with a `LockRedisError` (renewal retries until the lock's
   * deadline). Best effort, as Redis documents WAIT. Needs a runner that can wait for replicas
   * (both adapters on a plain client); not with several runners (Redlock).
   * @default undefined (no waiting)
   */
  replicas?: ReplicaAcknowledgement;
}

/** Options of a `Locker`: lock defaults plus settings of the Locker itself. */
export interface LockerOptions extends LockOptions {
  /**
   * Prepended to every lock name to form its Redis key: `${prefix}{${name}}`. Must not contain
   * `{` or `}`: the `{name}` must be the key's hash tag, which keeps a lock's keys in one Redis
   * Cluster slot.
   * @default 'lock:'
   */
  prefix?: string;
  /**
   * A nested `withLock` (or `locked()` function) on a name that the same async call chain already
   * holds through this Locker runs inside the outer hold instead of waiting for itself. Needs
   * `AsyncLocalStorage` (Node ≥ 20.16, Bun, Deno); elsewhere nested calls contend as usual.
   * @default true
   */
  asyncReentrancy?: boolean;
  /** Observability hooks; see {@link LockHooks}. */
  hooks?: LockHooks;
}

/** Lock options with every default applied and every value checked. */
export interface ResolvedLockOptions {
  readonly ttl: number;
  readonly retryCount: number;
  readonly retryDelay: number;
  readonly retryJitter: number;
  readonly backoff: BackoffStrategy;
  readonly maxRetryDelay: number;
  readonly waitTimeout: number;
  readonly commandTimeout: number;
  readonly autoRenewal: boolean;
  readonly renewalInterval: number;
  readonly reentrant: boolean;
  readonly fencing: boolean;
  readonly fair: boolean;
  readonly replicas: ReplicaAcknowledgement | undefined;
}

/** The fixed defaults. Defaults derived from other options are computed in `resolveLockOptions`. */
export const DEFAULTS = Object.freeze({
  prefix: 'lock:',
  ttl: 30_000,
  retryDelay: 100,
  backoff: 'fixed' as BackoffStrategy,
  maxRetryDelay: 2_000,
  waitTimeout: Number.POSITIVE_INFINITY,
  autoRenewal: false,
  reentrant: false,
  fencing: true,
  fair: false,
});

/** The shortest ttl accepted: anything shorter is gone before a round trip can use it. */
export const MIN_TTL = 20;

/**
 * How long after `waitTimeout` an acquire settles at the latest, in ms: the grace given to the
 * attempt that was sent just before the budget ran out.
 */
export const WAIT_TIMEOUT_MARGIN = 200;

/**
 * How long before a held lock's validity ends its last renewal is sent, at the latest: the time a
 * renewal gets to answer. `ttl / 10`, at least 5 ms.
 */
export function renewalMargin(ttl: number): number {
  return Math.max(5, Math.floor(ttl / 10));
}

const LOCK_OPTION_NAMES: readonly (keyof LockOptions)[] = [
  'ttl',
  'retryCount',
  'retryDelay',
  'retryJitter',
  'backoff',
  'maxRetryDelay',
  'waitTimeout',
  'commandTimeout',
  'autoRenewal',
  'renewalInterval',
  'reentrant',
  'fencing',
  'fair',
  'replicas',
];

/**
 * Merges per-call options over Locker defaults, applies the defaults, and validates the result.
 * Unknown option names are rejected so that a typo (or `timeout` meant as `ttl`) does not
 * silently fall back to a default.
 */
export function resolveLockOptions(
  base: LockOptions,
  overrides: LockOptions | null | undefined,
): ResolvedLockOptions {
  if (overrides !== undefined && overrides !== null) checkKnownKeys(overrides, LOCK_OPTION_NAMES);
  const merged: LockOptions = { ...base, ...stripUndefined(overrides) };

  const ttl = merged.ttl ?? DEFAULTS.ttl;
  checkPositiveInteger('ttl', ttl);
  if (ttl < MIN_TTL) {
    throw new LockOptionError(
      'ttl',
      `must be at least ${MIN_TTL} ms: a shorter lock expires before a round trip can use it; got ${ttl}.`,
    );
  }

  const waitTimeout = merged.waitTimeout ?? DEFAULTS.waitTimeout;
  checkDuration('waitTimeout', waitTimeout, { allowInfinity: true });

  const retryCount = merged.retryCount ?? (merged.waitTimeout === undefined ? 0 : Number.POSITIVE_INFINITY);
  if (
    typeof retryCount !== 'number' ||
    !(Number.isSafeInteger(retryCount) || retryCount === Number.POSITIVE_INFINITY) ||
    retryCount < 0
  ) {
    throw new LockOptionError(
      'retryCount',
      `expected a non-negative integer or Infinity, got ${describe(retryCount)}.`,
    );
  }

  const retryDelay = merged.retryDelay ?? DEFAULTS.retryDelay;
  checkDuration('retryDelay', retryDelay);
  const retryJitter = merged.retryJitter ?? Math.floor(retryDelay / 2);
  checkDuration('retryJitter', retryJitter);
  const maxRetryDelay = merged.maxRetryDelay ?? Math.max(DEFAULTS.maxRetryDelay, retryDelay);
  checkDuration('maxRetryDelay', maxRetryDelay);

  const backoff = merged.backoff ?? DEFAULTS.backoff;
  if (backoff !== 'fixed' && backoff !== 'exponential') {
    throw new LockOptionError('backoff', `expected 'fixed' or 'exponential', got ${describe(backoff)}.`);
  }

  const autoRenewal = merged.autoRenewal ?? DEFAULTS.autoRenewal;
  checkBoolean('autoRenewal', autoRenewal);
  const reentrant = merged.reentrant ?? DEFAULTS.reentrant;
  checkBoolean('reentrant', reentrant);
  const fencing = merged.fencing ?? DEFAULTS.fencing;
  checkBoolean('fencing', fencing);
  const fair = merged.fair ?? DEFAULTS.fair;
  checkBoolean('fair', fair);

  const renewalInterval = merged.renewalInterval ?? Math.max(1, Math.floor(ttl / 3));
  checkPositiveInteger('renewalInterval', renewalInterval);
  const longestInterval = ttl - clockDrift(ttl) - renewalMargin(ttl);
  if (renewalInterval > longestInterval) {
    throw new LockOptionError(
      'renewalInterval',
      `must be at most ttl − drift − margin (${longestInterval} ms for a ttl of ${ttl} ms) so each ` +
        `renewal can answer before the lock's validity ends, got ${renewalInterval}.`,
    );
  }

  const commandTimeout = merged.commandTimeout ?? Math.min(2_000, Math.max(500, Math.floor(ttl / 3)));
  checkPositiveInteger('commandTimeout', commandTimeout);

  const replicas = checkReplicas(merged.replicas);

  return Object.freeze({
    ttl,
    retryCount,
    retryDelay,
    retryJitter,
    backoff,
    maxRetryDelay,
    waitTimeout,
    commandTimeout,
    autoRenewal,
    renewalInterval,
    reentrant,
    fencing,
    fair,
    replicas,
  });
}

/** The Locker-level settings, validated, and the lock defaults split from them. */
export interface ResolvedLockerOptions {
  readonly prefix: string;
  readonly asyncReentrancy: boolean;
  readonly hooks: LockHooks;
  readonly lockDefaults: LockOptions;
}

const HOOK_NAMES: readonly (keyof LockHooks)[] = [
  'onAcquired',
  'onExtended',
  'onReleased',
  'onLost',
  'onRenewalFailed',
];

/** Validates a Locker's options (including its lock defaults) and splits them; `null` is none. */
export function resolveLockerOptions(given: LockerOptions | null | undefined): ResolvedLockerOptions {
  const options = given ?? {};
  checkKnownKeys(options, [...LOCK_OPTION_NAMES, 'prefix', 'asyncReentrancy', 'hooks']);
  const { prefix = DEFAULTS.prefix, asyncReentrancy = true, hooks = {}, ...lockDefaults } = options;
  checkPrefix(prefix);
  checkBoolean('asyncReentrancy', asyncReentrancy);
  if (typeof hooks !== 'object' || hooks === null) {
    throw new LockOptionError('hooks', `expected an object of hook functions, got ${describe(hooks)}.`);
  }
  checkKnownKeys(hooks, HOOK_NAMES);
  for (const [name, hook] of Object.entries(hooks)) {
    if (hook !== undefined && typeof hook !== 'function') {
      throw new LockOptionError(name, `a hook must be a function, got ${describe(hook)}.`);
    }
  }
  resolveLockOptions({}, lockDefaults);
  return {
    prefix,
    asyncReentrancy,
    hooks: Object.freeze({ ...hooks }),
    lockDefaults: Object.freeze(lockDefaults),
  };
}

/**
 * Matches a lone surrogate: the negation of `String.prototype.isWellFormed` (ES2024, past this
 * package's ES2022 target). In a `u` regex a well-formed pair is one code point, not a surrogate.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Lock names (of every primitive): non-empty, well-formed Unicode strings of at most 1024
 * characters (UTF-16 code units) that do not start with `}`.
 *
 * A name is the hash tag of every key of its lock (`${prefix}{${name}}`, `…:fence`, …), which is
 * what keeps them in one Redis Cluster slot. A name starting with `}` makes that tag empty, and
 * Redis then hashes each whole key, so a lock's keys land in different slots (CROSSSLOT on a
 * Cluster). A lone surrogate (half of a UTF-16 pair) is not a character: clients encode it to
 * UTF-8 as U+FFFD, so distinct such names would share one key.
 */
export function checkLockName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new LockOptionError('name', `a lock name must be a string, got ${describe(name)}.`);
  }
  if (name.length === 0) throw new LockOptionError('name', 'a lock name must not be empty.');
  if (name.length > 1024) {
    throw new LockOptionError('name', `a lock name must be at most 1024 characters, got ${name.length}.`);
  }
  if (name.startsWith('}')) {
    throw new LockOptionError(
      'name',
      `a lock name must not start with "}": the name is the {hash tag} of the lock's keys, and ` +
        `"{}" is an empty hash tag, which would put the lock's keys in different Redis Cluster slots; ` +
        `got ${describe(name)}.`,
    );
  }
  if (LONE_SURROGATE.test(name)) {
    throw new LockOptionError(
      'name',
      'a lock name must be well-formed Unicode: it has a lone surrogate (half of a UTF-16 pair), ' +
        'which Redis clients send as U+FFFD, so different such names would share one key.',
    );
  }
}

/** A key prefix: braces in it would become (or break) the hash tag that the name must be. */
function checkPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') {
    throw new LockOptionError('prefix', `expected a string, got ${describe(prefix)}.`);
  }
  if (prefix.includes('{') || prefix.includes('}')) {
    throw new LockOptionError(
      'prefix',
      `must not contain "{" or "}": keys are \`\${prefix}{\${name}}\` and the {name} must be their ` +
        `only hash tag, so that each lock's keys share one Redis Cluster slot; got ${describe(prefix)}.`,
    );
  }
  if (LONE_SURROGATE.test(prefix)) {
    throw new LockOptionError('prefix', 'must be well-formed Unicode: it has a lone surrogate.');
  }
}

/** An `AbortSignal` option: checked up front, so a wrong value cannot fail halfway through a wait. */
export function checkSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  const candidate = signal as Partial<AbortSignal> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.aborted !== 'boolean' ||
    typeof candidate.addEventListener !== 'function'
  ) {
    throw new LockOptionError('signal', `expected an AbortSignal, got ${describe(signal)}.`);
  }
}

/** A duration argument such as `extend(ms)`: a positive integer number of milliseconds. */
export function checkPositiveInteger(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new LockOptionError(option, `expected a positive integer number of ms, got ${describe(value)}.`);
  }
  checkTimerRange(option, value);
}

/** Node's timers cannot wait longer than {@link MAX_TIMER_MS}; nor can any duration of ours. */
function checkTimerRange(option: string, value: number): void {
  if (value > MAX_TIMER_MS && value !== Number.POSITIVE_INFINITY) {
    throw new LockOptionError(
      option,
      `must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer Node.js honours), got ${value}.`,
    );
  }
}

function checkReplicas(value: unknown): ReplicaAcknowledgement | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    throw new LockOptionError('replicas', `expected { count, timeout }, got ${describe(value)}.`);
  }
  checkKnownKeys(value, ['count', 'timeout']);
  const { count, timeout } = value as Partial<ReplicaAcknowledgement>;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 0) {
    throw new LockOptionError('replicas', `count must be a positive integer, got ${describe(count)}.`);
  }
  checkPositiveInteger('replicas', timeout);
  return Object.freeze({ count, timeout });
}

function checkDuration(option: string, value: unknown, { allowInfinity = false } = {}): void {
  const ok =
    typeof value === 'number' &&
    value >= 0 &&
    (Number.isSafeInteger(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    const expected = allowInfinity
      ? 'a non-negative integer number of ms or Infinity'
      : 'a non-negative integer number of ms';
    throw new LockOptionError(option, `expected ${expected}, got ${describe(value)}.`);
  }
  checkTimerRange(option, value as number);
}

function checkBoolean(option: string, value: unknown): void {
  if (typeof value !== 'boolean') {
    throw new LockOptionError(option, `expected true or false, got ${describe(value)}.`);
  }
}

function checkKnownKeys(options: object, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null) {
    throw new LockOptionError('options', `expected an object, got ${describe(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const hint = key === 'timeout' ? ' (did you mean ttl? durations are in ms)' : '';
      throw new LockOptionError(key, `unknown option "${key}"${hint}.`);
    }
  }
}

/**
 * An options argument as given: `undefined` and `null` both mean "no options" (`undefined` is
 * returned); anything else must be an object. A number or string in the options' place is a
 * mistake worth a {@link LockOptionError}, not options silently ignored.
 */
export function optionsObject<T extends object>(options: T | null | undefined): T | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') {
    throw new LockOptionError('options', `expected an object of options, got ${describe(options)}.`);
  }
  return options;
}

/** `options` without the entries set to `undefined`, so that spreading it keeps earlier values. */
export function stripUndefined<T extends object>(options: T | null | undefined): Partial<T> {
  if (options === undefined || options === null) return {};
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}
