/** Parallel: 64 concurrent acquire + release loops on distinct keys over one connection. */
import { PARALLEL } from '../config.js';
import type { LockClient } from '../subjects/types.js';
import { pair } from './pairs.js';
import {
  allocationMeter,
  cpuMicros,
  cpuPerOperation,
  now,
  perSecond,
  range,
  windowEnds,
  windowStarts,
} from './timing.js';
import type { Scenario } from './types.js';

export const parallel: Scenario = async ({ spec, subject }) => {
  const client = await subject.connect(spec.redis.url, 'once');
  await runLoops(client, `${spec.prefix}pw:`, PARALLEL.warmupMs);
  await windowStarts();
  const allocations = allocationMeter();
  const cpuStarted = cpuMicros();
  const started = now();
  const pairs = await runLoops(client, `${spec.prefix}p:`, PARALLEL.durationMs);
  const elapsed = now() - started;
  const cpuUsPerPair = cpuPerOperation(cpuStarted, pairs);
  const heapBytesPerPair = allocations.stop() / pairs;
  await windowEnds(pairs);
  await client.close();
  return { metrics: { pairsPerSec: perSecond(pairs, elapsed), cpuUsPerPair, heapBytesPerPair } };
};

/** Runs the loops until `durationMs` has passed; resolves the number of pairs done. */
async function runLoops(client: LockClient, keyPrefix: string, durationMs: number): Promise<number> {
  const deadline = now() + durationMs;
  let pairs = 0;
  await Promise.all(
    range(PARALLEL.concurrency).map(async (loop) => {
      for (let i = 0; now() < deadline; i++) {
        await pair(client, `${keyPrefix}${loop}:${i}`);
        pairs += 1;
      }
    }),
  );
  return pairs;
}
