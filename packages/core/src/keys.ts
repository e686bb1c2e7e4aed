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
