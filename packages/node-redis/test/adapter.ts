import { fileURLToPath } from 'node:url';
import type { AdapterUnderTest, ConnectedClient, SubscriberAdapterUnderTest } from '@lock/test-suite';
import { createNodeRedisRunner, type NodeRedisLikeClient } from '../src/index.js';

/** The parts of a node-redis client the suite uses besides the adapter's two methods. */
interface NodeRedisTestClient extends NodeRedisLikeClient {
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The parts of a node-redis cluster the suite uses besides the adapter's two methods. */
interface NodeRedisClusterTestClient extends NodeRedisLikeClient {
  connect(): Promise<unknown>;
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** Connects `client` and wraps it with the adapter; `send` sends one raw command through it. */
async function connectAndWrap(
  client: NodeRedisLikeClient & { connect(): Promise<unknown>; quit(): Promise<unknown> },
  send: (args: string[]) => Promise<unknown>,
): Promise<ConnectedClient> {
  await client.connect();
  const runner = createNodeRedisRunner(client);
  return {
    runner,
    command: (args) => send([...args]),
    close: async () => {
      await runner.close();
      await client.quit();
    },
  };
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
    connect(url) {
      const client = createClient({ url });
      return connectAndWrap(client, (args) => client.sendCommand(args));
    },
  };
}

/**
 * The node-redis adapter under test over `createCluster`, seeded with one node's URL. Passing it
 * without a cast proves that a node-redis cluster fits `NodeRedisLikeClient` too.
 */
export function nodeRedisClusterAdapter(
  name: string,
  createCluster: (options: { rootNodes: { url: string }[] }) => NodeRedisClusterTestClient,
): AdapterUnderTest {
  return {
    name,
    cluster: true,
    connect(url) {
      const cluster = createCluster({ rootNodes: [{ url }] });
      // Routed by the first argument as the key: right for the suite's keyed commands (GET key,
      // DEL key, ...), and harmless for keyless ones (PING, SCRIPT LOAD), which any node answers.
      return connectAndWrap(cluster, (args) => cluster.sendCommand(args[1], false, args));
    },
  };
}

const subscriberChild = fileURLToPath(new URL('./fixtures/subscriber-child.mjs', import.meta.url));

/**
 * The node-redis adapter for the subscriber suite, with the client's default options. `module` is
 * the package the child process loads (`redis4`, `redis5`, `redis`), the same as `createClient`.
 */
export function nodeRedisSubscriberAdapter(
  name: string,
  createClient: (options: { url: string }) => NodeRedisTestClient,
  module: string,
): SubscriberAdapterUnderTest {
  return {
    name,
    variants: [
      {
        label: 'default options',
        connect(url) {
          const client = createClient({ url });
          // Without a listener, an 'error' event (the server going away) would crash the test.
          client.on('error', () => {});
          return connectAndWrap(client, (args) => client.sendCommand(args));
        },
        childArgs: (task) => [subscriberChild, module, JSON.stringify({}), JSON.stringify(task)],
      },
    ],
  };
}
