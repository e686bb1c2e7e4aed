/** Quorum: uncontended acquire + release through Redlock over 3 independent servers. */
import { QUORUM } from '../config.js';
import { timePairs } from './pairs.js';
import type { Scenario } from './types.js';

export const quorum: Scenario = async ({ spec, subject }) => {
  if (subject.connectQuorum === undefined) throw new Error('this subject has no Redlock');
  const client = await subject.connectQuorum(spec.redis.quorumUrls);
  const metrics = await timePairs(client, `${spec.prefix}q:`, QUORUM);
  await client.close();
  return { metrics };
};
