import type { AdapterUnderTest, ConnectedClient } from '@lock/test-suite';
import { GlideClient, type GlideClientConfiguration, GlideClusterClient } from '@valkey/valkey-glide';
import { createGlideRunner } from '../src/index.js';

/**
 * GLIDE's own per-request timeout (250 ms by default) would cut a command short before core's
 * `commandTimeout` does, e.g. while the suite pauses Redis; apps set it the same way.
 */
const requestTimeout = 10_000;

/** GLIDE's configuration for the server at `url` (`redis://host:port`). */
function configFor(url: string): GlideClientConfiguration {
  const { hostname, port } = new URL(url);
  return { addresses: [{ host: hostname, port: Number(port) }], requestTimeout };
}

/**
 * A RESP3 map (GLIDE's `[{ key, value }]` records, e.g. from CONFIG GET) as the flat
 * `[key, value, ...]` list that RESP2 clients return and the suite reads.
 */
function asResp2(reply: unknown): unknown {
  const isRecord = (entry: unknown) =>
    typeof entry === 'object' && entry !== null && 'key' in entry && 'value' in entry;
  if (!Array.isArray(reply) || reply.length === 0 || !reply.every(isRecord)) return reply;
  return (reply as { key: unknown; value: unknown }[]).flatMap(({ key, value }) => [key, value]);
}

/** Wraps `client` with the adapter; the subscriber is a second client made the same way. */
function wrap(
  client: GlideClient | GlideClusterClient,
  subscriber: () => Promise<GlideClient | GlideClusterClient>,
): ConnectedClient {
  // Passing the client and the factory without a cast proves that both GLIDE classes fit.
  const runner = createGlideRunner(client, { subscriber });
  return {
    runner,
    // Without a route, GLIDE sends a keyed command to the key's primary and a keyless one to any
    // node, like the adapter's scripts.
    command: async (args) => asResp2(await client.customCommand([...args])),
    close: async () => {
      await runner.close();
      client.close();
    },
  };
}

/** The adapter under test over a standalone `GlideClient`. */
export function glideAdapter(name: string): AdapterUnderTest {
  return {
    name,
    connect: async (url) => {
      const config = configFor(url);
      return wrap(await GlideClient.createClient(config), () => GlideClient.createClient(config));
    },
  };
}

/**
 * The adapter under test over a `GlideClusterClient` seeded with one node (GLIDE finds the rest).
 * Its subscriber is a standalone `GlideClient` on that node (`'one node'`), or a second
 * `GlideClusterClient` (`'cluster'`), which subscribes each channel on the primary of its slot.
 */
export function glideClusterAdapter(name: string, subscriber: 'one node' | 'cluster'): AdapterUnderTest {
  return {
    name,
    cluster: true,
    connect: async (url) => {
      const config = configFor(url);
      return wrap(await GlideClusterClient.createClient(config), () =>
        subscriber === 'cluster' ? GlideClusterClient.createClient(config) : GlideClient.createClient(config),
      );
    },
  };
}
