/**
 * Many held locks: 10,000 auto-renewing locks held by one process over one connection for several
 * renewal intervals. Reports the commands per lock per renewal interval, heap bytes per held lock
 * (after GC), event-loop lag while holding, and how many locks the library reported lost.
 *
 * Commands are counted with `INFO commandstats` (the top-level script calls and PINGs every
 * library renews with), not through the counting proxy, which would add its own latency to 10,000
 * renewals a second and could make locks look lost.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MANY_HELD } from '../config.js';
import type { RenewingHeld } from '../subjects/types.js';
import { commandStats, topLevelCommands } from '../wire/command-stats.js';
import { now, range, sleep } from './timing.js';
import type { Scenario } from './types.js';

const LAG_RESOLUTION_MS = 10;
/** A slot whose acquire is still in flight. */
const PENDING: RenewingHeld = { lost: false, release: async () => {} };

function heapAfterGc(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

export const manyHeld: Scenario = async ({ spec, subject }) => {
  if (subject.connectRenewing === undefined) throw new Error('this subject has no auto-renewal');
  const client = await subject.connectRenewing(spec.redis.url, {
    ttlMs: MANY_HELD.ttlMs,
    intervalMs: MANY_HELD.intervalMs,
  });
  await (await client.acquire(`${spec.prefix}warmup`)).release();

  const heapBefore = heapAfterGc();
  const acquireStarted = now();
  // At most `acquireConcurrency` acquires in flight, so that a lock's first renewal does not queue
  // behind thousands of acquires on the same connection.
  const held: RenewingHeld[] = [];
  await Promise.all(
    range(MANY_HELD.acquireConcurrency).map(async () => {
      while (held.length < MANY_HELD.locks) {
        const index = held.length;
        held.push(PENDING);
        held[index] = await client.acquire(`${spec.prefix}m:${index}`);
      }
    }),
  );
  const acquireMs = now() - acquireStarted;
  const heapHeld = heapAfterGc();

  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  const countsBefore = await commandStats(spec.redis.url);
  const windowStarted = now();
  lag.enable();
  await sleep(MANY_HELD.intervals * MANY_HELD.intervalMs);
  lag.disable();
  const countsAfter = await commandStats(spec.redis.url);
  // From one INFO reply to the next: the span whose commands the two readings bracket.
  const windowMs = now() - windowStarted;
  const lost = held.filter((lock) => lock.lost).length;
  // No release: the process exits next, and the orchestrator empties the server (or the locks
  // expire within their ttl).

  const commands = topLevelCommands(countsBefore, countsAfter);
  const intervals = windowMs / client.intervalMs;
  // The histogram records the whole gap between two samples; lag is what exceeds the resolution.
  const lagMs = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - LAG_RESOLUTION_MS);
  return {
    metrics: {
      commandsPerLockPerInterval: commands / MANY_HELD.locks / intervals,
      renewalIntervalMs: client.intervalMs,
      intervalsWatched: intervals,
      heapBytesPerLock: (heapHeld - heapBefore) / MANY_HELD.locks,
      lagP50: lagMs(lag.percentile(50)),
      lagP99: lagMs(lag.percentile(99)),
      lagMax: lagMs(lag.max),
      lost,
      acquireAllMs: acquireMs,
    },
  };
};
