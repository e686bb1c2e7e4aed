/**
 * Failed attempt: the cost of one non-blocking attempt on a lock held by another connection,
 * timed attempt by attempt. (Its commands are counted in the commands scenario.)
 */
import { FAILED_ATTEMPT } from '../config.js';
import type { LockClient } from '../subjects/types.js';
import { timeLoop } from './timed-loop.js';
import type { Scenario } from './types.js';

/** One attempt that must fail. */
export async function failOnce(client: LockClient, key: string): Promise<void> {
  const held = await client.acquire(key);
  if (held !== null) throw new Error(`a held lock was acquired again: ${key}`);
}

export const failedAttempt: Scenario = async ({ spec, subject }) => {
  const key = `${spec.prefix}held`;
  const holder = await subject.connect(spec.redis.url, 'once');
  const held = await holder.acquire(key);
  if (held === null) throw new Error('could not take the lock to hold');
  const attempter = await subject.connect(spec.redis.url, 'once');
  const { perSec, p50, p99, cpuUs } = await timeLoop(() => failOnce(attempter, key), FAILED_ATTEMPT);
  await held.release();
  await Promise.all([attempter.close(), holder.close()]);
  return {
    metrics: { attemptsPerSec: perSec, attemptP50: p50, attemptP99: p99, cpuUsPerAttempt: cpuUs },
  };
};
