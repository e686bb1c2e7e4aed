/**
 * How long to wait before the next acquire attempt. Random jitter keeps waiters that failed
 * together from retrying together (the thundering herd).
 */
import type { ResolvedLockOptions } from '../options.js';

/** A source of uniform random numbers in [0, 1); injectable so the delays can be unit-tested. */
export type RandomSource = () => number;

/**
 * The wait before retry number `retry` (1 for the first retry), in whole ms.
 * - `fixed`: `retryDelay ± retryJitter`, never below 0.
 * - `exponential`: full jitter, uniform in `[0, min(maxRetryDelay, retryDelay × 2^(retry-1))]`.
 */
export function retryDelayFor(
  retry: number,
  options: Pick<ResolvedLockOptions, 'backoff' | 'retryDelay' | 'retryJitter' | 'maxRetryDelay'>,
  random: RandomSource = Math.random,
): number {
  if (options.backoff === 'exponential') {
    // Math.min before the power would overflow for large retry numbers.
    const exponent = Math.min(retry - 1, 30);
    const ceiling = Math.min(options.maxRetryDelay, options.retryDelay * 2 ** exponent);
    return Math.round(random() * ceiling);
  }
  const offset = (random() * 2 - 1) * options.retryJitter;
  return Math.max(0, Math.round(options.retryDelay + offset));
}
