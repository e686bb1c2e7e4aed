/**
 * Both adapters behind one shape, so every safety test runs on ioredis and node-redis alike, and
 * multi-process tests can mix them in one run.
 */
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import type { AdapterUnderTest, ConnectedClient } from '@lock/testing';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

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

/** The adapter of `kind`, in the shape the shared suites take. */
export function adapterOf(kind: ClientKind, options: ConnectOptions = {}): AdapterUnderTest {
  return { name: kind, connect: (url) => connectClient(kind, url, options) };
}
