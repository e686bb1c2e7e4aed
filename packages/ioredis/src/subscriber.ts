/** The subscriber connection for release notifications, over an ioredis `duplicate()`. */
import type { OpeningSubscriber } from '@lock/core/adapter';
import type { IoredisLikeSubscriber } from './client.js';

export function subscriber(
  connection: IoredisLikeSubscriber,
  onMessage: (channel: string, message?: string) => void,
): OpeningSubscriber {
  // Our own connection: its errors must not surface as unhandled 'error' events in the app;
  // ioredis reconnects and resubscribes by itself, and waiters keep polling meanwhile.
  connection.on('error', () => {});
  connection.on('message', (channel: string, message: string) => onMessage(channel, message));
  // After QUIT ('end') there is nothing left to stop, and disconnecting again would only leave a
  // timer behind that keeps the process alive for ioredis's disconnectTimeout.
  const destroy = () => {
    if (connection.status !== 'end') connection.disconnect?.();
  };
  return {
    ready: whenReady(connection),
    subscribe: (channel) => connection.subscribe(channel),
    unsubscribe: (channel) => connection.unsubscribe(channel),
    // QUIT on a connection that is not ready is queued until it reconnects (or refused at once
    // with enableOfflineQueue: false) and leaves ioredis reconnecting: disconnect instead.
    close: async () =>
      connection.disconnect !== undefined && connection.status !== 'ready' ? destroy() : connection.quit(),
    destroy,
  };
}

/**
 * Resolves once `connection` is ready; `undefined` when it already is (or reports no status).
 * Subscribed before, with enableOfflineQueue: false, a SUBSCRIBE would be refused. While it cannot
 * connect (e.g. the server is at maxclients), ioredis keeps retrying until the runner gives up.
 */
function whenReady(connection: IoredisLikeSubscriber): Promise<void> | undefined {
  if (connection.status === undefined || connection.status === 'ready') return undefined;
  const ready = new Promise<void>((resolve) => {
    const onReady = () => {
      connection.removeListener?.('ready', onReady);
      resolve();
    };
    connection.on('ready', onReady);
  });
  // lazyConnect: connect() rejects when the first connection fails, but ioredis keeps retrying.
  if (connection.status === 'wait') connection.connect?.().catch(() => {});
  return ready;
}
