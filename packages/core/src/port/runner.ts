/**
 * The port between the lock algorithm and a Redis client. Core needs exactly one thing from Redis:
 * run a Lua script atomically. Everything else (connections, cluster routing, reconnects) stays in
 * the client the user already owns.
 */

/** A Lua script together with its precomputed SHA-1, so runners can use EVALSHA without hashing. */
export interface LuaScript {
  /** A short, stable name used in errors and logs, e.g. `acquire`. */
  readonly name: string;
  /** The Lua source, as sent by EVAL. */
  readonly source: string;
  /** Lower-case hex SHA-1 of `source`, as returned by `SCRIPT LOAD`. */
  readonly sha1: string;
}

/** An argument to a script: numbers are sent as their decimal string. */
export type ScriptArg = string | number;

/**
 * Runs Lua scripts on Redis. This is the whole contract between `@lock/core` and a Redis client.
 *
 * A runner must:
 * - run `script` atomically on the server that owns `keys` (EVALSHA with `script.sha1`, and on a
 *   `NOSCRIPT` reply, EVAL with `script.source`, which also caches it for the next EVALSHA);
 * - resolve with the reply as plain JavaScript values: integers as `number`, bulk strings as
 *   `string`, nil as `null`, arrays as arrays;
 * - reject with the client's error when Redis or the connection fails (core wraps it in a
 *   `LockRedisError`).
 *
 * `defineRunner` (from `@lock/core/adapter`) builds one from a client's EVALSHA and EVAL calls,
 * with release notifications and the other optional capabilities when the client offers them.
 */
export interface ScriptRunner {
  run(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
}

/** The two primitive calls `defineRunner` needs from a client. */
export interface EvalFunctions {
  /** Sends `EVALSHA sha1 numkeys ...keys ...args` and resolves with the reply. */
  evalsha(sha1: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** Sends `EVAL source numkeys ...keys ...args` and resolves with the reply. */
  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

/**
 * True for the error Redis returns when EVALSHA names a script it has not cached (after a
 * restart, a `SCRIPT FLUSH`, or on a cluster node that never saw it). Every client surfaces the
 * reply text as the error message, so the check is the same for all of them.
 */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Builds a {@link ScriptRunner} from a client's EVALSHA and EVAL calls: EVALSHA first, EVAL only
 * on a `NOSCRIPT` reply. In the steady state each operation costs one EVALSHA.
 *
 * @example
 * ```ts
 * const runner = createScriptRunner({
 *   evalsha: (sha1, keys, args) => client.evalsha(sha1, keys.length, ...keys, ...args),
 *   eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
 * });
 * ```
 */
export function createScriptRunner(calls: EvalFunctions): ScriptRunner {
  // A plain promise chain rather than an async function: this runs twice per lock, and an async
  // frame with its await costs more than one reaction on the client's promise.
  return {
    run(script, keys, args) {
      const stringArgs = toStrings(args);
      let reply: Promise<unknown>;
      try {
        // Promise.resolve: returns a native promise as it is, and makes anything else one.
        reply = Promise.resolve(calls.evalsha(script.sha1, keys, stringArgs));
      } catch (error) {
        reply = Promise.reject(error);
      }
      return reply.then(undefined, (error: unknown) => {
        if (!isNoScriptError(error)) throw error;
        return calls.eval(script.source, keys, stringArgs);
      });
    },
  };
}

/** `args` as the decimal strings a client sends; a plain loop, without `map`'s callback per argument. */
function toStrings(args: readonly ScriptArg[]): string[] {
  const strings = new Array<string>(args.length);
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    strings[index] = typeof arg === 'string' ? arg : String(arg);
  }
  return strings;
}
