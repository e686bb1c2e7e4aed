import type { AdapterUnderTest, ConnectedClient } from '@lock/testing';
import { createIoredisRunner, type IoredisLikeClient } from '../src/index.js';

/** The parts of an ioredis client the suite uses besides the adapter's two methods. */
interface IoredisTestClient extends IoredisLikeClient {
  connect(): Promise<void>;
  call(command: string, ...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** Connects `client` (made with `lazyConnect`) and wraps it with the adapter. */
async function connectAndWrap(client: IoredisTestClient): Promise<ConnectedClient> {
  await client.connect();
  const runner = createIoredisRunner(client);
  return {
    runner,
    // On a Cluster, ioredis routes each command by its key, like the adapter's scripts.
    command: ([command, ...args]) => client.call(command as string, ...args),
    close: async () => {
      await runner.close();
      await client.quit();
    },
  };
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
    connect: (url) => connectAndWrap(new RedisClass(url, { lazyConnect: true })),
  };
}

/**
 * The ioredis adapter under test over a `Cluster` seeded with one node's URL (ioredis discovers
 * the rest). Passing the class without a cast proves that `Cluster` fits `IoredisLikeClient` too.
 */
export function ioredisClusterAdapter(
  name: string,
  ClusterClass: new (startupNodes: string[], options: { lazyConnect: boolean }) => IoredisTestClient,
): AdapterUnderTest {
  return {
    name,
    cluster: true,
    connect: (url) => connectAndWrap(new ClusterClass([url], { lazyConnect: true })),
  };
}
