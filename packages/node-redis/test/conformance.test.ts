import { runConformanceSuite } from '@lock/testing';
import { createClient } from 'redis';
import { createNodeRedisRunner } from '../src/index.js';

runConformanceSuite({
  name: 'node-redis',
  async connect(url) {
    const client = await createClient({ url }).connect();
    return {
      runner: createNodeRedisRunner(client),
      command: (args) => client.sendCommand([...args]),
      close: async () => {
        await client.quit();
      },
    };
  },
});
