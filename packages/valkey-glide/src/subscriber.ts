/** The subscriber client for release notifications, as `defineRunner` drives it. */
import type { OpeningSubscriber } from '@lock/core/adapter';
import type { GlideLikeSubscriber } from './client.js';

/** How long the subscriber waits for Redis to confirm an (UN)SUBSCRIBE, in ms. */
const SUBSCRIBE_TIMEOUT = 2_000;

/**
 * The subscriber client `opening` resolves with, as the runner drives it. GLIDE cannot stop a
 * client mid-connect: `destroy()` before it has connected closes it as soon as it has (the runner
 * calls `destroy()` again once `ready` settles late, which closes it then).
 */
export function subscriber(
  opening: Promise<GlideLikeSubscriber>,
  onMessage: (channel: string, message?: string) => void,
): OpeningSubscriber {
  let connection: GlideLikeSubscriber | undefined;
  const ready = opening.then((client) => {
    if (typeof client.subscribe !== 'function') {
      client.close();
      // A GLIDE before 2.3 has no dynamic SUBSCRIBE: its waiters poll.
      throw new Error('this GLIDE client has no subscribe(); waiters poll');
    }
    connection = client;
    void (async () => {
      // Ends with the rejection GLIDE gives every pending read once the client is closed.
      for (;;) {
        const { channel, message } = await client.getPubSubMessage();
        onMessage(String(channel), String(message));
      }
    })().catch(() => {});
  });
  const opened = async () => {
    await ready;
    return connection as GlideLikeSubscriber;
  };
  // What is subscribed now: a Locker's wake channel stays subscribed for a second after its last
  // waiter, so the runner may close while a subscription is in force.
  const subscribed = new Set<string>();
  return {
    ready,
    subscribe: async (channel) => {
      const reply = await (await opened()).subscribe([channel], SUBSCRIBE_TIMEOUT);
      subscribed.add(channel);
      return reply;
    },
    unsubscribe: async (channel) => {
      subscribed.delete(channel);
      return (await opened()).unsubscribe([channel], SUBSCRIBE_TIMEOUT);
    },
    close: async () => {
      const client = await opened();
      // A cluster client keeps a subscribed node's connection open for seconds after QUIT (which
      // goes to one node): unsubscribe first. The runner bounds the whole close.
      if (subscribed.size > 0) await client.unsubscribe([...subscribed], SUBSCRIBE_TIMEOUT).catch(() => {});
      // GLIDE's close() alone leaves the server connection open for seconds; QUIT ends it now.
      await client.customCommand(['QUIT']).finally(() => client.close());
    },
    destroy: () => connection?.close(),
  };
}
