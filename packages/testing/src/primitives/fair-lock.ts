/**
 * Fair lock (`fair: true`): arrival order, wake-one hand-off, and waiters that give up or crash
 * leaving the queue without blocking the ones behind them.
 */
import { describe } from 'vitest';
import type { PrimitiveSuiteContext } from '../primitives.js';

export function describeFairLock(_suite: PrimitiveSuiteContext): void {
  describe('fair lock (B6)', () => {});
}
