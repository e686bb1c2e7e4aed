/**
 * Primitives, contended: 16 workers, each with its own connection, first on ONE semaphore of
 * limit 4 (acquire, waiting → hold 1 ms → release), then on ONE read-write lock (one operation
 * in 8 a write, else a read; hold 1 ms). Both wait with the common retry policy. Measures
 * acquisitions/s, the most holders seen at once (must stay ≤ the limit) and the acquire wait for
 * the semaphore; reads/s, writes/s, the write wait and violations (a writer alongside anyone,
 * must stay 0) for the read-write lock. A part the subject does not have is left out.
 *
 * Each part stops at its deadline and lets the workers still queued finish their one last hold
 * before the next part starts, so that the parts never load each other.
 */
import { PRIMITIVES } from '../config.js';
import type { Metrics } from '../jobs.js';
import { Sample } from '../stats.js';
import type { Held, LockClient, ReadWriteClient, Subject } from '../subjects/types.js';
import { measurePhase, now, type Phase, perSecond, range, sleep } from './timing.js';
import type { Scenario } from './types.js';
import { costMeter, perOperation, type WindowCost } from './window-cost.js';

interface PartTotals extends WindowCost {
  /** Measured time, ms. */
  readonly elapsed: number;
}

/** Runs one worker per client until the phase stops; resolves what the measured time cost. */
async function runPart<Client extends { close(): Promise<void> }>(
  url: string,
  clients: readonly Client[],
  phase: Phase,
  operations: () => number,
  work: (client: Client, worker: number) => Promise<void>,
): Promise<PartTotals> {
  const workers = clients.map(work);
  const meter = costMeter(url);
  const elapsed = await measurePhase(phase, workers, PRIMITIVES, () => meter.start());
  const cost = await meter.stop(operations());
  await Promise.all(workers);
  await Promise.all(clients.map((client) => client.close()));
  return { elapsed, ...cost };
}

/** Takes a hold, times its wait; `null` when the library gave up. */
async function timed(acquire: () => Promise<Held | null>): Promise<{ held: Held | null; waited: number }> {
  const asked = now();
  const held = await acquire();
  return { held, waited: now() - asked };
}

async function semaphorePart(subject: Subject, url: string, key: string): Promise<Metrics> {
  const connect = subject.connectSemaphore;
  if (connect === undefined) return {};
  const clients = await Promise.all(range(PRIMITIVES.workers).map(() => connect(url, PRIMITIVES.limit)));
  const state = { measuring: false, stopped: false, holders: 0, maxHolders: 0, acquisitions: 0, gaveUp: 0 };
  const waits = new Sample();
  const totals = await runPart(
    url,
    clients,
    state,
    () => state.acquisitions,
    async (client: LockClient) => {
      while (!state.stopped) {
        const { held, waited } = await timed(() => client.acquire(key));
        if (held === null) {
          if (state.measuring) state.gaveUp += 1;
          continue;
        }
        state.holders += 1;
        state.maxHolders = Math.max(state.maxHolders, state.holders);
        if (state.measuring) {
          state.acquisitions += 1;
          waits.add(waited);
        }
        await sleep(PRIMITIVES.holdMs);
        state.holders -= 1;
        await held.release();
      }
    },
  );
  const { elapsed } = totals;
  return {
    semaphorePerSec: perSecond(state.acquisitions, elapsed),
    semaphoreCpuUsPerAcquisition: perOperation(totals.cpuUs, state.acquisitions),
    semaphoreScriptCallsPerAcquisition: perOperation(totals.scripts, state.acquisitions),
    semaphoreMaxHolders: state.maxHolders,
    semaphoreWaitP50: waits.quantile(0.5),
    semaphoreWaitP99: waits.quantile(0.99),
    semaphoreWaitP999: waits.quantile(0.999),
    semaphoreGaveUpPerSec: perSecond(state.gaveUp, elapsed),
  };
}

async function readWritePart(subject: Subject, url: string, key: string): Promise<Metrics> {
  const connect = subject.connectReadWrite;
  if (connect === undefined) return {};
  const clients = await Promise.all(range(PRIMITIVES.workers).map(() => connect(url)));
  const state = {
    measuring: false,
    stopped: false,
    readers: 0,
    writers: 0,
    reads: 0,
    writes: 0,
    violations: 0,
    gaveUp: 0,
  };
  const writeWaits = new Sample();
  const readWaits = new Sample();
  const operations = () => state.reads + state.writes;
  const totals = await runPart(url, clients, state, operations, async (client: ReadWriteClient, worker) => {
    // Staggered, so that the workers' writes are spread over time rather than all at once.
    for (let operation = worker; !state.stopped; operation++) {
      const write = operation % PRIMITIVES.writeEvery === 0;
      const { held, waited } = await timed(() => (write ? client.write(key) : client.read(key)));
      if (held === null) {
        if (state.measuring) state.gaveUp += 1;
        continue;
      }
      if (state.writers > 0 || (write && state.readers > 0)) state.violations += 1;
      if (write) state.writers += 1;
      else state.readers += 1;
      if (state.measuring) {
        if (write) state.writes += 1;
        else state.reads += 1;
        (write ? writeWaits : readWaits).add(waited);
      }
      await sleep(PRIMITIVES.holdMs);
      if (write) state.writers -= 1;
      else state.readers -= 1;
      await held.release();
    }
  });
  const { elapsed } = totals;
  return {
    readWriteCpuUsPerOperation: perOperation(totals.cpuUs, state.reads + state.writes),
    readsPerSec: perSecond(state.reads, elapsed),
    writesPerSec: perSecond(state.writes, elapsed),
    readWaitP50: readWaits.quantile(0.5),
    readWaitP99: readWaits.quantile(0.99),
    writeWaitP50: writeWaits.quantile(0.5),
    writeWaitP99: writeWaits.quantile(0.99),
    readWriteGaveUpPerSec: perSecond(state.gaveUp, elapsed),
    violations: state.violations,
  };
}

export const primitives: Scenario = async ({ spec, subject }) => {
  const semaphore = await semaphorePart(subject, spec.redis.url, `${spec.prefix}semaphore`);
  const readWrite = await readWritePart(subject, spec.redis.url, `${spec.prefix}rw`);
  return { metrics: { ...semaphore, ...readWrite } };
};
