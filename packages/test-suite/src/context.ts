/**
 * What every module of the conformance suite gets: where the suite runs (one Redis, or a cluster
 * whose nodes it can also address one by one), the file's clients, and Lockers over them.
 */
import { Locker, type LockerOptions, type ScriptRunner } from '@lock/core';
import type { AdapterUnderTest, ConnectedClient } from './adapter-under-test.js';
import { parseCommandStats, sumCommandStats, uniqueName } from './helpers.js';
import type { RedisCluster } from './redis/redis-cluster.js';
import type { RedisInstance } from './redis/redis-server.js';

/** Where the suite runs. */
export interface SuiteTarget {
  readonly url: string;
  /** The cluster, when the suite runs on one. */
  readonly cluster: RedisCluster | undefined;
  /** Sends `args` to every primary (a single server is its own only primary). */
  everyPrimary(args: readonly string[]): Promise<unknown[]>;
  /** Sends `args` to every node, primaries and replicas. */
  everyNode(args: readonly string[]): Promise<unknown[]>;
  /** Identifies the primary that serves `key`. */
  primaryOf(key: string): Promise<string>;
  /** Sends `args` to the primary that serves `key`. */
  onPrimaryOf(key: string, args: readonly string[]): Promise<unknown>;
  stop(): Promise<void>;
}

/** One server: everything goes through the client under test, as `send`. */
export function singleServerTarget(
  redis: RedisInstance,
  send: (args: readonly string[]) => Promise<unknown>,
): SuiteTarget {
  return {
    url: redis.url,
    cluster: undefined,
    everyPrimary: async (args) => [await send(args)],
    everyNode: async (args) => [await send(args)],
    primaryOf: async () => redis.url,
    onPrimaryOf: (_key, args) => send(args),
    stop: () => redis.stop(),
  };
}

/** A cluster: server-wide commands go to the nodes directly, by the harness's own connections. */
export function clusterTarget(cluster: RedisCluster): SuiteTarget {
  return {
    url: cluster.url,
    cluster,
    everyPrimary: (args) => cluster.onEveryPrimary(args),
    everyNode: (args) => cluster.onEveryNode(args),
    primaryOf: async (key) => (await cluster.primaryFor(key)).id,
    onPrimaryOf: async (key, args) => cluster.command(await cluster.primaryFor(key), args),
    stop: () => cluster.stop(),
  };
}

/** What each module of {@link runConformanceSuite} registers its tests with. */
export interface SuiteContext {
  readonly adapter: AdapterUnderTest;
  /** Where the suite runs; set once the file's `beforeAll` ran. */
  readonly target: SuiteTarget;
  /** The file's main client; set once the file's `beforeAll` ran. */
  readonly client: ConnectedClient;
  /** Connects one more client; the suite closes it after the file. */
  connect(): Promise<ConnectedClient>;
  /** Sends a raw command through the main client. */
  command(...args: string[]): Promise<unknown>;
  /** A Locker over `runner` (default: the main client's) with the suite's key prefix. */
  newLocker(options?: LockerOptions, runner?: ScriptRunner): Locker;
  /** `INFO commandstats` of every primary, parsed. */
  statsPerPrimary(): Promise<Record<string, number>[]>;
  /** `INFO commandstats` summed over every primary. */
  commandStats(): Promise<Record<string, number>>;
  /** One lock name per primary (one name for a single server), so a test reaches every node. */
  namesOnEveryPrimary(label: string): Promise<string[]>;
}

/** The key prefix of every lock the conformance suite takes. */
export const SUITE_PREFIX = 'conformance:';

/**
 * A {@link SuiteContext} whose `target` and `client` are read through `state`, which the suite's
 * `beforeAll` fills.
 */
export function suiteContext(
  adapter: AdapterUnderTest,
  state: { target?: SuiteTarget; client?: ConnectedClient; extraClients: ConnectedClient[] },
): SuiteContext {
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the suite's ${what} is not ready: use it inside a test`);
    return value;
  };
  const context: SuiteContext = {
    adapter,
    get target() {
      return ready(state.target, 'Redis');
    },
    get client() {
      return ready(state.client, 'client');
    },
    async connect() {
      const extra = await adapter.connect(context.target.url);
      state.extraClients.push(extra);
      return extra;
    },
    command: (...args) => context.client.command(args),
    newLocker: (options = {}, runner = context.client.runner) =>
      new Locker(runner, { prefix: SUITE_PREFIX, ...options }),
    statsPerPrimary: async () =>
      (await context.target.everyPrimary(['INFO', 'commandstats'])).map((info) =>
        parseCommandStats(String(info)),
      ),
    commandStats: async () => sumCommandStats(await context.statsPerPrimary()),
    async namesOnEveryPrimary(label) {
      const primaries = (await context.target.everyPrimary(['PING'])).length;
      const names = new Map<string, string>();
      while (names.size < primaries) {
        const name = uniqueName(label);
        const primary = await context.target.primaryOf(context.newLocker().createLock(name).key);
        if (!names.has(primary)) names.set(primary, name);
      }
      return [...names.values()];
    },
  };
  return context;
}
