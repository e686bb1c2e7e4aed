/** @lock over node-redis (`createNodeRedisRunner`). */
import { createNodeRedisRunner } from '@lock/node-redis';
import { lockSubject } from './lock-subject.js';
import { closeNodeRedis, openNodeRedis } from './node-redis-client.js';
import type { Subject } from './types.js';

export const lockOverNodeRedis: Subject = lockSubject(async (url) => {
  const client = await openNodeRedis(url);
  const runner = createNodeRedisRunner(client);
  return {
    runner,
    close: async () => {
      await runner.close();
      await closeNodeRedis(client);
    },
  };
});
