import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clockDrift, monotonicNow } from '../src/clock.js';
import { Lease, type LeaseParams, type RenewalResult } from '../src/handle/lease.js';
import { renewalMargin } from '../src/options.js';
import { deferred, flush, useFakeClock } from './fake-clock.js';

// The lease's bookkeeping over a scripted renewal call, on a fake clock that starts at 0: when it
// renews, what deadline it keeps, and when and why it reports the lock lost. That a renewal
// really extends the key is proven against Redis.

const TTL = 1_000;
const INTERVAL = 300;
/** The validity one confirmation of the full ttl gives, counted from the call's send time. */
const VALIDITY = TTL - clockDrift(TTL);

/** What one scripted renewal does: answer, fail, settle when the test chooses, or make its reply when sent. */
type Step = RenewalResult | Error | Promise<RenewalResult> | (() => Promise<RenewalResult>);

const held = (ttl = TTL): RenewalResult => ({ held: true, ttl });

/**
 * A lease whose renewals play `steps` in order (then confirm the full ttl at once), recording when
 * each was sent and the deadline it was given.
 */
function startLease(
  steps: Step[] = [],
  {
    sentAt = monotonicNow(),
    grantedMs,
    ...overrides
  }: Partial<Omit<LeaseParams, 'renew'>> & { sentAt?: number; grantedMs?: number } = {},
) {
  const renewals: { at: number; deadline: number }[] = [];
  const onLost = vi.fn<LeaseParams['onLost']>();
  const onRenewalFailed = vi.fn<LeaseParams['onRenewalFailed']>();
  const lease = new Lease(
    {
      ttl: TTL,
      renewalInterval: INTERVAL,
      commandTimeout: 200,
      renew: (deadline) => {
        renewals.push({ at: monotonicNow(), deadline });
        const step = steps.shift() ?? held();
        if (typeof step === 'function') return step();
        return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
      },
      onRenewalFailed,
      onLost,
      ...overrides,
    },
    sentAt,
    grantedMs,
  );
  const renewedAt = () => renewals.map(({ at }) => at);
  return { lease, renewals, renewedAt, onLost, onRenewalFailed };
}

/** A reply that comes `ms` after the call was sent. */
const after = (ms: number, result: RenewalResult) =>
  new Promise<RenewalResult>((resolve) => setTimeout(() => resolve(result), ms));

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

/**
 * The lease has nothing armed: no place in a deadline queue and no timer of its own. (A queue's
 * shared timer may still fire once, and then finds nothing due.)
 */
function expectDisarmed(lease: Lease): void {
  expect(lease.list).toBeUndefined();
  expect(lease.timer).toBeUndefined();
}

describe('Lease: validity', () => {
  it('is ttl minus the clock drift, counted from when the acquire was sent', async () => {
    await vi.advanceTimersByTimeAsync(40);
    const { lease } = startLease([], { sentAt: 0, renewalInterval: undefined });
    expect(lease.validUntil).toBe(VALIDITY);
    expect(lease.remaining).toBe(VALIDITY - 40);
    lease.stop();
  });

  it('without auto-renewal, reports the lock expired once, at the validity deadline', async () => {
    const { lease, onLost, renewals } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(VALIDITY - 1);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost.mock.calls).toEqual([['expired', undefined]]);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(renewals).toEqual([]);
    expectDisarmed(lease);
  });

  it('remaining never goes below 0', async () => {
    const { lease } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(2 * TTL);
    expect(lease.remaining).toBe(0);
  });
});

describe('Lease: auto-renewal', () => {
  it('renews every renewalInterval, the first counted from when the acquire was sent', async () => {
    await vi.advanceTimersByTimeAsync(40);
    const { lease, renewedAt, onLost } = startLease([], { sentAt: 0 });
    await vi.advanceTimersByTimeAsync(INTERVAL - 40 - 1);
    expect(renewedAt()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.validUntil).toBe(INTERVAL + VALIDITY);
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(renewedAt()).toEqual([300, 600, 900, 1_200]);
    expect(onLost).not.toHaveBeenCalled();
    lease.stop();
  });

  it('schedules the next renewal from when the previous one was sent, not when it answered', async () => {
    const answerIn50 = () => after(50, held());
    const { lease, renewedAt } = startLease([answerIn50, answerIn50, answerIn50]);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    // Sent at 300, answered at 350: the validity counts from the send.
    await vi.advanceTimersByTimeAsync(50);
    expect(lease.validUntil).toBe(INTERVAL + VALIDITY);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);
    expect(renewedAt()).toEqual([300, 600, 900]);
    lease.stop();
  });

  it('gives each renewal call the command timeout, or the validity left when that is shorter', async () => {
    const { lease, renewals } = startLease([], { renewalInterval: 800, commandTimeout: 500 });
    await vi.advanceTimersByTimeAsync(800);
    expect(renewals).toEqual([{ at: 800, deadline: VALIDITY - 800 }]);
    lease.stop();
    const short = startLease([], { renewalInterval: INTERVAL, commandTimeout: 200 });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(short.renewals[0]?.deadline).toBe(200);
    short.lease.stop();
  });

  it('sends a renewal no later than the renewal margin before the validity ends', async () => {
    // Redis confirms less than asked: the next renewal must come before the interval would say.
    const shortTtl = 350;
    const { lease, renewedAt } = startLease([held(shortTtl)]);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    const validUntil = INTERVAL + shortTtl - clockDrift(shortTtl);
    expect(lease.validUntil).toBe(validUntil);
    await vi.advanceTimersByTimeAsync(validUntil - renewalMargin(TTL) - INTERVAL);
    expect(renewedAt()).toEqual([INTERVAL, validUntil - renewalMargin(TTL)]);
    lease.stop();
  });
});

describe('Lease: a hold handed over for less than the ttl', () => {
  const GRANTED = 400;
  const CLAIM_BY = GRANTED - clockDrift(GRANTED) - renewalMargin(GRANTED);

  it('without auto-renewal, renews once before the short validity ends, to the ttl, and never again', async () => {
    const { lease, renewedAt, onLost } = startLease([], {
      sentAt: 0,
      grantedMs: GRANTED,
      renewalInterval: undefined,
    });
    expect(lease.validUntil).toBe(GRANTED - clockDrift(GRANTED));
    await vi.advanceTimersByTimeAsync(CLAIM_BY - 1);
    expect(renewedAt()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(renewedAt()).toEqual([Math.floor(CLAIM_BY)]);
    expect(lease.validUntil).toBe(Math.floor(CLAIM_BY) + VALIDITY);
    await vi.advanceTimersByTimeAsync(5 * TTL);
    expect(renewedAt()).toHaveLength(1);
    expect(onLost.mock.calls).toEqual([['expired', undefined]]);
  });

  it('with auto-renewal, renews first before the short validity ends, then every renewalInterval', async () => {
    const { lease, renewedAt } = startLease([], { sentAt: 0, grantedMs: 250 });
    const claimBy = Math.floor(250 - clockDrift(250) - renewalMargin(250));
    await vi.advanceTimersByTimeAsync(claimBy + 2 * INTERVAL);
    expect(renewedAt()).toEqual([claimBy, claimBy + INTERVAL, claimBy + 2 * INTERVAL]);
    lease.stop();
  });

  it('an extend that gives the lock its ttl or more makes the claim renewal needless', async () => {
    const { lease, renewedAt, onLost } = startLease([], {
      sentAt: 0,
      grantedMs: GRANTED,
      renewalInterval: undefined,
    });
    await vi.advanceTimersByTimeAsync(100);
    lease.confirm(lease.ticket(), 2 * TTL);
    await vi.advanceTimersByTimeAsync(2 * TTL);
    expect(renewedAt()).toEqual([]);
    expect(onLost.mock.calls).toEqual([['expired', undefined]]);
  });
});

describe('Lease: a shorter deadline brings the renewal forward', () => {
  it('after an extend that replaced the expiry with less time', async () => {
    const { lease, renewedAt, onLost } = startLease([], { sentAt: 0 });
    await vi.advanceTimersByTimeAsync(10);
    const ticket = lease.ticket();
    lease.confirm(ticket, 200);
    const validUntil = 10 + 200 - clockDrift(200);
    expect(lease.validUntil).toBe(validUntil);
    await vi.advanceTimersByTimeAsync(validUntil - renewalMargin(TTL) - 10);
    expect(renewedAt()).toEqual([validUntil - renewalMargin(TTL)]);
    expect(lease.validUntil).toBeGreaterThan(validUntil);
    await vi.advanceTimersByTimeAsync(TTL);
    expect(onLost).not.toHaveBeenCalled();
    lease.stop();
  });

  it('after a replacing extend whose outcome is unknown', async () => {
    const { lease, renewedAt, onLost } = startLease([], { sentAt: 0 });
    await vi.advanceTimersByTimeAsync(10);
    lease.unknownOutcome(lease.ticket(), 200, true);
    const validUntil = 10 + 200 - clockDrift(200);
    await vi.advanceTimersByTimeAsync(validUntil - renewalMargin(TTL) - 10);
    expect(renewedAt()).toEqual([validUntil - renewalMargin(TTL)]);
    await vi.advanceTimersByTimeAsync(TTL);
    expect(onLost).not.toHaveBeenCalled();
    lease.stop();
  });
});

describe('Lease: losing the lock', () => {
  it.each(['taken', 'expired'] as const)(
    'reports %s from a renewal once and renews no more',
    async (reason) => {
      const { lease, renewals, onLost } = startLease([{ held: false, reason }]);
      await vi.advanceTimersByTimeAsync(INTERVAL);
      expect(onLost.mock.calls).toEqual([[reason, undefined]]);
      expectDisarmed(lease);
      await vi.advanceTimersByTimeAsync(10 * TTL);
      expect(renewals).toHaveLength(1);
      expect(onLost).toHaveBeenCalledTimes(1);
    },
  );

  it('retries failed renewals ever faster, then reports unreachable once, with the last error, at the deadline', async () => {
    const errors = Array.from({ length: 20 }, (_, index) => new Error(`failure ${index}`));
    const { renewals, renewedAt, onLost, onRenewalFailed } = startLease([...errors]);
    await vi.advanceTimersByTimeAsync(VALIDITY - 1);
    // Each retry comes a third of the validity left later (at least 10 ms).
    expect(renewedAt()).toEqual([300, 529, 682, 784, 852, 897, 927, 947, 960, 970, 980]);
    expect(renewals.at(-1)?.deadline).toBe(VALIDITY - 980);
    expect(onRenewalFailed.mock.calls).toEqual(errors.slice(0, 11).map((error) => [error]));
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost.mock.calls).toEqual([['unreachable', errors[10]]]);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(renewals).toHaveLength(11);
  });

  it('a renewal still unanswered at the deadline means unreachable; its late answer is ignored', async () => {
    const reply = deferred<RenewalResult>();
    const { lease, renewals, onLost } = startLease([reply.promise]);
    await vi.advanceTimersByTimeAsync(VALIDITY);
    expect(onLost.mock.calls).toEqual([['unreachable', undefined]]);
    reply.resolve(held());
    // Only microtasks: a flush that moves timers would also run a 0 ms timer re-armed by mistake.
    for (let tick = 0; tick < 10; tick += 1) await Promise.resolve();
    // Nothing is re-armed for a lease that is over.
    expectDisarmed(lease);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(lease.validUntil).toBe(VALIDITY);
    expect(renewals).toHaveLength(1);
    expect(onLost).toHaveBeenCalledTimes(1);
  });

  it('a renewal that succeeds after a failure clears the failure from a later loss', async () => {
    const hanging = deferred<RenewalResult>();
    const { lease, renewedAt, onLost } = startLease([new Error('blip'), held(), hanging.promise]);
    await vi.advanceTimersByTimeAsync(529);
    expect(renewedAt()).toEqual([300, 529]);
    expect(lease.validUntil).toBe(529 + VALIDITY);
    await vi.advanceTimersByTimeAsync(VALIDITY);
    expect(renewedAt()).toEqual([300, 529, 829]);
    expect(onLost.mock.calls).toEqual([['unreachable', undefined]]);
  });
});

describe('Lease: tickets', () => {
  it('ignores a late confirmation of a ticket older than one already confirmed', async () => {
    const { lease, onLost } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(10);
    const older = lease.ticket();
    await vi.advanceTimersByTimeAsync(10);
    const newer = lease.ticket();
    expect(newer.sequence).toBeGreaterThan(older.sequence);
    expect([older.sentAt, newer.sentAt]).toEqual([10, 20]);
    lease.confirm(newer, 500);
    const shortened = 20 + 500 - clockDrift(500);
    expect(lease.validUntil).toBe(shortened);
    lease.confirm(older, TTL);
    expect(lease.validUntil).toBe(shortened);
    await vi.advanceTimersByTimeAsync(shortened - 20);
    expect(onLost.mock.calls).toEqual([['expired', undefined]]);
  });

  it('applies confirmations in send order, the deadline moving down as well as up', async () => {
    const { lease, onLost } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(500);
    const longer = lease.ticket();
    const shorter = lease.ticket();
    lease.confirm(longer, TTL);
    expect(lease.validUntil).toBe(500 + VALIDITY);
    lease.confirm(shorter, 200);
    expect(lease.validUntil).toBe(500 + 200 - clockDrift(200));
    await vi.advanceTimersByTimeAsync(200 - clockDrift(200));
    expect(onLost).toHaveBeenCalledTimes(1);
  });

  it('a confirmation that pushes the deadline out keeps the lock past the old deadline', async () => {
    const { lease, onLost } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(500);
    lease.confirm(lease.ticket(), TTL);
    // Past the first deadline (988) and up to 1 ms before the new one (1488).
    await vi.advanceTimersByTimeAsync(VALIDITY - 1);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost.mock.calls).toEqual([['expired', undefined]]);
  });

  it('an unknown outcome of a call that sets the expiry lowers the deadline to what it could have set', async () => {
    const { lease, onLost } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(100);
    lease.unknownOutcome(lease.ticket(), 200, true);
    const couldHaveSet = 100 + 200 - clockDrift(200);
    expect(lease.validUntil).toBe(couldHaveSet);
    await vi.advanceTimersByTimeAsync(couldHaveSet - 100 - 1);
    expect(onLost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onLost.mock.calls).toEqual([['expired', undefined]]);
  });

  it('an unknown outcome that could not have shortened the lock changes nothing', async () => {
    const { lease } = startLease([], { renewalInterval: undefined });
    await vi.advanceTimersByTimeAsync(100);
    lease.unknownOutcome(lease.ticket(), 200, false);
    expect(lease.validUntil).toBe(VALIDITY);
    lease.unknownOutcome(lease.ticket(), 5 * TTL, true);
    expect(lease.validUntil).toBe(VALIDITY);
    lease.stop();
  });

  it('ignores an unknown outcome of a ticket older than one already confirmed', async () => {
    const { lease } = startLease([], { renewalInterval: undefined });
    const older = lease.ticket();
    const newer = lease.ticket();
    lease.confirm(newer, TTL);
    lease.unknownOutcome(older, 50, true);
    expect(lease.validUntil).toBe(VALIDITY);
    lease.stop();
  });

  it('after an unknown outcome, a confirmation of an earlier ticket does not raise the deadline again', async () => {
    const { lease } = startLease([], { renewalInterval: undefined });
    const older = lease.ticket();
    const newer = lease.ticket();
    lease.unknownOutcome(newer, 100, true);
    lease.confirm(older, TTL);
    expect(lease.validUntil).toBe(100 - clockDrift(100));
    lease.stop();
  });

  it('a renewal confirmed after a newer call was confirmed does not override it', async () => {
    const reply = deferred<RenewalResult>();
    const { lease } = startLease([reply.promise]);
    await vi.advanceTimersByTimeAsync(INTERVAL);
    // An extend sent after the renewal (e.g. with a shorter ttl) is confirmed first.
    await vi.advanceTimersByTimeAsync(10);
    lease.confirm(lease.ticket(), 400);
    const byExtend = INTERVAL + 10 + 400 - clockDrift(400);
    reply.resolve(held());
    await flush();
    expect(lease.validUntil).toBe(byExtend);
    lease.stop();
  });
});

describe('Lease: stop()', () => {
  it('between renewals, leaves no timer and sends nothing more', async () => {
    const { lease, renewals, onLost } = startLease();
    await vi.advanceTimersByTimeAsync(INTERVAL + 100);
    lease.stop();
    expectDisarmed(lease);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(renewals).toHaveLength(1);
    expect(onLost).not.toHaveBeenCalled();
  });

  it('ends renewals and the deadline; later replies and confirmations are ignored', async () => {
    const reply = deferred<RenewalResult>();
    const { lease, renewals, onLost, onRenewalFailed } = startLease([reply.promise]);
    await vi.advanceTimersByTimeAsync(INTERVAL + 50);
    lease.stop();
    expectDisarmed(lease);
    reply.reject(new Error('too late'));
    lease.confirm(lease.ticket(), 5 * TTL);
    lease.unknownOutcome(lease.ticket(), 1, true);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(lease.validUntil).toBe(VALIDITY);
    expect(renewals).toHaveLength(1);
    expect(onRenewalFailed).not.toHaveBeenCalled();
    expect(onLost).not.toHaveBeenCalled();
  });
});
