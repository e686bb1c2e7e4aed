import type { AdapterUnderTest } from '@lock/testing';
import { createIoredisRunner, type IoredisLikeClient } from '../src/index.js';

/** The parts of an ioredis client the suite uses besides the adapter's two methods. */
interface IoredisTestClient extends IoredisLikeClient {
  connect(): Promise<void>;
  call(command: string, ...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

/**
 * The ioredis adapter under test, over the given major version's `Redis` class. Passing the class
 * without a cast also proves at compile time that its type fits `IoredisLikeClient`.
 */
export function ioredisAdapter(
  name: string,
  RedisClass: new (url: string, options: { lazyConnect: boolean }) => IoredisTestClient,
): AdapterUnderTest {
  return {
    name,
    async connect(url) {
      const client = new RedisClass(url, { lazyConnect: true });
      await client.connect();
      const runner = createIoredisRunner(client);
      return {
        runner,
        command: ([command, ...args]) => client.call(command as string, ...args),
        close: async () => {
          await runner.close();
          await client.quit();
        },
      };
    },
  };
}
