/**
 * Redis key naming. A lock's key wraps its name in a `{hash tag}`, so that companion keys added
 * later (a fencing counter, a notification channel) always land in the same Redis Cluster slot
 * as the lock itself: `${prefix}{${name}}`, `${prefix}{${name}}:fence`, ...
 */

/** The Redis key of the lock called `name`. */
export function lockKey(prefix: string, name: string): string {
  return `${prefix}{${name}}`;
}

/** The key of the counter that mints the fencing tokens of the lock at `key`. */
export function fencingCounterKey(key: string): string {
  return `${key}:fence`;
}

/** The channel a full release of the lock at `key` publishes on. */
export function releaseChannel(key: string): string {
  return `${key}:released`;
}

/** A (non-fair) mutex's registered waiters: tokens scored by arrival (server ms). */
export function mutexWaitersKey(key: string): string {
  return `${key}:waiters`;
}

/** A mutex's waiter deadlines: tokens scored by when each registration lapses (server ms). */
export function mutexWaiterDeadlinesKey(key: string): string {
  return `${key}:waiter-deadlines`;
}

/** The fair lock's queue of waiting tokens, scored by arrival. */
export function queueKey(key: string): string {
  return `${key}:queue`;
}

/** The fair lock's queue deadlines: waiting tokens scored by when their place lapses (server ms). */
export function queueDeadlinesKey(key: string): string {
  return `${key}:queue-deadlines`;
}

/**
 * The hand-off terms of the waiters in the queue (or waiters set) at `waitersKey`: token → "ttl
 * claimMs mintFence handOff channel", what a release needs to hand the lock to that waiter
 * (lib/keep-terms.lua writes them, lib/hand-to-head.lua reads them).
 */
export function waiterTermsKey(waitersKey: string): string {
  return `${waitersKey}:terms`;
}

/**
 * The read-write lock called `name`: its writer hash. The `:rw` suffix keeps it apart from a
 * mutex of the same name; its companion keys (`…:rw:readers`, `…:rw:writers-waiting`,
 * `…:rw:fence`, the `…:rw:released` channel) share its `{name}` hash tag.
 */
export function readWriteLockKey(prefix: string, name: string): string {
  return `${lockKey(prefix, name)}:rw`;
}

/** A read-write lock's readers: tokens scored by when each read hold expires (server ms). */
export function readersKey(key: string): string {
  return `${key}:readers`;
}

/** A read-write lock's waiting writers: tokens scored by when each one's mark lapses (server ms). */
export function writersWaitingKey(key: string): string {
  return `${key}:writers-waiting`;
}

/** The Redis key of the semaphore called `name`: its permits, apart from the mutex of the same name. */
export function semaphoreKey(prefix: string, name: string): string {
  return `${lockKey(prefix, name)}:semaphore`;
}

/** A semaphore's registered waiters: tokens scored by when each registration lapses (server ms). */
export function semaphoreWaitersKey(key: string): string {
  return `${key}:waiters`;
}

/** A semaphore's registered waiters by arrival (server ms), so that the longest-waiting are woken first. */
export function semaphoreArrivalsKey(key: string): string {
  return `${key}:arrivals`;
}

/**
 * The fencing tokens of permits a release handed to a waiter (token → fence), so that an attempt
 * of that waiter already on its way, which finds the permits its own, reports the same token.
 */
export function semaphoreFencesKey(key: string): string {
  return `${key}:fences`;
}
