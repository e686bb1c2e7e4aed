/**
 * Uncontended: one connection, sequential acquire + release on distinct keys. Pairs/s and the
 * latency of one pair. Floor subjects also time PING, the cost of one round trip.
 */
import { UNCONTENDED } from '../config.js';
import { timePairs } from './pairs.js';
import { timeLoop } from './timed-loop.js';
import type { Scenario } from './types.js';

export const uncontended: Scenario = async ({ spec, subject }) => {
  const client = await subject.connect(spec.redis.url, 'once');
  const metrics = await timePairs(client, `${spec.prefix}u:`, UNCONTENDED);
  await client.close();
  if (subject.connectPing === undefined) return { metrics };
  const pinger = await subject.connectPing(spec.redis.url);
  const ping = await timeLoop(() => pinger.ping(), { warmupMs: 100, durationMs: UNCONTENDED.pingMs });
  await pinger.close();
  return { metrics: { ...metrics, pingPerSec: ping.perSec, pingP50: ping.p50, pingP99: ping.p99 } };
};
