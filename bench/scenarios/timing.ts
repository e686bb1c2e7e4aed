/** Clocks and pauses shared by the scenarios. */
import { setTimeout as delay } from 'node:timers/promises';

/** Monotonic milliseconds. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => delay(ms);

/** Operations per second. */
export const perSecond = (count: number, elapsedMs: number): number => (count / elapsedMs) * 1_000;

/** `[0, 1, …, n − 1]`. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The flags that worker loops of a measured run read. */
export interface Phase {
  measuring: boolean;
  stopped: boolean;
}

/**
 * Lets `workers` run for `warmupMs`, then measures for `durationMs` (with `phase.measuring` set)
 * and stops them; resolves the measured time in ms. A worker error (Redis failure) fails the run
 * instead of hanging it.
 */
export async function measurePhase(
  phase: Phase,
  workers: readonly Promise<void>[],
  { warmupMs, durationMs }: { warmupMs: number; durationMs: number },
  onMeasured?: () => Promise<void>,
): Promise<number> {
  const failure = Promise.race(workers).then(() => new Promise<never>(() => {}));
  await Promise.race([sleep(warmupMs), failure]);
  await onMeasured?.();
  phase.measuring = true;
  const started = now();
  await Promise.race([sleep(durationMs), failure]);
  phase.measuring = false;
  phase.stopped = true;
  return now() - started;
}
