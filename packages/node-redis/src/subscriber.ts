/** The subscriber connection for release notifications, over a node-redis `duplicate()`. */
import type { OpeningSubscriber } from '@lock/core/adapter';
import type { NodeRedisLikeClient, NodeRedisLikeCluster, NodeRedisLikeSubscriber } from './client.js';
import { isCluster } from './script-calls.js';

/** Makes the subscriber connection: `duplicate()`, on a cluster with one connection, not one per primary. */
export function duplicateOf(
  client: NodeRedisLikeClient | NodeRedisLikeCluster,
): (() => NodeRedisLikeSubscriber) | undefined {
  if (isCluster(client)) {
    const { duplicate } = client;
    return duplicate && (() => duplicate.call(client, { minimizeConnections: true }));
  }
  const { duplicate } = client;
  return duplicate && (() => duplicate.call(client));
}

export function subscriber(
  connection: NodeRedisLikeSubscriber,
  onMessage: (channel: string, message?: string) => void,
): OpeningSubscriber {
  // Our own connection: an 'error' event without a listener would crash the app; node-redis
  // reconnects and resubscribes by itself, and waiters keep polling meanwhile.
  connection.on('error', () => {});
  const destroy = async () => {
    try {
      if (connection.destroy !== undefined) connection.destroy();
      else if (connection.disconnect !== undefined) await connection.disconnect();
      else await (connection.close?.() ?? connection.quit?.());
    } catch {
      // Already closed (node-redis 4 and 5 throw ClientClosedError then): nothing left to stop.
    }
  };
  return {
    // connect() keeps retrying for as long as the server refuses the connection (e.g. at
    // maxclients), until the runner gives up on it and destroys it.
    ready: connection.connect(),
    subscribe: (channel) => connection.subscribe(channel, (message, from) => onMessage(from, message)),
    unsubscribe: (channel) => connection.unsubscribe(channel),
    // Never QUIT or close(): they wait for the server (forever while it reconnects), and only
    // node-redis 6 can still destroy a connection once they started (4 and 5 then throw
    // ClientClosedError, after failing the QUIT whose reply later crashes the client). Nothing on
    // a subscriber connection is worth waiting for: the server drops its subscriptions.
    close: destroy,
    destroy,
  };
}
