/**
 * The lease of a held lock: until when it is surely still ours (its validity deadline, on the
 * monotonic clock), and, with auto-renewal, the background loop that pushes that deadline out.
 *
 * Background work never rejects into the void: every outcome ends in either a confirmed renewal
 * or a call to `onLost`, which aborts the lock's signal.
 */
import { clockDrift, monotonicNow, unrefTimeout } from './clock.js';
import type { LockLostReason } from './errors.js';

/** What one renewal found in Redis. */
export type RenewalResult =
  | { readonly held: true; readonly ttl: number }
  | { readonly held: false; readonly reason: 'expired' | 'taken' };

export interface LeaseParams {
  readonly ttl: number;
  /** Renew every this many ms; `undefined` for a lock without auto-renewal. */
  readonly renewalInterval: number | undefined;
  /** Resets the lock's expiry to `ttl` in Redis (one extend round trip). */
  readonly renew: () => Promise<RenewalResult>;
  /** Called when one renewal fails (the loop keeps trying until the deadline). */
  readonly onRenewalFailed: (error: unknown) => void;
  /** Called at most once, when the lock is found gone or its validity deadline passes. */
  readonly onLost: (reason: Exclude<LockLostReason, 'released'>, cause?: unknown) => void;
}

export class Lease {
  readonly #params: LeaseParams;
  #validUntil: number;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  // When the armed deadline timer fires. Confirmations that push the deadline out leave the timer
  // alone (it re-arms itself when it fires early): a renewal then costs one timer, not three.
  #deadlineArmedFor = Number.POSITIVE_INFINITY;
  #renewalTimer: ReturnType<typeof setTimeout> | undefined;
  #lastRenewalError: unknown;
  #renewalInFlight = false;
  #stopped = false;

  /** `sentAt`: monotonic time at which the acquire that took the lock was sent. */
  constructor(params: LeaseParams, sentAt: number) {
    this.#params = params;
    this.#validUntil = sentAt + params.ttl - clockDrift(params.ttl);
    this.#armDeadline();
    if (params.renewalInterval !== undefined) this.#scheduleRenewal(params.renewalInterval);
  }

  /** Monotonic time until which the lock is surely held. */
  get validUntil(): number {
    return this.#validUntil;
  }

  /** Records that Redis confirmed `ttl` more ms, counted from `sentAt` (when the call was sent). */
  confirm(sentAt: number, ttl: number): void {
    if (this.#stopped) return;
    this.#validUntil = sentAt + ttl - clockDrift(ttl);
    this.#lastRenewalError = undefined;
    if (this.#validUntil < this.#deadlineArmedFor) this.#armDeadline();
  }

  /** Stops all timers; later renewal replies are ignored. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#renewalTimer);
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    // Whole ms: Node keeps one timer list per distinct duration, and fractional ones are all
    // distinct. Up to 1 ms late is covered by the drift already taken off the validity.
    const delay = Math.max(0, Math.ceil(this.#validUntil - monotonicNow()));
    this.#deadlineArmedFor = this.#validUntil;
    this.#deadlineTimer = unrefTimeout(() => {
      if (monotonicNow() < this.#validUntil) {
        this.#armDeadline(); // pushed out by a confirmation since it was armed
        return;
      }
      // A renewal that failed, or is still unanswered at the deadline, means Redis could not be
      // reached in time; otherwise the lock simply ran out (no auto-renewal).
      const cause = this.#lastRenewalError;
      const unreachable = cause !== undefined || this.#renewalInFlight;
      this.#lose(unreachable ? 'unreachable' : 'expired', cause);
    }, delay);
  }

  #scheduleRenewal(delay: number): void {
    this.#renewalTimer = unrefTimeout(() => {
      void this.#renewOnce();
    }, delay);
  }

  async #renewOnce(): Promise<void> {
    if (this.#stopped) return;
    const interval = this.#params.renewalInterval ?? this.#params.ttl;
    const sentAt = monotonicNow();
    let result: RenewalResult;
    this.#renewalInFlight = true;
    try {
      result = await this.#params.renew();
    } catch (error) {
      if (this.#stopped) return;
      // Redis did not answer: keep trying, faster, until the validity deadline decides.
      this.#lastRenewalError = error;
      this.#params.onRenewalFailed(error);
      const remaining = this.#validUntil - monotonicNow();
      this.#scheduleRenewal(Math.max(10, Math.min(interval, Math.floor(remaining / 3))));
      return;
    } finally {
      this.#renewalInFlight = false;
    }
    if (this.#stopped) return;
    if (!result.held) {
      this.#lose(result.reason);
      return;
    }
    this.confirm(sentAt, result.ttl);
    this.#scheduleRenewal(interval);
  }

  #lose(reason: Exclude<LockLostReason, 'released'>, cause?: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#params.onLost(reason, cause);
  }
}
