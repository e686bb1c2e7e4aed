/**
 * What a timed window of a contended run cost: client CPU (all of this process) and the script
 * calls the server ran (`INFO commandstats`, which the workers' own connections do not go
 * through, unlike the counting proxy). Also where the profiler, if any, watches the window.
 */
import { commandStats, scriptCalls } from '../wire/command-stats.js';
import { cpuMicros, windowEnds, windowStarts } from './timing.js';

export interface WindowCost {
  /** Client CPU µs over the window. */
  readonly cpuUs: number;
  /** Script calls the server ran over the window (and the one round trip after it). */
  readonly scripts: number;
}

export interface CostMeter {
  /** Reads the counters at the start of the window: the last thing before it starts. */
  start(): Promise<void>;
  /** Reads them at its end, the first thing after it: `operations` were done in it. */
  stop(operations: number): Promise<WindowCost>;
}

export function costMeter(url: string): CostMeter {
  let statsBefore: Record<string, number> = {};
  let cpuStarted = 0;
  return {
    async start() {
      statsBefore = await commandStats(url);
      await windowStarts();
      cpuStarted = cpuMicros();
    },
    async stop(operations) {
      const cpuUs = cpuMicros() - cpuStarted;
      await windowEnds(operations);
      return { cpuUs, scripts: scriptCalls(statsBefore, await commandStats(url)) };
    },
  };
}

/** `total` per operation; NaN (left out of the results) when there was none. */
export const perOperation = (total: number, operations: number): number =>
  operations > 0 ? total / operations : Number.NaN;
