/**
 * Commands per operation, counted on the wire by the counting proxy, apart from the timed runs:
 * an uncontended acquire + release, a failed non-blocking attempt, and (for subjects that wait)
 * one acquisition in the contended loop with the common retry policy.
 */
import { COMMANDS, CONTENDED } from '../config.js';
import type { JobResult, Metrics } from '../jobs.js';
import { runContended } from './contended.js';
import { failOnce } from './failed-attempt.js';
import { pair } from './pairs.js';
import { range } from './timing.js';
import type { Scenario } from './types.js';
import { perOperation, total } from './wire.js';

export const commands: Scenario = async ({ spec, subject, wireCounts }): Promise<JobResult> => {
  const url = spec.redis.countingUrl;
  const perOp: Record<string, Record<string, number>> = {};
  const metrics: Metrics = {};

  const client = await subject.connect(url, 'once');
  for (let i = 0; i < 10; i++) await pair(client, `${spec.prefix}cw:${i}`);
  let before = await wireCounts();
  for (let i = 0; i < COMMANDS.pairs; i++) await pair(client, `${spec.prefix}c:${i}`);
  perOp.pair = perOperation(before, await wireCounts(), COMMANDS.pairs);
  metrics.pairCommands = total(perOp.pair);

  const key = `${spec.prefix}held`;
  const held = await client.acquire(key);
  if (held === null) throw new Error('could not take the lock to hold');
  const attempter = await subject.connect(url, 'once');
  for (let i = 0; i < 10; i++) await failOnce(attempter, key);
  before = await wireCounts();
  for (let i = 0; i < COMMANDS.failedAttempts; i++) await failOnce(attempter, key);
  perOp.failedAttempt = perOperation(before, await wireCounts(), COMMANDS.failedAttempts);
  metrics.failedAttemptCommands = total(perOp.failedAttempt);
  await held.release();
  await Promise.all([client.close(), attempter.close()]);

  if (spec.subject.startsWith('floor-')) return { metrics, commands: perOp };

  const workers = await Promise.all(range(CONTENDED.workers).map(() => subject.connect(url, 'common')));
  const timing = { durationMs: COMMANDS.contendedMs, thinkMs: 0 };
  const { arena } = await runContended(workers, `${spec.prefix}contended`, timing, async () => {
    before = await wireCounts();
  });
  perOp.contendedAcquisition = perOperation(before, await wireCounts(), Math.max(1, arena.acquisitions));
  metrics.contendedCommandsPerAcquisition = total(perOp.contendedAcquisition);
  return { metrics, commands: perOp };
};
