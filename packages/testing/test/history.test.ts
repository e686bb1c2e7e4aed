import { Locker, LockLostError, LockReleasedError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import {
  checkCapacity,
  checkHistory,
  checkReadWriteHistory,
  HistoryRecorder,
  type HoldInterval,
  monotonicMicros,
} from '../src/history.js';

let tokenCounter = 0;
/** A synthetic interval; times in µs. */
function hold(start: number, end: number, extra: Partial<HoldInterval> = {}): HoldInterval {
  tokenCounter += 1;
  return {
    lock: 'L',
    token: `t${tokenCounter}`,
    fencingToken: null,
    pid: 1,
    label: '',
    start,
    end,
    lostNoticeAt: null,
    lostReason: null,
    ...extra,
  };
}

describe('checkHistory', () => {
  it('finds nothing in a clean sequential history', () => {
    const report = checkHistory([
      hold(0, 10, { fencingToken: 1 }),
      hold(20, 30, { fencingToken: 2 }),
      hold(31, 40, { fencingToken: 5 }),
    ]);
    expect(report.overlaps).toEqual([]);
    expect(report.excusedOverlaps).toEqual([]);
    expect(report.fencingViolations).toEqual([]);
    expect(report.intervals).toHaveLength(3);
  });

  it('detects two holds of the same lock that share time, whatever order they are given in', () => {
    const first = hold(0, 100);
    const second = hold(60, 150);
    const report = checkHistory([second, first]);
    expect(report.overlaps).toHaveLength(1);
    expect(report.overlaps[0]).toMatchObject({ earlier: first, later: second, from: 60, to: 100 });
  });

  it('detects a hold nested inside another, and every pair of a three-way overlap', () => {
    expect(checkHistory([hold(0, 100), hold(10, 20)]).overlaps[0]).toMatchObject({ from: 10, to: 20 });
    expect(checkHistory([hold(0, 100), hold(10, 50), hold(40, 60)]).overlaps).toHaveLength(3);
  });

  it('accepts holds that touch but do not overlap (end === next start)', () => {
    const report = checkHistory([hold(0, 10), hold(10, 20), hold(20, 30)]);
    expect(report.overlaps).toEqual([]);
  });

  it('treats the same microsecond at both ends as touching, but one µs more as an overlap', () => {
    expect(checkHistory([hold(0, 10), hold(10, 10)]).overlaps).toEqual([]);
    expect(checkHistory([hold(0, 11), hold(10, 20)]).overlaps).toHaveLength(1);
  });

  it('never compares holds of different locks', () => {
    const report = checkHistory([hold(0, 100, { lock: 'a' }), hold(50, 150, { lock: 'b' })]);
    expect(report.overlaps).toEqual([]);
  });

  it('excuses an overlap when the earlier holder was told of its loss before the later hold began', () => {
    const stale = hold(0, 100, { lostNoticeAt: 40, lostReason: 'expired' });
    const report = checkHistory([stale, hold(50, 150)]);
    expect(report.overlaps).toEqual([]);
    expect(report.excusedOverlaps).toHaveLength(1);
    expect(report.excusedOverlaps[0]?.earlier).toBe(stale);
  });

  it('excuses a notice at the very moment the later hold began', () => {
    const report = checkHistory([hold(0, 100, { lostNoticeAt: 50 }), hold(50, 150)]);
    expect(report.overlaps).toEqual([]);
    expect(report.excusedOverlaps).toHaveLength(1);
  });

  it('does not excuse a notice that came after the later hold began (a blocked holder)', () => {
    const report = checkHistory([hold(0, 100, { lostNoticeAt: 70, lostReason: 'expired' }), hold(50, 150)]);
    expect(report.overlaps).toHaveLength(1);
    expect(report.excusedOverlaps).toEqual([]);
  });

  it("does not excuse an overlap by the later holder's notice", () => {
    const report = checkHistory([hold(0, 100), hold(50, 150, { lostNoticeAt: 10 })]);
    expect(report.overlaps).toHaveLength(1);
  });

  it('flags fencing tokens that do not strictly increase with acquire time', () => {
    const a = hold(0, 10, { fencingToken: 1 });
    const b = hold(20, 30, { fencingToken: 3 });
    const c = hold(40, 50, { fencingToken: 2 });
    const d = hold(60, 70, { fencingToken: 2 });
    const report = checkHistory([d, c, b, a]);
    expect(report.overlaps).toEqual([]);
    expect(report.fencingViolations).toEqual([
      { earlier: b, later: c },
      { earlier: c, later: d },
    ]);
  });

  it('checks fencing per lock, skipping holds without a token', () => {
    const report = checkHistory([
      hold(0, 10, { lock: 'a', fencingToken: 7 }),
      hold(20, 30, { lock: 'b', fencingToken: 1 }),
      hold(40, 50, { lock: 'a', fencingToken: null }),
      hold(60, 70, { lock: 'a', fencingToken: 8 }),
    ]);
    expect(report.fencingViolations).toEqual([]);
  });

  it('rejects an interval that ends before it starts', () => {
    expect(() => checkHistory([hold(10, 5)])).toThrow(TypeError);
    expect(() => checkHistory([hold(0, Number.NaN)])).toThrow(TypeError);
  });
});

/** A small seeded PRNG (mulberry32), so that the generated histories are the same every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The history an in-memory semaphore produces: `clients` clients each take `permitsOf(client)`
 * permits, hold them a random while and give them back, `rounds` times, on a simulated clock.
 * `admits(inUse, permits)` is the semaphore's admission check: a correct one or a broken one.
 */
function simulateSemaphore(
  admits: (inUse: number, permits: number) => boolean,
  {
    clients = 8,
    rounds = 30,
    permitsOf = () => 1,
    seed = 7,
  }: { clients?: number; rounds?: number; permitsOf?: (client: number) => number; seed?: number } = {},
): HoldInterval[] {
  const random = seeded(seed);
  type Client = { permits: number; holdUntil: number | null; start: number; left: number };
  const state: Client[] = Array.from({ length: clients }, (_, client) => ({
    permits: permitsOf(client),
    holdUntil: null,
    start: 0,
    left: rounds,
  }));
  const history: HoldInterval[] = [];
  let inUse = 0;
  for (let now = 0; state.some((client) => client.left > 0 || client.holdUntil !== null); now += 1) {
    for (const client of state) {
      if (client.holdUntil !== null && client.holdUntil <= now) {
        history.push(hold(client.start, now, { permits: client.permits }));
        inUse -= client.permits;
        client.holdUntil = null;
      }
    }
    for (const client of state) {
      if (client.holdUntil === null && client.left > 0 && random() < 0.5 && admits(inUse, client.permits)) {
        inUse += client.permits;
        client.left -= 1;
        client.start = now;
        client.holdUntil = now + 1 + Math.floor(random() * 10);
      }
    }
  }
  return history;
}

describe('checkCapacity', () => {
  it('accepts up to limit holds at once', () => {
    const report = checkCapacity([hold(0, 100), hold(10, 90), hold(20, 80), hold(100, 150)], 3);
    expect(report.violations).toEqual([]);
    expect(report.excusedViolations).toEqual([]);
  });

  it('finds limit + 1 holds at once: when, how many, and who', () => {
    const [a, b, c, d] = [hold(0, 100), hold(10, 90), hold(20, 80), hold(50, 60)];
    const report = checkCapacity([d, c, b, a] as HoldInterval[], 3);
    expect(report.violations).toEqual([
      { lock: 'L', from: 50, to: 60, peak: 4, limit: 3, holders: [a, b, c, d] },
    ]);
  });

  it('reports one stretch per excess, with its peak', () => {
    const report = checkCapacity([hold(0, 100), hold(10, 30), hold(20, 40), hold(50, 80), hold(60, 70)], 2);
    expect(report.violations.map(({ from, to, peak }) => ({ from, to, peak }))).toEqual([
      { from: 20, to: 30, peak: 3 },
      { from: 60, to: 70, peak: 3 },
    ]);
  });

  it('accepts holds that touch: an end and a start at the same microsecond share no time', () => {
    expect(checkCapacity([hold(0, 10), hold(0, 10), hold(10, 20), hold(10, 20)], 2).violations).toEqual([]);
    expect(checkCapacity([hold(0, 11), hold(0, 10), hold(10, 20), hold(10, 20)], 2).violations).toHaveLength(
      1,
    );
  });

  it('counts a hold of several permits as that many', () => {
    expect(checkCapacity([hold(0, 10, { permits: 2 }), hold(5, 15)], 3).violations).toEqual([]);
    const report = checkCapacity([hold(0, 10, { permits: 3 }), hold(5, 15)], 3);
    expect(report.violations[0]).toMatchObject({ from: 5, to: 10, peak: 4 });
  });

  it('checks each lock apart', () => {
    const report = checkCapacity([hold(0, 10, { lock: 'a' }), hold(0, 10, { lock: 'b' })], 1);
    expect(report.violations).toEqual([]);
  });

  it('excuses an excess that only exists after a holder was told of its loss', () => {
    const stale = hold(0, 100, { lostNoticeAt: 40, lostReason: 'expired' });
    const report = checkCapacity([stale, hold(10, 100), hold(50, 100)], 2);
    expect(report.violations).toEqual([]);
    expect(report.excusedViolations).toHaveLength(1);
    expect(report.excusedViolations[0]).toMatchObject({ from: 50, to: 100, peak: 3 });
  });

  it('does not excuse an excess that began before the notice', () => {
    const late = hold(0, 100, { lostNoticeAt: 70, lostReason: 'expired' });
    const report = checkCapacity([late, hold(10, 100), hold(50, 100)], 2);
    expect(report.violations).toEqual([expect.objectContaining({ from: 50, to: 70, peak: 3 })]);
    expect(report.excusedViolations).toEqual([]);
  });

  it('with limit 1 agrees with checkHistory on 200 random histories', () => {
    const random = seeded(42);
    for (let run = 0; run < 200; run += 1) {
      const history = Array.from({ length: 6 }, () => {
        const start = Math.floor(random() * 100);
        return hold(start, start + Math.floor(random() * 30));
      });
      const exclusive = checkHistory(history).overlaps.length === 0;
      expect(checkCapacity(history, 1).violations.length === 0, JSON.stringify(history)).toBe(exclusive);
    }
  });

  it('passes a correct semaphore and catches an off-by-one one (a checker that can fail)', () => {
    const correct = simulateSemaphore((inUse, permits) => inUse + permits <= 3);
    const offByOne = simulateSemaphore((inUse, permits) => inUse + permits <= 3 + 1);
    const ignoresPermits = simulateSemaphore((inUse) => inUse < 3, {
      permitsOf: (client) => 1 + (client % 2),
    });
    expect(correct.length).toBe(8 * 30);
    expect(checkCapacity(correct, 3).violations).toEqual([]);
    expect(checkCapacity(offByOne, 3).violations.length).toBeGreaterThan(0);
    expect(checkCapacity(ignoresPermits, 3).violations.length).toBeGreaterThan(0);
    // And the broken ones' own histories stay within what they actually admitted.
    expect(checkCapacity(offByOne, 4).violations).toEqual([]);
  });

  it('rejects a bad interval or limit', () => {
    expect(() => checkCapacity([hold(10, 5)], 1)).toThrow(TypeError);
    expect(() => checkCapacity([], 0)).toThrow(TypeError);
    expect(() => checkCapacity([], 1.5)).toThrow(TypeError);
  });
});

describe('HistoryRecorder', () => {
  /** A stand-in for a held Lock whose signal the test controls. */
  function fakeLock(name = 'L', fencingToken: number | null = 4) {
    const controller = new AbortController();
    return {
      lock: {
        name,
        token: `tok-${name}`,
        fencingToken: fencingToken ?? undefined,
        signal: controller.signal,
      },
      lose: (reason: 'expired' | 'taken' | 'released') =>
        controller.abort(
          reason === 'released' ? new LockReleasedError(name) : new LockLostError(name, reason),
        ),
    };
  }

  it('records start, end, tokens, pid and label with the injected clock', () => {
    let now = 100;
    const recorder = new HistoryRecorder({ label: 'ioredis', pid: 42, now: () => now });
    const { lock } = fakeLock();
    const open = recorder.begin(lock);
    now = 250;
    expect(open.end()).toEqual({
      lock: 'L',
      token: 'tok-L',
      fencingToken: 4,
      pid: 42,
      label: 'ioredis',
      start: 100,
      end: 250,
      lostNoticeAt: null,
      lostReason: null,
    });
    expect(() => open.end()).toThrow(/already ended/);
    expect(recorder.intervals).toHaveLength(1);
  });

  it('records the permits of a semaphore hold, when given', () => {
    const recorder = new HistoryRecorder({ now: () => 1 });
    expect(recorder.begin(fakeLock('one').lock).end()).not.toHaveProperty('permits');
    expect(recorder.begin(fakeLock('three').lock, { permits: 3 }).end()).toMatchObject({ permits: 3 });
  });

  it('records when the holder is told of a loss, but not a normal release', () => {
    let now = 0;
    const recorder = new HistoryRecorder({ now: () => now });
    const lost = fakeLock('lost');
    const released = fakeLock('released', null);
    const lostHold = recorder.begin(lost.lock);
    const releasedHold = recorder.begin(released.lock);
    now = 30;
    lost.lose('expired');
    released.lose('released');
    now = 50;
    lostHold.end();
    releasedHold.end();
    const [a, b] = recorder.intervals;
    expect(a).toMatchObject({ lock: 'lost', lostNoticeAt: 30, lostReason: 'expired' });
    expect(b).toMatchObject({ lock: 'released', fencingToken: null, lostNoticeAt: null, lostReason: null });
  });

  it('keeps recording a notice that arrives after the interval ended (told too late)', () => {
    let now = 0;
    const recorder = new HistoryRecorder({ now: () => now });
    const { lock, lose } = fakeLock();
    const open = recorder.begin(lock);
    now = 10;
    open.end();
    now = 20;
    lose('taken');
    expect(recorder.intervals[0]).toMatchObject({ end: 10, lostNoticeAt: 20, lostReason: 'taken' });
  });

  it('records a real Lock handle: its token and fencing token, and a release is no loss', async () => {
    // A scripted runner stands in for Redis: the recorder only reads the handle.
    const locker = new Locker({ run: async (script) => (script.name === 'acquire' ? [1, 1, 9] : 0) });
    const lock = locker.createLock('real');
    expect(await lock.acquire()).toBe(true);
    const recorder = new HistoryRecorder();
    const before = monotonicMicros();
    const open = recorder.begin(lock);
    const interval = open.end();
    expect(await lock.release()).toBe(true);
    expect(interval).toMatchObject({ lock: 'real', token: lock.token, fencingToken: 9, pid: process.pid });
    expect(interval.start).toBeGreaterThanOrEqual(before);
    expect(interval.end).toBeGreaterThanOrEqual(interval.start);
    expect(recorder.intervals[0]?.lostNoticeAt).toBeNull();
  });

  it('uses a clock shared by every process: a child process reads a time between two of ours', async () => {
    const { execFile } = await import('node:child_process');
    const before = monotonicMicros();
    const childTime = await new Promise<number>((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', 'process.stdout.write(String(process.hrtime.bigint() / 1000n))'],
        (error, stdout) => (error ? reject(error) : resolve(Number(stdout))),
      );
    });
    const after = monotonicMicros();
    expect(childTime).toBeGreaterThan(before);
    expect(childTime).toBeLessThan(after);
  });
});

describe('checkReadWriteHistory', () => {
  const read = (start: number, end: number, extra: Partial<HoldInterval> = {}) =>
    hold(start, end, { mode: 'read', ...extra });
  const write = (start: number, end: number, extra: Partial<HoldInterval> = {}) =>
    hold(start, end, { mode: 'write', ...extra });

  it('finds nothing in a clean history: readers side by side, writers alone, tokens rising', () => {
    const history = [
      read(0, 50, { fencingToken: 2 }),
      read(10, 40, { fencingToken: 1 }), // readers' tokens among themselves: any order
      read(20, 60, { fencingToken: 3 }),
      write(60, 80, { fencingToken: 4 }),
      read(80, 100, { fencingToken: 6 }),
      read(85, 90, { fencingToken: 5 }),
      write(100, 110, { fencingToken: 7 }),
    ];
    const report = checkReadWriteHistory(history);
    expect(report.overlaps).toEqual([]);
    expect(report.excusedOverlaps).toEqual([]);
    expect(report.fencingViolations).toEqual([]);
    // The mutex checker would call the same history broken: readers share time.
    expect(checkHistory(history).overlaps.length).toBeGreaterThan(0);
  });

  it('fails a writer that shares time with a reader or a writer, whichever began first', () => {
    const readerFirst = checkReadWriteHistory([read(0, 100), write(50, 150)]);
    expect(readerFirst.overlaps).toHaveLength(1);
    expect(readerFirst.overlaps[0]).toMatchObject({ from: 50, to: 100 });
    expect(checkReadWriteHistory([write(0, 100), read(20, 30), read(25, 200)]).overlaps).toHaveLength(2);
    expect(checkReadWriteHistory([write(0, 100), write(99, 101)]).overlaps).toHaveLength(1);
  });

  it('counts an interval without a mode as a write hold', () => {
    expect(checkReadWriteHistory([hold(0, 100), read(50, 60)]).overlaps).toHaveLength(1);
  });

  it('excuses an overlap only when the earlier holder was told of its loss first', () => {
    const told = checkReadWriteHistory([read(0, 100, { lostNoticeAt: 40 }), write(50, 150)]);
    expect(told.overlaps).toEqual([]);
    expect(told.excusedOverlaps).toHaveLength(1);
    const late = checkReadWriteHistory([read(0, 100, { lostNoticeAt: 70 }), write(50, 150)]);
    expect(late.overlaps).toHaveLength(1);
  });

  it('fails write tokens that do not rise, and a hold whose token is not above an earlier writer’s', () => {
    const w1 = write(0, 10, { fencingToken: 5 });
    const w2 = write(20, 30, { fencingToken: 4 });
    expect(checkReadWriteHistory([w1, w2]).fencingViolations).toEqual([{ earlier: w1, later: w2 }]);

    const writer = write(0, 10, { fencingToken: 5 });
    const staleReader = read(20, 30, { fencingToken: 3 });
    expect(checkReadWriteHistory([writer, staleReader]).fencingViolations).toEqual([
      { earlier: writer, later: staleReader },
    ]);

    const reader = read(0, 10, { fencingToken: 9 });
    const staleWriter = write(20, 30, { fencingToken: 8 });
    expect(checkReadWriteHistory([reader, staleWriter]).fencingViolations).toEqual([
      { earlier: reader, later: staleWriter },
    ]);
  });

  it('does not compare tokens of holds that overlap, or of readers only, or holds without a token', () => {
    const report = checkReadWriteHistory([
      read(0, 10, { fencingToken: 9 }),
      read(20, 30, { fencingToken: 3 }),
      write(40, 50, { fencingToken: null }),
      read(60, 70, { fencingToken: 1 }),
    ]);
    expect(report.fencingViolations).toEqual([]);
  });

  it('is what HistoryRecorder records with a mode', () => {
    let now = 0;
    const recorder = new HistoryRecorder({ now: () => now });
    const signal = new AbortController().signal;
    const readHold = recorder.begin({ name: 'L', token: 'r', fencingToken: 1, signal }, 'read');
    const writeHold = recorder.begin({ name: 'L', token: 'w', fencingToken: 2, signal }, 'write');
    now = 10;
    expect(readHold.end().mode).toBe('read');
    expect(writeHold.end().mode).toBe('write');
    expect(checkReadWriteHistory(recorder.intervals).overlaps).toHaveLength(1);
  });
});
