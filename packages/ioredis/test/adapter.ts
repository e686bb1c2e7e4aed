import { fileURLToPath } from 'node:url';
import type { AdapterUnderTest, ConnectedClient, SubscriberAdapterUnderTest } from '@lock/test-suite';
import { createIoredisRunner, type IoredisLikeClient } from '../src/index.js';

/** The parts of an ioredis client the suite uses besides the adapter's two methods. */
interface IoredisTestClient extends IoredisLikeClient {
  connect(): Promise<void>;
  call(command: string, ...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
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

/** The ioredis options the subscriber suite varies. */
interface IoredisVariantOptions {
  lazyConnect?: boolean;
  enableOfflineQueue?: boolean;
}

const subscriberChild = fileURLToPath(new URL('./fixtures/subscriber-child.mjs', import.meta.url));

/**
 * The ioredis adapter for the subscriber suite, with default options and with
 * `enableOfflineQueue: false` (commands fail at once while disconnected, QUIT included). `module`
 * is the package the child process loads (`ioredis` or `ioredis5`), the same as `RedisClass`.
 */
export function ioredisSubscriberAdapter(
  name: string,
  RedisClass: new (url: string, options: IoredisVariantOptions) => IoredisTestClient,
  module: string,
): SubscriberAdapterUnderTest {
  const variant = (label: string, options: IoredisVariantOptions) => ({
    label,
    connect: (url: string) => {
      // In-process clients connect lazily (so does their duplicate(), on the adapter's connect());
      // the child process keeps ioredis's default, connecting at once.
      const client = new RedisClass(url, { lazyConnect: true, ...options });
      client.on('error', () => {});
      return connectAndWrap(client);
    },
    childArgs: (task: unknown) => [subscriberChild, module, JSON.stringify(options), JSON.stringify(task)],
  });
  return {
    name,
    variants: [
      variant('default options', {}),
      variant('enableOfflineQueue: false', { enableOfflineQueue: false }),
    ],
  };
}
