/**
 * The lease of a held lock: until when it is surely still ours (its validity deadline, on the
 * monotonic clock), and, with auto-renewal, the background loop that pushes that deadline out.
 *
 * Invariant: `validUntil` never lies later than what the last call Redis applied allows. Calls
 * that change the lock's expiry (acquire, re-entry, extend, renewal) can be in flight together on
 * one handle, and their replies can be processed in another order than Redis applied them, so
 * each takes a {@link LeaseTicket} when it is sent: Redis applies one connection's calls in the
 * order they were sent, so the ticket with the highest number that has settled is the one whose
 * effect is in force. A confirmation older than that is ignored; a call whose outcome is unknown
 * (error or timeout) and that could have shortened the lock lowers the deadline to what it could
 * have set.
 *
 * Background work never rejects into the void: every outcome ends in either a confirmed renewal
 * or a call to `onLost`, which aborts the lock's signal.
 */
import { clockDrift, monotonicNow } from '../clock.js';
import type { LockLostReason } from '../errors.js';
import { renewalMargin } from '../options.js';
import { armDeadline, Deadline, disarmDeadline } from './deadline.js';

/** What one renewal found in Redis. */
export type RenewalResult =
  | { readonly held: true; readonly ttl: number }
  | { readonly held: false; readonly reason: 'expired' | 'taken' };

/** One expiry-changing call of a handle, numbered in the order it was sent. */
export interface LeaseTicket {
  readonly sequence: number;
  /** Monotonic time at which the call was sent: Redis applied it no earlier. */
  readonly sentAt: number;
}

export interface LeaseParams {
  readonly ttl: number;
  /** Renew every this many ms; `undefined` for a lock without auto-renewal. */
  readonly renewalInterval: number | undefined;
  /** Longest a renewal call may take, in ms (also bounded by the validity left). */
  readonly commandTimeout: number;
  /**
   * Resets the lock's expiry to `ttl` in Redis (one extend round trip), rejecting when it has not
   * answered within `deadline` ms.
   */
  readonly renew: (deadline: number) => Promise<RenewalResult>;
  /** Called when one renewal fails (the loop keeps trying until the deadline). */
  readonly onRenewalFailed: (error: unknown) => void;
  /** Called at most once, when the lock is found gone or its validity deadline passes. */
  readonly onLost: (reason: LockLostReason, cause?: unknown) => void;
}

// A Deadline itself, on the queue that does not keep the process alive: a hold that is released
// within its first renewal interval (most are) arms and disarms a list entry, not a timer.
export class Lease extends Deadline {
  readonly #params: LeaseParams;
  #validUntil: number;
  // The lease is its own deadline (`due`), for both the validity deadline and the next renewal,
  // armed for the earlier of the two: a hold costs one deadline, not two. Changes that make
  // either later leave it alone (it looks again when it fires early and re-arms itself).
  // When the next renewal is due; `undefined` when none is scheduled (one in flight, or none).
  #renewAt: number | undefined;
  #lastRenewalError: unknown;
  #renewalInFlight = false;
  #stopped = false;
  // The acquire that took the lock is ticket 0.
  #lastSequence = 0;
  // The highest ticket whose outcome the deadline reflects.
  #appliedSequence = 0;
  // A hand-off's short validity has not yet been prolonged to the ttl (by the claim renewal, or by
  // any confirmed call that gave the lock a ttl or more).
  #claimPending = false;

  /**
   * `sentAt`: monotonic time at which the acquire that took the lock was sent; the lock is ours
   * for `grantedMs` from then. A release that handed the lock over grants less than the ttl (so
   * that a waiter that died costs the others little): then the first renewal, also without
   * auto-renewal, comes before that short validity ends and sets the lock to its ttl.
   */
  constructor(params: LeaseParams, sentAt: number, grantedMs: number = params.ttl) {
    super();
    this.#params = params;
    this.#validUntil = sentAt + grantedMs - clockDrift(grantedMs);
    if (grantedMs < params.ttl) {
      this.#claimPending = true;
      let at = this.#validUntil - renewalMargin(grantedMs);
      if (params.renewalInterval !== undefined) at = Math.min(at, sentAt + params.renewalInterval);
      this.#armRenewal(Math.max(0, Math.floor(at - monotonicNow())));
    } else if (params.renewalInterval !== undefined) this.#scheduleRenewal(sentAt);
    else this.#arm();
  }

  /** Monotonic time until which the lock is surely held. */
  get validUntil(): number {
    return this.#validUntil;
  }

  /** Ms of validity left, never below 0. */
  get remaining(): number {
    return Math.max(0, this.#validUntil - monotonicNow());
  }

  /** Numbers an expiry-changing call; take it right before sending the call. */
  ticket(): LeaseTicket {
    this.#lastSequence += 1;
    return { sequence: this.#lastSequence, sentAt: monotonicNow() };
  }

  /** Records that Redis confirmed `ttl` more ms for the call of `ticket`, counted from its send. */
  confirm(ticket: LeaseTicket, ttl: number): void {
    if (this.#stopped || ticket.sequence < this.#appliedSequence) return;
    this.#appliedSequence = ticket.sequence;
    const previous = this.#validUntil;
    this.#validUntil = ticket.sentAt + ttl - clockDrift(ttl);
    this.#lastRenewalError = undefined;
    if (this.#claimPending && ttl >= this.#params.ttl) {
      this.#claimPending = false;
      // Without auto-renewal the claim renewal was the only one: an extend made it needless.
      if (this.#params.renewalInterval === undefined) this.#renewAt = undefined;
    }
    if (this.#validUntil < previous) this.#renewSooner(ticket);
    this.#arm();
  }

  /**
   * Records that the call of `ticket` failed or timed out, so Redis may or may not have applied
   * it. One that sets the expiry (`replace`) may have shortened the lock to `ms` from when Redis
   * ran it (no earlier than it was sent): the deadline comes down to that. One that only adds
   * time cannot have shortened anything.
   */
  unknownOutcome(ticket: LeaseTicket, ms: number, replace: boolean): void {
    if (this.#stopped || !replace || ticket.sequence < this.#appliedSequence) return;
    this.#appliedSequence = ticket.sequence;
    const couldHaveSet = ticket.sentAt + ms - clockDrift(ms);
    if (couldHaveSet >= this.#validUntil) return;
    this.#validUntil = couldHaveSet;
    this.#renewSooner(ticket);
    this.#arm();
  }

  /**
   * A shorter deadline (an `extend` that replaced the expiry with less time) must bring the next
   * renewal forward too, or the lock would run out before the renewal armed for the old deadline
   * is sent. A renewal in flight re-arms the next one itself when it settles.
   */
  #renewSooner(ticket: LeaseTicket): void {
    if (this.#params.renewalInterval === undefined || this.#renewalInFlight || this.#stopped) return;
    this.#scheduleRenewal(ticket.sentAt);
  }

  /** Stops all timers; later renewal replies are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#renewAt = undefined;
    disarmDeadline(this);
  }

  /** Arms the timer for the renewal or the deadline, whichever comes first, if that is earlier. */
  #arm(): void {
    if (this.#stopped) return;
    const now = monotonicNow();
    // Whole ms: Node keeps one timer list per distinct duration, and fractional ones are all
    // distinct. Up to 1 ms late is covered by the drift already taken off the validity.
    let delay = Math.max(0, Math.ceil(this.#validUntil - now));
    if (this.#renewAt !== undefined) delay = Math.min(delay, Math.max(0, Math.ceil(this.#renewAt - now)));
    const at = now + delay;
    if (this.armed && at >= this.due) return;
    armDeadline(this, delay, false);
  }

  /** @internal The timer of the renewal or the deadline is due. */
  expire(): void {
    if (this.#stopped) return;
    // A renewal due is sent first: when both are due (a stalled event loop), the deadline then
    // finds it in flight, as it would have with a timer each.
    if (this.#renewAt !== undefined && monotonicNow() >= this.#renewAt) {
      this.#renewAt = undefined;
      void this.#renewOnce();
      if (this.#stopped) return;
    }
    if (monotonicNow() < this.#validUntil) {
      this.#arm(); // the next renewal, or a deadline pushed out by a confirmation since
      return;
    }
    // A renewal that failed, or is still unanswered at the deadline, means Redis could not be
    // reached in time; otherwise the lock simply ran out (no auto-renewal).
    const cause = this.#lastRenewalError;
    const unreachable = cause !== undefined || this.#renewalInFlight;
    this.#lose(unreachable ? 'unreachable' : 'expired', cause);
  }

  /**
   * Arms the next renewal: `renewalInterval` after the previous one was sent, and never later than
   * the renewal margin before the validity ends, so it has time to answer.
   */
  #scheduleRenewal(previousSentAt: number): void {
    const interval = this.#params.renewalInterval ?? this.#params.ttl;
    const latest = this.#validUntil - renewalMargin(this.#params.ttl);
    const at = Math.min(previousSentAt + interval, latest);
    this.#armRenewal(Math.max(0, Math.floor(at - monotonicNow())));
  }

  #armRenewal(delay: number): void {
    this.#renewAt = monotonicNow() + delay;
    this.#arm();
  }

  async #renewOnce(): Promise<void> {
    if (this.#stopped) return;
    const { ttl, commandTimeout } = this.#params;
    const ticket = this.ticket();
    let result: RenewalResult;
    this.#renewalInFlight = true;
    try {
      result = await this.#params.renew(Math.max(1, Math.min(commandTimeout, this.remaining)));
    } catch (error) {
      if (this.#stopped) return;
      this.unknownOutcome(ticket, ttl, true);
      // Redis did not answer: keep trying, faster, until the validity deadline decides.
      this.#lastRenewalError = error;
      this.#params.onRenewalFailed(error);
      const interval = this.#params.renewalInterval ?? ttl;
      this.#armRenewal(Math.max(10, Math.min(interval, Math.floor(this.remaining / 3))));
      return;
    } finally {
      this.#renewalInFlight = false;
    }
    if (this.#stopped) return;
    if (!result.held) {
      this.#lose(result.reason);
      return;
    }
    this.confirm(ticket, result.ttl);
    // Without auto-renewal, the one renewal is a hand-off's, which set the lock to its ttl.
    if (this.#params.renewalInterval !== undefined) this.#scheduleRenewal(ticket.sentAt);
  }

  #lose(reason: LockLostReason, cause?: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#params.onLost(reason, cause);
  }
}
