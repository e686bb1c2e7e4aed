/**
 * Time sources. Validity is measured on the monotonic clock, never the wall clock, so a clock
 * step (NTP, a VM resume) cannot make a lost lock look held.
 */

/** Milliseconds on a monotonic clock (`performance.now()`), for deadlines. */
export function monotonicNow(): number {
  return performance.now();
}

/**
 * Safety margin subtracted from a lock's ttl when computing how long it is surely still ours:
 * 1% of the ttl for clock-rate differences between client and server, plus 2 ms for timer
 * resolution (the Redlock paper's drift factor).
 */
export function clockDrift(ttl: number): number {
  return Math.floor(ttl * 0.01) + 2;
}

/** `setTimeout` that does not keep the process alive just for a lock's bookkeeping. */
export function unrefTimeout(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  // Node fires a longer delay after 1 ms; every caller re-checks its deadline when woken early.
  const timer = setTimeout(callback, Math.min(ms, 2_147_483_647));
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
