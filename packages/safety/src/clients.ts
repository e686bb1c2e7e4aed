/**
 * Both adapters behind one shape, so every safety test runs on ioredis and node-redis alike, and
 * multi-process tests can mix them in one run.
 */
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import type { AdapterUnderTest, ConnectedClient, RedisCluster } from '@lock/testing';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';

export type ClientKind = 'ioredis' | 'node-redis';

export const CLIENT_KINDS: readonly ClientKind[] = ['ioredis', 'node-redis'];

/** Options that matter under faults: how long a command may hang before the client gives up. */
export interface ConnectOptions {
  /** Per-command timeout in ms (ioredis `commandTimeout`; node-redis `commandOptions.timeout`). */
  readonly commandTimeout?: number;
}

/** Connects one client of `kind` to `url` and wraps it with its adapter. */
export async function connectClient(
  kind: ClientKind,
  url: string,
  options: ConnectOptions = {},
): Promise<ConnectedClient> {
  if (kind === 'ioredis') {
    const client = new Redis(url, {
      lazyConnect: true,
      commandTimeout: options.commandTimeout,
      maxRetriesPerRequest: options.commandTimeout === undefined ? 20 : 1,
    });
    return connectIoredis(client);
  }
  const client = createClient({
    url,
    socket: { reconnectStrategy: (retries) => Math.min(retries * 50, 500) },
    commandOptions: options.commandTimeout === undefined ? undefined : { timeout: options.commandTimeout },
  });
  client.on('error', () => {});
  await client.connect();
  const runner = createNodeRedisRunner(client);
  return {
    runner,
    command: (args) => client.sendCommand([...args]),
    close: async () => {
      await runner.close();
      client.destroy?.();
    },
  };
}

/** Connects an ioredis `Redis` or `Cluster` made with `lazyConnect` and wraps it with the adapter. */
async function connectIoredis(client: Redis | Cluster): Promise<ConnectedClient> {
  client.on('error', () => {});
  await client.connect();
  const runner = createIoredisRunner(client);
  return {
    runner,
    command: ([command, ...args]) => client.call(command as string, ...args),
    close: async () => {
      await runner.close();
      client.disconnect();
    },
  };
}

/** The adapter of `kind`, in the shape the shared suites take. */
export function adapterOf(kind: ClientKind, options: ConnectOptions = {}): AdapterUnderTest {
  return { name: kind, connect: (url) => connectClient(kind, url, options) };
}

/** A cluster client of one kind, with a way to reach one primary over the client's own connection. */
export interface ClusterClient extends ConnectedClient {
  /**
   * Sends `args` over the client's own connection to the primary serving `key`: what `WAIT` needs
   * to wait for the writes this client made there.
   */
  commandOnPrimaryOf(key: string, args: readonly string[]): Promise<unknown>;
}

/** Connects one cluster client of `kind` (ioredis `Cluster`, node-redis `createCluster`) to `cluster`. */
export async function connectClusterClient(kind: ClientKind, cluster: RedisCluster): Promise<ClusterClient> {
  if (kind === 'ioredis') {
    const client = new Cluster([cluster.url], { lazyConnect: true });
    return {
      ...(await connectIoredis(client)),
      commandOnPrimaryOf: async (key, [command, ...args]) => {
        const { port } = await cluster.primaryFor(key);
        const node = client.nodes('master').find((candidate) => candidate.options.port === port);
        if (!node) throw new Error(`ioredis has no connection to the primary on port ${port}`);
        return node.call(command as string, ...args);
      },
    };
  }
  const client = createCluster({ rootNodes: [{ url: cluster.url }] });
  client.on('error', () => {});
  await client.connect();
  const runner = createNodeRedisRunner(client);
  return {
    runner,
    // The first argument routes: right for keyed commands, harmless for keyless ones.
    command: (args) => client.sendCommand(args[1], false, [...args]),
    // Not `sendCommand(key, ...)`: node-redis 6 fans some commands out by their request policy
    // (WAIT goes to every shard), while this must stay on the one connection to this primary.
    commandOnPrimaryOf: async (key, args) => {
      const { port } = await cluster.primaryFor(key);
      const primary = client.masters.find((candidate) => candidate.port === port);
      if (!primary) throw new Error(`node-redis has no connection to the primary on port ${port}`);
      return (await client.nodeClient(primary)).sendCommand([...args]);
    },
    close: async () => {
      await runner.close();
      client.destroy();
    },
  };
}
