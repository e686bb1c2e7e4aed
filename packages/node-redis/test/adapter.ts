import type { AdapterUnderTest } from '@lock/testing';
import { createNodeRedisRunner, type NodeRedisLikeClient } from '../src/index.js';

/** The parts of a node-redis client the suite uses besides the adapter's two methods. */
interface NodeRedisTestClient extends NodeRedisLikeClient {
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

/**
 * The node-redis adapter under test, over the given major version's `createClient`. Passing it
 * without a cast also proves at compile time that its client type fits `NodeRedisLikeClient`.
 */
export function nodeRedisAdapter(
  name: string,
  createClient: (options: { url: string }) => NodeRedisTestClient,
): AdapterUnderTest {
  return {
    name,
    async connect(url) {
      const client = createClient({ url });
      await client.connect();
      const runner = createNodeRedisRunner(client);
      return {
        runner,
        command: (args) => client.sendCommand([...args]),
        close: async () => {
          await runner.close();
          await client.quit();
        },
      };
    },
  };
}
