/**
 * `@lock/core/adapter`: the kit for writing a runner over a Redis client. {@link defineRunner}
 * builds a complete runner from the shape of the client (its EVALSHA and EVAL, how it opens a
 * subscriber connection, what server it talks to, its WAIT); the types describe the port
 * ({@link ScriptRunner}) and the optional capabilities core detects on a runner.
 *
 * @packageDocumentation
 */

/** The Redis key of a lock name under a prefix: what a runner routes by (every key of a lock shares its hash slot). */
export { lockKey } from './keys.js';
export type { DescribedRunner, ReleaseNotifier, ReplicaWaiter, Unsubscribe } from './port/capabilities.js';
export {
  type DefinedRunner,
  defineRunner,
  type OpeningSubscriber,
  type RunnerDefinition,
  type RunnerOptions,
} from './port/define-runner.js';
export type { SubscriberConnection } from './port/release-notifier.js';
export {
  type EvalFunctions,
  isNoScriptError,
  type LuaScript,
  type ScriptArg,
  type ScriptRunner,
} from './port/runner.js';
/** Every script core runs, e.g. to preload them with `SCRIPT LOAD` or to check their SHA-1s. */
export { ALL_SCRIPTS } from './scripts/index.js';
