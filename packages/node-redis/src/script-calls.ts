/** How a node-redis client or cluster sends EVALSHA, EVAL and its description, in the shape `defineRunner` takes. */
import type { EvalFunctions } from '@lock/core/adapter';
import type { NodeRedisLikeClient, NodeRedisLikeCluster } from './client.js';

export function isCluster(
  client: NodeRedisLikeClient | NodeRedisLikeCluster,
): client is NodeRedisLikeCluster {
  return (
    typeof client === 'object' &&
    client !== null &&
    'masters' in client &&
    typeof client.sendCommand === 'function'
  );
}

/** EVALSHA and EVAL in the call shape of a client or a cluster. */
export function evalFunctions(client: NodeRedisLikeClient | NodeRedisLikeCluster): EvalFunctions {
  if (isCluster(client)) {
    return {
      evalsha: (sha1, keys, args) =>
        client.sendCommand(keys[0], false, scriptCommand('EVALSHA', sha1, keys, args)),
      eval: (source, keys, args) =>
        client.sendCommand(keys[0], false, scriptCommand('EVAL', source, keys, args)),
    };
  }
  if (typeof client?.evalSha !== 'function' || typeof client.eval !== 'function') {
    throw new TypeError('createNodeRedisRunner(client) needs a node-redis client or cluster.');
  }
  // Every node-redis client has `sendCommand(args, options)` (a sentinel's takes `isReadonly`
  // first): scripts go through it, which is what `evalSha` does in the end (node-redis 5 and 6 send
  // it with the client's command options, 4 with none), without its argument parser and its extra
  // async steps per call. Not on a client with node-redis 6's `keyPrefix`, which only `evalSha`
  // applies to the keys.
  const { sendCommand } = client as { sendCommand?: (args: string[], options?: unknown) => Promise<unknown> };
  if (typeof sendCommand === 'function' && sendCommand.length === 2 && !hasKeyPrefix(client)) {
    const send = (args: string[]) => sendCommand.call(client, args, commandOptionsOf(client));
    return {
      evalsha: (sha1, keys, args) => send(scriptCommand('EVALSHA', sha1, keys, args)),
      eval: (source, keys, args) => send(scriptCommand('EVAL', source, keys, args)),
    };
  }
  return {
    evalsha: (sha1, keys, args) => client.evalSha(sha1, { keys: [...keys], arguments: [...args] }),
    eval: (source, keys, args) => client.eval(source, { keys: [...keys], arguments: [...args] }),
  };
}

/** `command script numkeys ...keys ...args`, as one array for `sendCommand`. */
function scriptCommand(
  command: 'EVALSHA' | 'EVAL',
  script: string,
  keys: readonly string[],
  args: readonly string[],
): string[] {
  const commandArgs = [command, script, String(keys.length)];
  for (const key of keys) commandArgs.push(key);
  for (const arg of args) commandArgs.push(arg);
  return commandArgs;
}

/** node-redis 6's `keyPrefix` option, which `evalSha` applies to the keys and `sendCommand` does not. */
function hasKeyPrefix(client: NodeRedisLikeClient): boolean {
  const prefix = (client as { _keyPrefix?: unknown })._keyPrefix;
  return prefix !== undefined && prefix !== null && prefix !== '';
}

/**
 * The command options `evalSha` would send with: those of the client, or of the proxy that
 * `withCommandOptions()` / `withTypeMapping()` made (node-redis 5 and 6); none on node-redis 4.
 */
function commandOptionsOf(client: NodeRedisLikeClient): unknown {
  return (client as { _commandOptions?: unknown })._commandOptions;
}

/**
 * `host:port` (or the socket path) of the client's server, for Redlock errors that name the
 * server that failed and for Redlock's refusal of one server given twice; `undefined` when the
 * options do not tell (a cluster). Never includes credentials.
 */
export function describeClient(client: NodeRedisLikeClient | NodeRedisLikeCluster): string | undefined {
  const options = (
    client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown; path?: unknown } } }
  ).options;
  const socket = options?.socket;
  if (typeof socket?.path === 'string') return socket.path;
  if (typeof socket?.host === 'string' || typeof socket?.port === 'number') {
    return `${String(socket?.host ?? 'localhost')}:${String(socket?.port ?? 6379)}`;
  }
  if (typeof options?.url === 'string' && URL.canParse(options.url)) {
    const url = new URL(options.url);
    return `${url.hostname}:${url.port || '6379'}`;
  }
  // A plain client given no address connects to node-redis's default.
  if (typeof options === 'object' && options !== null && !isCluster(client)) return 'localhost:6379';
  return undefined;
}
