/**
 * Lock histories: what each holder believed, when, recorded by the holders themselves (possibly in
 * many processes), and a checker that finds two holders inside the same lock at once.
 *
 * Times are microseconds on the machine-wide monotonic clock (`process.hrtime.bigint()`, i.e.
 * CLOCK_MONOTONIC on Linux), which every process on one machine shares, so intervals recorded in
 * different processes can be compared directly. They are not comparable across machines.
 *
 * @packageDocumentation
 */
import { LockLostError, LockReleasedError } from '@lock/core';

/** One hold of a lock as its holder saw it: from "acquire confirmed" to "release sent". */
export interface HoldInterval {
  /** The lock's name. Only intervals on the same name can overlap. */
  readonly lock: string;
  /** The holder's owner token. */
  readonly token: string;
  /** The fencing token of this hold, or `null` when none was minted. */
  readonly fencingToken: number | null;
  /** The process that held it. */
  readonly pid: number;
  /** Free-form label for reports, e.g. the client kind. */
  readonly label: string;
  /** When the holder learnt that it holds the lock (µs, monotonic). */
  readonly start: number;
  /** When the holder sent its release, or stopped acting as the holder (µs, monotonic). */
  readonly end: number;
  /**
   * When the holder was told its lock was lost (its `signal` aborted with a reason other than
   * `released`), in µs; `null` if it never was.
   */
  readonly lostNoticeAt: number | null;
  /** The `reason` of that loss (`expired`, `taken`, `unreachable`), or `null`. */
  readonly lostReason: string | null;
  /**
   * For a read-write lock: a shared `read` hold or an exclusive `write` hold. Absent for a mutex
   * (every hold exclusive); see {@link checkReadWriteHistory}.
   */
  readonly mode?: HoldMode;
  /** How many semaphore permits the hold took (see {@link checkCapacity}); absent means 1. */
  readonly permits?: number;
}

/** The kind of a read-write lock hold. */
export type HoldMode = 'read' | 'write';

/** What {@link HistoryRecorder.begin} may record about a hold besides the lock itself. */
export interface HoldDetails {
  /** A read-write lock's `read` or `write` hold. */
  readonly mode?: HoldMode;
  /** How many semaphore permits the hold took, when more than one. */
  readonly permits?: number;
}

/** The parts of a held `Lock` the recorder reads; a `Lock` from `@lock/core` fits. */
export interface RecordableLock {
  readonly name: string;
  readonly token: string;
  readonly fencingToken: number | undefined;
  readonly signal: AbortSignal;
}

/** A hold that has begun and not yet ended. */
export interface OpenHold {
  /**
   * Closes the interval now: call it right before sending the release (or when the holder stops
   * acting as one). A loss notice that arrives later is still added to the returned interval's
   * record in the recorder, so the report shows that the holder was told too late.
   */
  end(): HoldInterval;
}

/** Options of {@link HistoryRecorder}. */
export interface HistoryRecorderOptions {
  /** Label copied into every interval, e.g. `ioredis`. @default '' */
  readonly label?: string;
  /** The process id to record. @default process.pid */
  readonly pid?: number;
  /** Clock in µs; replaceable for tests of the recorder itself. @default monotonicMicros */
  readonly now?: () => number;
}

/** Microseconds on CLOCK_MONOTONIC: comparable across all processes of one machine. */
export function monotonicMicros(): number {
  // µs rather than ns: ns since boot exceed Number.MAX_SAFE_INTEGER after ~104 days of uptime.
  return Number(process.hrtime.bigint() / 1000n);
}

type MutableInterval = { -readonly [K in keyof HoldInterval]: HoldInterval[K] };

/**
 * Records the holds of one process. Call {@link HistoryRecorder.begin} right after an acquire
 * resolved `true`, and `end()` on what it returns right before releasing.
 */
export class HistoryRecorder {
  readonly #label: string;
  readonly #pid: number;
  readonly #now: () => number;
  readonly #closed: MutableInterval[] = [];

  constructor(options: HistoryRecorderOptions = {}) {
    this.#label = options.label ?? '';
    this.#pid = options.pid ?? process.pid;
    this.#now = options.now ?? monotonicMicros;
  }

  /**
   * Starts an interval for `lock`, which must be held right now. `details`: a read-write lock's
   * hold `mode` (or just the mode), and how many semaphore `permits` the hold took.
   */
  begin(lock: RecordableLock, details?: HoldMode | HoldDetails): OpenHold {
    const { mode, permits } =
      typeof details === 'string' ? { mode: details, permits: undefined } : (details ?? {});
    const record: MutableInterval = {
      ...(mode === undefined ? {} : { mode }),
      ...(permits === undefined ? {} : { permits }),
      lock: lock.name,
      token: lock.token,
      fencingToken: lock.fencingToken ?? null,
      pid: this.#pid,
      label: this.#label,
      start: this.#now(),
      end: Number.NaN,
      lostNoticeAt: null,
      lostReason: null,
    };
    const noteLoss = () => {
      const reason: unknown = lock.signal.reason;
      if (LockReleasedError.isInstance(reason)) return;
      record.lostNoticeAt = this.#now();
      record.lostReason = LockLostError.isInstance(reason) ? reason.reason : String(reason);
    };
    // A signal that is already aborted means the hold was lost before we even began recording.
    if (lock.signal.aborted) noteLoss();
    else lock.signal.addEventListener('abort', noteLoss, { once: true });

    let ended = false;
    return {
      end: () => {
        if (ended) throw new Error(`hold of "${lock.name}" by ${lock.token} was already ended`);
        ended = true;
        record.end = this.#now();
        this.#closed.push(record);
        return { ...record };
      },
    };
  }

  /** Every closed interval so far, as plain (JSON-safe) objects. */
  get intervals(): HoldInterval[] {
    return this.#closed.map((record) => ({ ...record }));
  }
}

/** Two holds of the same lock that were in force at the same time. */
export interface Overlap {
  /** The hold that began first (ties: the one that ends first). */
  readonly earlier: HoldInterval;
  readonly later: HoldInterval;
  /** Start and end of the shared time, µs. */
  readonly from: number;
  readonly to: number;
}

/** Two holds of the same lock whose fencing tokens do not increase with acquire time. */
export interface FencingViolation {
  readonly earlier: HoldInterval;
  readonly later: HoldInterval;
}

/** What {@link checkHistory} found. */
export interface HistoryReport {
  /** The intervals checked, per lock sorted by start. */
  readonly intervals: readonly HoldInterval[];
  /** Overlaps that break mutual exclusion: the earlier holder had not been told it lost the lock. */
  readonly overlaps: readonly Overlap[];
  /**
   * Overlaps in which the earlier holder had been told it lost the lock, at or before the later
   * hold began: the library did its part; stopping was up to the holder.
   */
  readonly excusedOverlaps: readonly Overlap[];
  /** Neighbours in acquire order whose fencing tokens do not strictly increase. */
  readonly fencingViolations: readonly FencingViolation[];
}

/**
 * Checks a history of holds, from any number of processes on one machine.
 *
 * - Two intervals on the same lock overlap when they share time: touching (`a.end === b.start`) is
 *   fine. An overlap is excused when the earlier holder was told of its loss (`lostNoticeAt`) no
 *   later than the moment the later hold began; otherwise it is a violation.
 * - Fencing tokens, where present, must strictly increase in order of `start` on each lock.
 *
 * @throws TypeError for an interval whose times are not finite or that ends before it starts.
 */
export function checkHistory(intervals: readonly HoldInterval[]): HistoryReport {
  return checkByLock(intervals, (list, report) => {
    findOverlaps(list, () => true, report);
    checkNeighbourTokens(list, report);
  });
}

/**
 * Checks a read-write lock's history (intervals carry `mode`; one without counts as a write):
 *
 * - Overlaps: a write hold must share no time with any other hold; read holds may share time with
 *   each other. Excused as in {@link checkHistory}: the earlier holder was told of its loss first.
 * - Fencing: write holds' tokens strictly increase in order of `start`; and when one hold ended
 *   before another began and either is a write hold, the later one's token is higher (a reader
 *   sees a token above every writer before it; a writer, above every hold before it). Tokens of
 *   read holds among themselves are not compared: readers run side by side.
 *
 * @throws TypeError for an interval whose times are not finite or that ends before it starts.
 */
export function checkReadWriteHistory(intervals: readonly HoldInterval[]): HistoryReport {
  const isWrite = (interval: HoldInterval) => interval.mode !== 'read';
  return checkByLock(intervals, (list, report) => {
    findOverlaps(list, (a, b) => isWrite(a) || isWrite(b), report);
    const found = report.fencingViolations.length;
    checkNeighbourTokens(list.filter(isWrite), report);
    checkTokensAfterEnds(list, isWrite, report);
    // Two write holds out of order are found by both checks: report each pair once.
    const seen = new Set<string>();
    const fresh = report.fencingViolations.splice(found).filter(({ earlier, later }) => {
      const pair = `${earlier.token}\0${later.token}`;
      return !seen.has(pair) && seen.add(pair);
    });
    report.fencingViolations.push(...fresh);
  });
}

type ReportLists = {
  overlaps: Overlap[];
  excusedOverlaps: Overlap[];
  fencingViolations: FencingViolation[];
};

/** Validates, groups by lock, sorts each lock's intervals by start, and runs `check` on each. */
function checkByLock(
  intervals: readonly HoldInterval[],
  check: (sortedList: readonly HoldInterval[], report: ReportLists) => void,
): HistoryReport {
  const byLock = validIntervalsByLock(intervals);
  const sorted: HoldInterval[] = [];
  const report: ReportLists = { overlaps: [], excusedOverlaps: [], fencingViolations: [] };
  for (const list of byLock.values()) {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    sorted.push(...list);
    check(list, report);
  }
  return { intervals: sorted, ...report };
}

/** Every pair of `list` (sorted by start) that shares time and `conflicts`, excused or not. */
function findOverlaps(
  list: readonly HoldInterval[],
  conflicts: (earlier: HoldInterval, later: HoldInterval) => boolean,
  report: ReportLists,
): void {
  for (let i = 0; i < list.length; i += 1) {
    const earlier = list[i] as HoldInterval;
    // Sorted by start, so the scan can stop at the first interval that begins after this ends.
    for (let j = i + 1; j < list.length; j += 1) {
      const later = list[j] as HoldInterval;
      if (later.start >= earlier.end) break;
      if (!conflicts(earlier, later)) continue;
      const overlap = { earlier, later, from: later.start, to: Math.min(earlier.end, later.end) };
      if (overlap.from === overlap.to) continue; // a zero-length hold shares no time
      const told = earlier.lostNoticeAt !== null && earlier.lostNoticeAt <= overlap.from;
      (told ? report.excusedOverlaps : report.overlaps).push(overlap);
    }
  }
}

/** Fencing tokens of `list` (sorted by start) must strictly increase from one to the next. */
function checkNeighbourTokens(list: readonly HoldInterval[], report: ReportLists): void {
  // Equal starts give no order to check against, so break ties by token, never flagging them.
  const fenced = list
    .filter((interval) => interval.fencingToken !== null)
    .sort((a, b) => a.start - b.start || (a.fencingToken ?? 0) - (b.fencingToken ?? 0));
  for (let i = 1; i < fenced.length; i += 1) {
    const earlier = fenced[i - 1] as HoldInterval;
    const later = fenced[i] as HoldInterval;
    if ((later.fencingToken ?? 0) <= (earlier.fencingToken ?? 0))
      report.fencingViolations.push({ earlier, later });
  }
}

/**
 * For every hold, the highest token among the holds that ended before it began (write holds only,
 * unless it is a write hold itself) must be below its own. One sweep over the ends: O(n log n).
 */
function checkTokensAfterEnds(
  list: readonly HoldInterval[],
  isWrite: (interval: HoldInterval) => boolean,
  report: ReportLists,
): void {
  const fenced = list.filter((interval) => interval.fencingToken !== null);
  const byEnd = [...fenced].sort((a, b) => a.end - b.end);
  let ended = 0;
  let highestWrite: HoldInterval | undefined;
  let highestAny: HoldInterval | undefined;
  const token = (interval: HoldInterval | undefined) => interval?.fencingToken ?? Number.NEGATIVE_INFINITY;
  for (const later of fenced) {
    for (; ended < byEnd.length && (byEnd[ended] as HoldInterval).end <= later.start; ended += 1) {
      const done = byEnd[ended] as HoldInterval;
      if (token(done) > token(highestAny)) highestAny = done;
      if (isWrite(done) && token(done) > token(highestWrite)) highestWrite = done;
    }
    const earlier = isWrite(later) ? highestAny : highestWrite;
    if (earlier !== undefined && token(earlier) >= token(later)) {
      report.fencingViolations.push({ earlier, later });
    }
  }
}

/** Checks every interval's times, and groups the intervals by lock. */
function validIntervalsByLock(intervals: readonly HoldInterval[]): Map<string, HoldInterval[]> {
  const byLock = new Map<string, HoldInterval[]>();
  for (const interval of intervals) {
    if (!Number.isFinite(interval.start) || !Number.isFinite(interval.end) || interval.end < interval.start) {
      throw new TypeError(
        `invalid interval on "${interval.lock}" by ${interval.token}: [${interval.start}, ${interval.end}]`,
      );
    }
    const list = byLock.get(interval.lock) ?? [];
    list.push(interval);
    byLock.set(interval.lock, list);
  }
  return byLock;
}

/** A stretch of time during which one semaphore had more permits held than its limit. */
export interface CapacityViolation {
  readonly lock: string;
  /** Start and end of the stretch, µs. */
  readonly from: number;
  readonly to: number;
  /** The most permits held at once within it. */
  readonly peak: number;
  readonly limit: number;
  /** The holds in force at that peak. */
  readonly holders: readonly HoldInterval[];
}

/** What {@link checkCapacity} found. */
export interface CapacityReport {
  /** Stretches over the limit, counting each hold only until its holder was told of its loss. */
  readonly violations: readonly CapacityViolation[];
  /**
   * Stretches over the limit that vanish once each hold is cut at its loss notice: the library
   * told the holder; stopping was up to it. (Reported as found when counting whole holds.)
   */
  readonly excusedViolations: readonly CapacityViolation[];
}

/**
 * Checks that no lock (semaphore) ever had more than `limit` permits held at once, in a history
 * from any number of processes on one machine. Each hold counts `permits` (default 1) over
 * `[start, end]`; holds that touch (`a.end === b.start`) do not share time. A hold whose holder was
 * told of its loss (`lostNoticeAt`) counts only until that notice: an excess that needs the time
 * after it is excused, like an excused overlap in {@link checkHistory}. With `limit` 1 this is
 * mutual exclusion.
 *
 * @throws TypeError for an interval whose times are not finite or that ends before it starts, or a
 *   limit that is not a positive integer.
 */
export function checkCapacity(intervals: readonly HoldInterval[], limit: number): CapacityReport {
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new TypeError(`limit must be a positive integer, got ${limit}`);
  }
  const violations: CapacityViolation[] = [];
  const excusedViolations: CapacityViolation[] = [];
  for (const list of validIntervalsByLock(intervals).values()) {
    const told = excessStretches(list, limit, (interval) =>
      interval.lostNoticeAt === null
        ? interval.end
        : Math.max(interval.start, Math.min(interval.end, interval.lostNoticeAt)),
    );
    violations.push(...told);
    for (const stretch of excessStretches(list, limit, (interval) => interval.end)) {
      const unexcused = told.some((violation) => violation.from < stretch.to && stretch.from < violation.to);
      if (!unexcused) excusedViolations.push(stretch);
    }
  }
  return { violations, excusedViolations };
}

/**
 * Sweeps the holds of one lock in time order, each counted from its start to `endOf(hold)`, and
 * returns every stretch during which more than `limit` permits were held.
 */
function excessStretches(
  list: readonly HoldInterval[],
  limit: number,
  endOf: (interval: HoldInterval) => number,
): CapacityViolation[] {
  type SweepEvent = { time: number; delta: number; interval: HoldInterval };
  const events: SweepEvent[] = [];
  for (const interval of list) {
    const end = endOf(interval);
    if (end <= interval.start) continue; // a zero-length hold shares no time
    const permits = interval.permits ?? 1;
    events.push({ time: interval.start, delta: permits, interval }, { time: end, delta: -permits, interval });
  }
  // At equal times, ends come first: touching holds do not share time.
  events.sort((a, b) => a.time - b.time || a.delta - b.delta);

  const stretches: CapacityViolation[] = [];
  const active = new Set<HoldInterval>();
  let held = 0;
  let open: { from: number; peak: number; holders: HoldInterval[] } | undefined;
  for (const { time, delta, interval } of events) {
    held += delta;
    if (delta > 0) active.add(interval);
    else active.delete(interval);
    if (held > limit) {
      if (open === undefined) open = { from: time, peak: held, holders: [...active] };
      else if (held > open.peak) Object.assign(open, { peak: held, holders: [...active] });
    } else if (open !== undefined) {
      stretches.push({
        lock: interval.lock,
        from: open.from,
        to: time,
        peak: open.peak,
        limit,
        holders: open.holders,
      });
      open = undefined;
    }
  }
  return stretches;
}
