/**
 * Deadlines on Redis calls. The client's own timeouts are the user's to choose (and both clients
 * default to waiting for a very long time), so core bounds every call itself: a call that has not
 * answered by its deadline rejects with a `REDIS_TIMEOUT` {@link LockRedisError}, while the call
 * itself keeps running in the client; whoever set the deadline cleans up after it.
 *
 * @internal
 */
import { LockRedisError, RedisCallTimeout } from '../errors.js';

/**
 * The longest delay Node's timers honour (2^31 − 1 ms, about 24.8 days). Longer delays fire after
 * 1 ms with a warning, so every duration option is capped at this.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Settles like `operation`, or rejects with a `REDIS_TIMEOUT` {@link LockRedisError} naming
 * `script` once `ms` have passed without an answer. `operation` is not cancelled (a sent command
 * cannot be taken back): the caller still holds it and must clean up after it if it times out.
 * `background`: the timer does not keep the process alive (renewals); otherwise it does, as the
 * call it bounds would.
 */
export function withDeadline<T>(
  operation: Promise<T>,
  ms: number,
  script: string,
  { background = false } = {},
): Promise<T> {
  if (ms === Number.POSITIVE_INFINITY) return operation;
  return new Promise<T>((resolve, reject) => {
    const timeout = Math.max(0, Math.ceil(ms));
    const timer = setTimeout(
      () => reject(new LockRedisError(script, new RedisCallTimeout(timeout))),
      Math.min(timeout, MAX_TIMER_MS),
    );
    if (background) timer.unref?.();
    operation.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
