import { describe, expect, it } from 'vitest';
import { retryDelayFor } from '../src/handle/backoff.js';
import { resolveLockOptions } from '../src/options.js';

describe('retryDelayFor (pure logic)', () => {
  const fixed = resolveLockOptions({}, { retryDelay: 100, retryJitter: 40 });
  const exponential = resolveLockOptions({}, { backoff: 'exponential', retryDelay: 50, maxRetryDelay: 400 });

  it('fixed: retryDelay ± retryJitter, spanning the whole range', () => {
    expect(retryDelayFor(1, fixed, () => 0)).toBe(60);
    expect(retryDelayFor(1, fixed, () => 0.5)).toBe(100);
    expect(retryDelayFor(7, fixed, () => 0.999_999)).toBe(140);
  });

  it('fixed: never negative when the jitter exceeds the delay', () => {
    const wide = resolveLockOptions({}, { retryDelay: 10, retryJitter: 50 });
    expect(retryDelayFor(1, wide, () => 0)).toBe(0);
  });

  it('exponential: full jitter up to retryDelay × 2^(retry-1), capped at maxRetryDelay', () => {
    expect([1, 2, 3, 4, 5].map((retry) => retryDelayFor(retry, exponential, () => 0.999_999))).toEqual([
      50, 100, 200, 400, 400,
    ]);
    expect(retryDelayFor(3, exponential, () => 0)).toBe(0);
    expect(retryDelayFor(10_000, exponential, () => 0.5)).toBe(200);
  });

  it('uses Math.random by default and stays in range', () => {
    for (let index = 0; index < 1_000; index += 1) {
      const delay = retryDelayFor(1, fixed);
      expect(delay).toBeGreaterThanOrEqual(60);
      expect(delay).toBeLessThanOrEqual(140);
    }
  });
});
