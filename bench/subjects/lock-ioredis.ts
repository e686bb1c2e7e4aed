/** @lock over ioredis (`createIoredisRunner`). */
import { createIoredisRunner } from '@lock/ioredis';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import { lockSubject } from './lock-subject.js';
import type { Subject } from './types.js';

export const lockOverIoredis: Subject = lockSubject(async (url) => {
  const client = await openIoredis(url);
  const runner = createIoredisRunner(client);
  return {
    runner,
    close: async () => {
      await runner.close();
      await closeIoredis(client);
    },
  };
});
