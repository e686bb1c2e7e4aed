/** @lock over ioredis (`createIoredisRunner`), plain and fair. */
import { createIoredisRunner } from '@lock/ioredis';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import { type Connection, lockSubject } from './lock-subject.js';
import type { Subject } from './types.js';

async function connectIoredis(url: string): Promise<Connection> {
  const client = await openIoredis(url);
  const runner = createIoredisRunner(client);
  return {
    runner,
    close: async () => {
      await runner.close();
      await closeIoredis(client);
    },
  };
}

export const lockOverIoredis: Subject = lockSubject(connectIoredis);

/** The fair lock (`fair: true`): arrival order, wake-one hand-off. */
export const fairLockOverIoredis: Subject = lockSubject(connectIoredis, { fair: true });
