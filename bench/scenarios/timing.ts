/** Clocks and pauses shared by the scenarios. */
import { setTimeout as delay } from 'node:timers/promises';
import { GCProfiler, getHeapStatistics } from 'node:v8';

/** Monotonic milliseconds. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => delay(ms);

/**
 * CPU time this process has used so far (user + system, all threads: JavaScript, GC, the
 * socket I/O), in microseconds. Far steadier between runs than throughput on a shared machine,
 * since time spent waiting for the server or for another tenant's process is not in it.
 */
export const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Client CPU µs per operation since `startedAt` (a {@link cpuMicros} reading). */
export const cpuPerOperation = (startedAt: number, operations: number): number =>
  operations > 0 ? (cpuMicros() - startedAt) / operations : Number.NaN;

/**
 * Starts counting the bytes the JavaScript heap allocates; `stop()` resolves them. V8 keeps no
 * running total, so this adds up what the heap grew by between garbage collections (from
 * `GCProfiler`, which records the heap before and after each), plus the growth since the last.
 */
export function allocationMeter(): { stop(): number } {
  const profiler = new GCProfiler();
  const startUsed = getHeapStatistics().used_heap_size;
  profiler.start();
  return {
    stop() {
      const endUsed = getHeapStatistics().used_heap_size;
      const { statistics } = profiler.stop();
      let allocated = 0;
      let afterLast = startUsed;
      for (const gc of statistics) {
        allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - afterLast);
        afterLast = gc.afterGC.heapStatistics.usedHeapSize;
      }
      return allocated + Math.max(0, endUsed - afterLast);
    },
  };
}

/** What watches a job's timed window (a CPU profiler when profiling). */
export interface WindowProbe {
  start(): Promise<void>;
  stop(operations: number): Promise<void>;
}

let probe: WindowProbe | undefined;
let probed = false;

/** Installs the probe of this job process (child.ts, when profiling). */
export function setWindowProbe(windowProbe: WindowProbe): void {
  probe = windowProbe;
}

/**
 * Marks the start of the timed window, before its clocks are read. Only the job's first window is
 * watched (the pairs of the uncontended scenario, not its PINGs; the semaphore of the primitives).
 */
export async function windowStarts(): Promise<void> {
  if (probe === undefined || probed) return;
  probed = true;
  await probe.start();
}

/** Marks the end of the timed window, after its clocks are read: `operations` were done in it. */
export async function windowEnds(operations: number): Promise<void> {
  const watching = probe;
  probe = undefined;
  await watching?.stop(operations);
}

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
