/**
 * Semaphore safety, on both adapters against real Redis:
 * - 50 concurrent acquirers over 5 OS processes never hold more than the limit at once (history
 *   checked on the machine-wide monotonic clock, plus a counter of holders inside kept in Redis),
 *   and the limit is actually reached;
 * - with worker processes whose wall clocks are really skewed by ±5 s (a `--import` preload that
 *   shifts `Date`), the limit still holds, and a permit expires after its ttl by the server's
 *   clock: not 5 s later, not at once;
 * - callers that disagree on the limit push the count past the smaller one, and the checker sees
 *   it: the set-up can fail;
 * - a Redis restart: holders are told their permits are gone, and permits work again.
 */
import { pathToFileURL } from 'node:url';
import { Locker, LockLostError } from '@lock/core';
import {
  checkCapacity,
  type HoldInterval,
  monotonicMicros,
  provisionRedis,
  type RedisInstance,
  waitFor,
} from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { uniqueName } from '../src/names.js';
import { settleTyped } from '../src/settle.js';
import { spawnWorker, stopWorker, type Worker, workerPath } from '../workers/harness.js';
import type { FromSemaphoreWorker, SemaphoreWorkerConfig, ToSemaphoreWorker } from '../workers/protocol.js';

type SemaphoreWorker = Worker<ToSemaphoreWorker, FromSemaphoreWorker>;
type Done = Extract<FromSemaphoreWorker, { type: 'done' }>;

const LIMIT = 3;
const PROCESSES = 5;
const ACQUIRERS_PER_PROCESS = 10; // 50 concurrent acquirers in all
const ROUNDS = 8;
const SKEW_MS = 5_000;
const SKEW_PRELOAD = pathToFileURL(workerPath('skew-clock.ts')).href;

/** One worker process of a run: its client, the limit it passes, and how far its clock is off. */
interface ProcessPlan {
  readonly kind: ClientKind;
  readonly limit: number;
  readonly skewMs: number;
}

describe('semaphore safety', () => {
  let redis: RedisInstance;
  const workers: SemaphoreWorker[] = [];

  beforeAll(async () => {
    redis = await provisionRedis();
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await redis?.stop();
  });

  /**
   * Starts one worker per plan entry, checks that each one's wall clock is off by its skew, lets
   * them all go at once, and returns what each reported in order.
   */
  async function runWorkers<T extends FromSemaphoreWorker['type']>(
    plans: readonly ProcessPlan[],
    config: Omit<SemaphoreWorkerConfig, 'url' | 'kind' | 'limit'>,
    until: T,
  ): Promise<{ spawned: SemaphoreWorker[]; reports: Extract<FromSemaphoreWorker, { type: T }>[] }> {
    const spawned = plans.map((plan) =>
      spawnWorker<ToSemaphoreWorker, FromSemaphoreWorker>(
        'semaphore-worker.ts',
        { ...config, url: redis.url, kind: plan.kind, limit: plan.limit },
        plan.skewMs === 0
          ? {}
          : { execArgv: ['--import', SKEW_PRELOAD], env: { LOCK_TEST_CLOCK_SKEW_MS: String(plan.skewMs) } },
      ),
    );
    workers.push(...spawned);
    const ready = await Promise.all(spawned.map((worker) => worker.next('ready', 20_000)));
    for (const [index, message] of ready.entries()) {
      // Our wall clock at the monotonic instant the worker read its own.
      const ours = Date.now() - (monotonicMicros() - message.at) / 1000;
      expect(Math.abs(message.wallClock - ours - (plans[index] as ProcessPlan).skewMs)).toBeLessThan(250);
    }
    for (const worker of spawned) worker.send({ type: 'start' });
    const reports = await Promise.all(spawned.map((worker) => worker.next(until, 90_000)));
    return { spawned, reports };
  }

  /** Runs `plans` in `contend` mode on a fresh semaphore; every worker must exit cleanly. */
  async function contend(plans: readonly ProcessPlan[], label: string, ttl: number) {
    const name = uniqueName(label);
    const insideKey = `safety:inside:${name}`;
    const startedAt = performance.now();
    const { spawned, reports } = await runWorkers(
      plans,
      { name, mode: 'contend', ttl, acquirers: ACQUIRERS_PER_PROCESS, rounds: ROUNDS, insideKey },
      'done',
    );
    const durationMs = Math.round(performance.now() - startedAt);
    expect(await Promise.all(spawned.map((worker) => worker.exited))).toEqual(
      spawned.map(() => ({ code: 0, signal: null })),
    );
    const intervals: HoldInterval[] = reports.flatMap((report: Done) => [...report.intervals]);
    const summary = {
      label,
      processes: plans.map((plan) => `${plan.kind} limit ${plan.limit} skew ${plan.skewMs} ms`),
      holds: intervals.length,
      attempts: reports.reduce((sum, report) => sum + report.attempts, 0),
      maxInside: Math.max(...reports.map((report) => report.maxInside)),
      durationMs,
    };
    return { intervals, reports, summary };
  }

  /** What every correct contention run shows. */
  function expectWithinLimit(intervals: readonly HoldInterval[], reports: readonly Done[]) {
    const total = PROCESSES * ACQUIRERS_PER_PROCESS * ROUNDS;
    expect(intervals).toHaveLength(total);
    const report = checkCapacity(intervals, LIMIT);
    expect(report.violations).toEqual([]);
    expect(report.excusedViolations).toEqual([]);
    expect(Math.max(...reports.map((done) => done.maxInside))).toBeLessThanOrEqual(LIMIT);
    // The limit was reached: the same history breaks a limit of LIMIT - 1.
    expect(checkCapacity(intervals, LIMIT - 1).violations.length).toBeGreaterThan(0);
    expect(reports.map((done) => done.lostDuringHold)).toEqual(reports.map(() => 0));
    // One fencing token per acquisition, never the same twice.
    const tokens = reports.flatMap((done) => [...done.fencingTokens]);
    expect(new Set(tokens).size).toBe(total);
    expect(Math.max(...tokens)).toBe(total);
  }

  for (const kind of CLIENT_KINDS) {
    it(`${kind}: 50 acquirers over ${PROCESSES} processes on a limit of ${LIMIT}: never more than ${LIMIT} holders`, async () => {
      const plans = Array.from({ length: PROCESSES }, () => ({ kind, limit: LIMIT, skewMs: 0 }));
      const { intervals, reports, summary } = await contend(plans, `sem-${kind}`, 10_000);
      console.log('semaphore contention:', JSON.stringify(summary));
      expectWithinLimit(intervals, reports);
    }, 120_000);
  }

  it(`clocks skewed by ±${SKEW_MS / 1000} s on both clients, ttl 2 s: never more than ${LIMIT} holders`, async () => {
    const plans = Array.from({ length: PROCESSES }, (_, index) => ({
      kind: CLIENT_KINDS[index % 2] as ClientKind,
      limit: LIMIT,
      skewMs: index % 2 === 0 ? SKEW_MS : -SKEW_MS,
    }));
    // A ttl well under the skew: had any client's clock set the deadlines, a client 5 s ahead
    // would see every permit written by one 5 s behind as long expired, and let too many in.
    const { intervals, reports, summary } = await contend(plans, 'sem-skewed', 2_000);
    console.log('semaphore contention, skewed clocks:', JSON.stringify(summary));
    expectWithinLimit(intervals, reports);
  }, 120_000);

  it(`permits taken by clients ${SKEW_MS / 1000} s ahead and behind expire after their ttl by the server clock`, async () => {
    const ttl = 1_500;
    const name = uniqueName('sem-expiry');
    const plans: ProcessPlan[] = [
      { kind: 'ioredis', limit: 2, skewMs: SKEW_MS },
      { kind: 'node-redis', limit: 2, skewMs: -SKEW_MS },
    ];
    const observer = await connectClient('ioredis', redis.url);
    const semaphore = new Locker(observer.runner, { prefix: 'safety:' }).semaphore(name, { limit: 2 });
    try {
      const watching = runWorkers(
        plans,
        { name, mode: 'hold', ttl, acquirers: 1, rounds: 1, insideKey: '' },
        'held',
      );
      const { spawned, reports: held } = await watching;
      // Watch, from an unskewed client, when each permit leaves Redis.
      const goneAt = new Map<string, number>();
      await waitFor(async () => {
        const report = await semaphore.inspect();
        const now = monotonicMicros();
        for (const permit of held) {
          if (!goneAt.has(permit.token) && !report.holders.some((holder) => holder.token === permit.token)) {
            goneAt.set(permit.token, now);
          }
        }
        return goneAt.size === held.length;
      }, 10_000);

      for (const permit of held) {
        // Redis counted the ttl from its own clock: the handle's remaining time is the ttl.
        expect(permit.remaining).toBeGreaterThan(ttl - 300);
        expect(permit.remaining).toBeLessThanOrEqual(ttl);
        // Gone between ttl after the acquire was sent and ttl after it was confirmed (plus the
        // 25 ms poll and a margin): not 5 s later (clock ahead), not at once (clock behind).
        const gone = goneAt.get(permit.token) as number;
        expect(gone).toBeGreaterThanOrEqual(permit.sentAt + ttl * 1000);
        expect(gone).toBeLessThan(permit.confirmedAt + (ttl + 400) * 1000);
      }
      // Each holder is told when its ttl runs out on its monotonic clock, whatever its wall clock.
      const lost = await Promise.all(spawned.map((worker) => worker.next('lost', 10_000)));
      for (const [index, message] of lost.entries()) {
        const permit = held[index] as (typeof held)[number];
        expect(message.reason).toBe('expired');
        expect(message.at).toBeGreaterThan(permit.sentAt + (ttl - 100) * 1000);
        expect(message.at).toBeLessThan(permit.confirmedAt + (ttl + 400) * 1000);
      }
      const both = await Promise.all([semaphore.tryAcquire(), semaphore.tryAcquire()]);
      expect(both.map((permit) => permit?.isHeld)).toEqual([true, true]);
      await Promise.all(both.map((permit) => permit?.release()));
    } finally {
      await observer.close();
    }
  }, 60_000);

  it('callers that disagree on the limit push past the smaller one, and the checker sees it', async () => {
    const plans = Array.from({ length: PROCESSES }, (_, index) => ({
      kind: CLIENT_KINDS[index % 2] as ClientKind,
      limit: index < 2 ? LIMIT + 2 : LIMIT,
      skewMs: 0,
    }));
    const { intervals, reports, summary } = await contend(plans, 'sem-disagree', 10_000);
    console.log('semaphore, disagreeing limits:', JSON.stringify(summary));
    expect(checkCapacity(intervals, LIMIT).violations.length).toBeGreaterThan(0);
    expect(Math.max(...reports.map((done) => done.maxInside))).toBeGreaterThan(LIMIT);
    // Never past the largest limit any caller passed.
    expect(checkCapacity(intervals, LIMIT + 2).violations).toEqual([]);
  }, 120_000);

  for (const kind of CLIENT_KINDS) {
    it(`${kind}: a Redis restart: every holder is told, a waiter is not stranded, permits work again`, async () => {
      if (redis.source === 'REDIS_URL') return; // cannot restart a Redis we did not start
      const client = await connectClient(kind, redis.url);
      try {
        const locker = new Locker(client.runner, { prefix: 'safety:' });
        const semaphore = locker.semaphore(uniqueName(`sem-restart-${kind}`), {
          limit: LIMIT,
          ttl: 2_000,
          renewalInterval: 200,
          autoRenewal: true,
        });
        const held = await Promise.all(Array.from({ length: LIMIT }, () => semaphore.acquire()));
        const waiter = settleTyped(() => semaphore.acquire({ waitTimeout: 6_000, retryDelay: 100 }));
        const restartedAt = performance.now();
        await redis.restart(); // no persistence: every permit is gone

        const reasons = await Promise.all(
          held.map(
            (permit) =>
              new Promise<LockLostError>((resolve) => {
                const done = () => resolve(permit.signal.reason as LockLostError);
                if (permit.signal.aborted) done();
                else permit.signal.addEventListener('abort', done, { once: true });
              }),
          ),
        );
        // Told by the first renewal after the restart, well before the 2 s ttl would run out.
        expect(performance.now() - restartedAt).toBeLessThan(2_000);
        for (const reason of reasons) {
          expect(LockLostError.isInstance(reason)).toBe(true);
          expect(['taken', 'unreachable']).toContain(reason.reason);
        }
        for (const permit of held) expect(await permit.release()).toBe(false);

        const outcome = await waiter;
        if ('value' in outcome) await outcome.value.release();
        else expect(outcome.error.code).toMatch(/REDIS_ERROR|REDIS_TIMEOUT|LOCK_NOT_ACQUIRED/);

        // Scripts are gone too: NOSCRIPT → EVAL, then a full semaphore again.
        await waitFor(async () => 'value' in (await settleTyped(() => semaphore.inspect())), 5_000);
        const fresh = await Promise.all(Array.from({ length: LIMIT }, () => semaphore.acquire()));
        expect(await semaphore.tryAcquire()).toBeNull();
        expect((await semaphore.inspect()).inUse).toBe(LIMIT);
        await Promise.all(fresh.map((permit) => permit.release()));
      } finally {
        await client.close();
      }
    }, 60_000);
  }
});
