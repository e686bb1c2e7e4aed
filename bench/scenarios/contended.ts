/**
 * Contended: 16 workers, each with its own connection, loop acquire (waiting) → hold 1 ms →
 * release (→ think, in the think-time variant) on ONE key. Measures acquisitions/s, hand-offs/s
 * (the owner changed), the acquire wait and the hand-off wait (from the holder starting its
 * release to the next owner holding the lock), per-worker fairness (Jain's index, and the least
 * served worker against the mean), the cost of contention (script calls per acquisition from
 * `INFO commandstats`, client CPU µs per acquisition), and a safety counter of overlapping
 * holds, which must stay 0.
 *
 * The run stops at its deadline without waiting for the workers still queued: the process exits
 * right after reporting.
 */
import { CONTENDED } from '../config.js';
import type { JobResult } from '../jobs.js';
import { jainIndex, Sample } from '../stats.js';
import type { LockClient, RetryPolicy } from '../subjects/types.js';
import { measurePhase, now, perSecond, range, sleep } from './timing.js';
import type { JobContext, Scenario } from './types.js';
import { costMeter, perOperation } from './window-cost.js';

/** The shared state of one contended run. */
class Arena {
  measuring = false;
  stopped = false;
  holders = 0;
  overlaps = 0;
  lastOwner = -1;
  releaseStartedAt = Number.NaN;
  acquisitions = 0;
  handoffs = 0;
  gaveUp = 0;
  readonly perWorker: number[];
  readonly waits = new Sample();
  readonly handoffWaits = new Sample();

  constructor(workers: number) {
    this.perWorker = range(workers).map(() => 0);
  }

  /** Worker `worker` holds the lock after waiting `waited` ms. */
  acquired(worker: number, waited: number, at: number): void {
    this.holders += 1;
    if (this.holders > 1) this.overlaps += 1;
    if (this.measuring) {
      this.acquisitions += 1;
      this.perWorker[worker] = (this.perWorker[worker] ?? 0) + 1;
      this.waits.add(waited);
      if (this.lastOwner !== -1 && this.lastOwner !== worker) {
        this.handoffs += 1;
        this.handoffWaits.add(at - this.releaseStartedAt);
      }
    }
    this.lastOwner = worker;
  }

  /** The holder is done with the resource and starts releasing. */
  releasing(): void {
    this.holders -= 1;
    this.releaseStartedAt = now();
  }
}

async function work(
  client: LockClient,
  key: string,
  worker: number,
  arena: Arena,
  thinkMs: number,
): Promise<void> {
  while (!arena.stopped) {
    const asked = now();
    const held = await client.acquire(key);
    if (held === null) {
      if (arena.measuring) arena.gaveUp += 1;
      continue;
    }
    const at = now();
    arena.acquired(worker, at - asked, at);
    await sleep(CONTENDED.holdMs);
    arena.releasing();
    await held.release();
    if (thinkMs > 0) await sleep(thinkMs);
  }
}

/** Runs the contended loop on `clients` for `durationMs` after a warm-up. */
export async function runContended(
  clients: readonly LockClient[],
  key: string,
  { durationMs, thinkMs }: { durationMs: number; thinkMs: number },
  onMeasured?: () => Promise<void>,
): Promise<{ arena: Arena; elapsed: number }> {
  const arena = new Arena(clients.length);
  const workers = clients.map((client, worker) => work(client, key, worker, arena, thinkMs));
  const timing = { warmupMs: CONTENDED.warmupMs, durationMs };
  return { arena, elapsed: await measurePhase(arena, workers, timing, onMeasured) };
}

function contended(policy: RetryPolicy, durationMs: number, thinkMs: number): Scenario {
  return async ({ spec, subject }: JobContext): Promise<JobResult> => {
    const clients = await Promise.all(
      range(CONTENDED.workers).map(() => subject.connect(spec.redis.url, policy)),
    );
    const key = `${spec.prefix}contended`;
    const meter = costMeter(spec.redis.url);
    const { arena, elapsed } = await runContended(clients, key, { durationMs, thinkMs }, () => meter.start());
    // One round trip after the deadline: the few calls in flight then are noise next to thousands.
    const cost = await meter.stop(arena.acquisitions);
    const workers = arena.perWorker.length;
    const meanPerWorker = arena.acquisitions / workers;
    return {
      metrics: {
        acquisitionsPerSec: perSecond(arena.acquisitions, elapsed),
        handoffsPerSec: perSecond(arena.handoffs, elapsed),
        cpuUsPerAcquisition: perOperation(cost.cpuUs, arena.acquisitions),
        scriptCallsPerAcquisition: perOperation(cost.scripts, arena.acquisitions),
        waitP50: arena.waits.quantile(0.5),
        waitP99: arena.waits.quantile(0.99),
        waitP999: arena.waits.quantile(0.999),
        handoffP50: arena.handoffWaits.quantile(0.5),
        handoffP99: arena.handoffWaits.quantile(0.99),
        fairnessMin: Math.min(...arena.perWorker),
        fairnessMax: Math.max(...arena.perWorker),
        jain: jainIndex(arena.perWorker),
        // 1 when the least served worker got its fair share, 0 when it was starved.
        minShare: meanPerWorker > 0 ? Math.min(...arena.perWorker) / meanPerWorker : Number.NaN,
        gaveUpPerSec: perSecond(arena.gaveUp, elapsed),
        overlaps: arena.overlaps,
      },
      perWorker: arena.perWorker,
    };
  };
}

export const contendedCommon: Scenario = contended('common', CONTENDED.durationMs, 0);
export const contendedDefaults: Scenario = contended('defaults', CONTENDED.shortMs, 0);
export const contendedThink: Scenario = contended('common', CONTENDED.shortMs, CONTENDED.thinkMs);
