/**
 * Seed scenario "自动续期": a task that runs longer than the lock's ttl. With `ttl: 1000` and
 * `autoRenewal: true` the lock is pushed back to 1000 ms every `renewalInterval` (default ttl / 3),
 * so during a ~3 s task the remaining time keeps bouncing back instead of running out, and
 * `lock.signal` never aborts. If the process died, renewal would stop and the lock would free
 * itself within one ttl.
 *
 * Run alone: pnpm --filter @lock/examples exec tsx 14-auto-renewal.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Locker, LockReleasedError } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { Redis } from 'ioredis';
import { check, type ExampleContext, isMain, runAlone } from './shared.js';

export const title = 'Seed: auto-renewal of a long task (ttl 1000 ms, task ~3 s)';
export const keyPrefix = 'examples:auto-renewal:';

const TTL = 1_000;
const TASK_STEPS = 6;
const STEP_MS = 500;

export async function run({ redisUrl, log }: ExampleContext): Promise<void> {
  const redis = new Redis(redisUrl);
  const runner = createIoredisRunner(redis);
  let renewals = 0;
  const locker = new Locker(runner, {
    prefix: keyPrefix,
    hooks: {
      onExtended: ({ renewal }) => {
        if (renewal) renewals += 1;
      },
    },
  });
  try {
    const started = performance.now();
    const remaining: number[] = [];
    const signal = await (async () => {
      await using lock = await locker.acquire('nightly-export', { ttl: TTL, autoRenewal: true });
      log('exporter', `got the lock: ttl ${TTL} ms, renewed every ${lock.options.renewalInterval} ms`);
      for (let step = 1; step <= TASK_STEPS; step += 1) {
        await sleep(STEP_MS, undefined, { signal: lock.signal });
        remaining.push(await lock.remainingTime());
        log('renewal', `after ${step * STEP_MS} ms of work: remaining ${remaining.at(-1)} ms`);
      }
      log('exporter', `task done; lock lapsed? ${lock.signal.aborted}; renewals so far: ${renewals}`);
      check(!lock.signal.aborted, 'the lock never lapsed during the task');
      check(await lock.isLockedByMe(), 'the lock is still ours at the end of the task');
      return lock.signal;
    })();

    const elapsed = Math.round(performance.now() - started);
    check(elapsed > 2 * TTL, 'the task outlived the ttl several times over');
    check(
      remaining.every((ms) => ms > 0),
      'the remaining time never reached zero',
    );
    check(renewals >= 5, 'the lock was renewed in the background');
    // The signal aborts once the hold ends, whatever the cause; its reason tells which.
    const ended: unknown = signal.reason;
    log(
      'check',
      `held ${elapsed} ms on a ${TTL} ms ttl through ${renewals} renewals; ended: ${String(ended)}`,
    );
    check(LockReleasedError.isInstance(ended), 'the hold ended by our release, not by expiry');
  } finally {
    await runner.close();
    await redis.quit();
  }
}

if (isMain(import.meta.url)) await runAlone({ title, keyPrefix, run });
