/**
 * Observability: typed hooks a `Locker` calls as its locks change state. Each hook is optional and
 * costs nothing when unset. Hooks run synchronously and must not throw; an error thrown by a hook
 * is caught and dropped so that it can never break locking.
 */
import type { LockLostError } from '../errors.js';
import type { Lock } from './lock.js';

/** Hooks for metrics, logs and traces. Pass them as `new Locker(runner, { hooks })`. */
export interface LockHooks {
  /** A lock was taken: after `attempts` attempts, having waited `waited` ms. */
  onAcquired?(event: { readonly lock: Lock; readonly waited: number; readonly attempts: number }): void;
  /** A lock's time was prolonged to `remaining` ms, by `extend()` or by auto-renewal (`renewal`). */
  onExtended?(event: { readonly lock: Lock; readonly remaining: number; readonly renewal: boolean }): void;
  /** A hold ended by release (the key is gone). */
  onReleased?(event: { readonly lock: Lock }): void;
  /** A hold ended because the lock was lost; `error.reason` says why. */
  onLost?(event: { readonly lock: Lock; readonly error: LockLostError }): void;
  /** One background renewal failed (Redis error or timeout); renewal keeps trying until the deadline. */
  onRenewalFailed?(event: { readonly lock: Lock; readonly error: unknown }): void;
}

/** Calls one hook, shielding the caller from anything it throws. */
export function callHook<Event>(hook: ((event: Event) => void) | undefined, event: Event): void {
  if (hook === undefined) return;
  try {
    hook(event);
  } catch {
    // Documented: hooks must not throw; locking goes on regardless.
  }
}
