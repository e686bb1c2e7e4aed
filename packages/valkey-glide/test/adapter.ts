import type { AdapterUnderTest, ConnectedClient } from '@lock/testing';
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
    command: async (args) => {
      const reply = await client.customCommand([...args]);
      return Buffer.isBuffer(reply) ? reply.toString() : reply;
    },
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

/** The adapter under test over a `GlideClusterClient` seeded with one node (GLIDE finds the rest). */
export function glideClusterAdapter(name: string): AdapterUnderTest {
  return {
    name,
    cluster: true,
    connect: async (url) => {
      const config = configFor(url);
      return wrap(await GlideClusterClient.createClient(config), () =>
        GlideClusterClient.createClient(config),
      );
    },
  };
}
