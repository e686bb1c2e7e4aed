/** How the adapter sends commands through a GLIDE client, and turns GLIDE's replies and errors into what core expects. */
import type { GlideLikeClient } from './client.js';

/**
 * Sends one command through `client`: on a cluster client routed to the primary of `key`'s slot
 * (every key of a lock shares that slot), on a standalone client as is.
 */
export function sender(client: GlideLikeClient) {
  const cluster = client.ssubscribe !== undefined;
  return async (args: string[], key?: string): Promise<unknown> => {
    const options = cluster && key !== undefined ? { route: { type: 'primarySlotKey', key } as const } : {};
    try {
      return toPlain(await client.customCommand(args, options));
    } catch (error) {
      throw asRedisError(error);
    }
  };
}

/**
 * GLIDE's reply as the plain values core expects: bulk strings as `string` (also with a `Buffer`
 * decoder), integers as `number`, nil as `null`, arrays as arrays, and RESP3 booleans as RESP2
 * gives Lua's: `true` as 1, `false` as nil.
 */
function toPlain(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString();
  if (typeof reply === 'bigint') return Number(reply);
  if (typeof reply === 'boolean') return reply ? 1 : null;
  if (Array.isArray(reply)) return reply.map(toPlain);
  return reply;
}

/**
 * GLIDE rewrites server errors (`NOSCRIPT No matching…` becomes `…NoScriptError: No matching…`,
 * `CROSSSLOT Keys…` becomes `…CrossSlot: Keys…`); core and users recognise Redis's own codes, so
 * those are put back in front, with GLIDE's error kept as the cause.
 */
function asRedisError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = /\bNoScriptError\b/.test(error.message)
    ? 'NOSCRIPT'
    : /\bCrossSlot\b/.test(error.message) && !error.message.includes('CROSSSLOT')
      ? 'CROSSSLOT'
      : undefined;
  return code === undefined ? error : new Error(`${code} ${error.message}`, { cause: error });
}

/**
 * `host:port` of a standalone client's first address (GLIDE keeps its configuration as `config`),
 * for Redlock's errors and its refusal of one server given twice; never credentials.
 */
export function describeClient(client: GlideLikeClient, cluster: boolean): string | undefined {
  const address = (client as { config?: { addresses?: { host?: unknown; port?: unknown }[] } }).config
    ?.addresses?.[0];
  if (cluster || typeof address?.host !== 'string') return undefined;
  return `${address.host}:${String(address.port ?? 6379)}`;
}
