import { runConformanceSuite } from '@lock/testing';
import { Redis } from 'ioredis';
import { createIoredisRunner } from '../src/index.js';

runConformanceSuite({
  name: 'ioredis',
  async connect(url) {
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    return {
      runner: createIoredisRunner(client),
      command: ([name, ...args]) => client.call(name as string, ...args),
      close: async () => {
        await client.quit();
      },
    };
  },
});
