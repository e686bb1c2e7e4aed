/** Acquire + release of a free lock, and timing it on distinct keys (uncontended, quorum). */
import type { Metrics } from '../jobs.js';
import type { LockClient } from '../subjects/types.js';
import { type LoopTiming, timeLoop } from './timed-loop.js';

/** Acquire + release of a free lock; throws if the lock was not free. */
export async function pair(client: LockClient, key: string): Promise<void> {
  const held = await client.acquire(key);
  if (held === null) throw new Error(`a free lock was refused: ${key}`);
  await held.release();
}

/** Pairs/s, the latency of one pair (ms), client CPU µs and heap bytes per pair, each on a new key. */
export async function timePairs(client: LockClient, keyPrefix: string, timing: LoopTiming): Promise<Metrics> {
  const { perSec, p50, p99, p999, cpuUs, heapBytes } = await timeLoop(
    (i) => pair(client, `${keyPrefix}${i}`),
    timing,
  );
  return { pairsPerSec: perSec, p50, p99, p999, cpuUsPerPair: cpuUs, heapBytesPerPair: heapBytes };
}
