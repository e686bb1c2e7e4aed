/** Clocks and pauses shared by the scenarios. */
import { setTimeout as delay } from 'node:timers/promises';

/** Monotonic milliseconds. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => delay(ms);

/** Operations per second. */
export const perSecond = (count: number, elapsedMs: number): number => (count / elapsedMs) * 1_000;

/** `[0, 1, …, n − 1]`. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
