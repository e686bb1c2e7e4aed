/**
 * The sequential measuring loop shared by the uncontended, failed-attempt, quorum and PING
 * measurements: run an operation back to back for a warm-up, then time each one for a while.
 */
import { Sample } from '../stats.js';
import {
  allocationMeter,
  cpuMicros,
  cpuPerOperation,
  now,
  perSecond,
  windowEnds,
  windowStarts,
} from './timing.js';

export interface LoopTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LoopResult {
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** Client CPU µs per operation over the timed part. */
  readonly cpuUs: number;
  /** JavaScript heap bytes allocated per operation over the timed part. */
  readonly heapBytes: number;
}

/** Runs `operation(i)` back to back; resolves its rate and latency quantiles (ms). */
export async function timeLoop(
  operation: (i: number) => Promise<void>,
  timing: LoopTiming,
): Promise<LoopResult> {
  let i = 0;
  const warmupEnd = now() + timing.warmupMs;
  while (now() < warmupEnd) await operation(i++);
  const latencies = new Sample();
  await windowStarts();
  const allocations = allocationMeter();
  const cpuStarted = cpuMicros();
  const started = now();
  let at = started;
  while (at - started < timing.durationMs) {
    await operation(i++);
    const done = now();
    latencies.add(done - at);
    at = done;
  }
  const cpuUs = cpuPerOperation(cpuStarted, latencies.size);
  const heapBytes = allocations.stop() / latencies.size;
  await windowEnds(latencies.size);
  return {
    cpuUs,
    heapBytes,
    perSec: perSecond(latencies.size, at - started),
    p50: latencies.quantile(0.5),
    p99: latencies.quantile(0.99),
    p999: latencies.quantile(0.999),
  };
}
