/**
 * A real Redis Cluster for tests: `REDIS_CLUSTER_URLS` if given, else primaries and replicas of
 * the local `redis-server` binary on free loopback ports, formed with `redis-cli --cluster create`.
 * Spawned nodes die with the test process, like the single server of `provisionRedis()`.
 *
 * @packageDocumentation
 */
import { delimiter, dirname } from 'node:path';
import { ClusterBase } from './cluster-base.js';
import type { ClusterNode } from './cluster-nodes.js';
import { type BinaryLookupEnv, findOnPath, findRedisServerBinary } from './redis-binary.js';
import { parseRedisUrl } from './redis-server.js';
import type { RedisAddress } from './resp.js';
import { SpawnedCluster } from './spawned-cluster.js';

export { type ClusterNode, parseClusterNodes, type SlotRange } from './cluster-nodes.js';

/** A Redis Cluster the tests can use. */
export interface RedisCluster {
  /** Where the cluster came from. */
  readonly source: 'REDIS_CLUSTER_URLS' | 'redis-server';
  /** Seed nodes for a cluster client (for `REDIS_CLUSTER_URLS`, the ones given). */
  readonly rootNodes: readonly RedisAddress[];
  /** `redis://host:port` of the first seed node: enough for a client to discover the rest. */
  readonly url: string;
  /** Every node as the cluster was when it became ready. */
  readonly nodes: readonly ClusterNode[];
  /** Milliseconds from the call to a ready cluster. */
  readonly startupMs: number;
  /** The topology now, as seen by the first live node that answers. */
  topology(): Promise<ClusterNode[]>;
  /** `CLUSTER KEYSLOT key`, asked of a live node. */
  keySlot(key: string): Promise<number>;
  /** The primary that serves `key` now. */
  primaryFor(key: string): Promise<ClusterNode>;
  /** Sends one command to one node; resolves its scalar reply (as `sendCommand` in `resp.ts`). */
  command(node: RedisAddress, args: readonly string[]): Promise<string>;
  /** Sends `args` to every current primary; resolves their replies in the order of `topology()`. */
  onEveryPrimary(args: readonly string[]): Promise<string[]>;
  /** Sends `args` to every live node, primaries and replicas; resolves their replies. */
  onEveryNode(args: readonly string[]): Promise<string[]>;
  /**
   * SIGKILLs the node on `port`, as a crash would (no shutdown, nothing flushed). Resolves once the
   * process is gone. Only for a cluster we started: throws for `REDIS_CLUSTER_URLS`.
   */
  killNode(port: number): Promise<void>;
  /**
   * SIGSTOPs the node on `port`: it keeps its connections but neither reads nor answers, as a
   * node stuck in a long pause would. Only for a cluster we started.
   */
  freezeNode(port: number): Promise<void>;
  /** SIGCONTs a node frozen by {@link RedisCluster.freezeNode}. */
  thawNode(port: number): Promise<void>;
  /**
   * After the primary on `port` died: resolves the replica that took over its slots, once every
   * live node agrees on that and reports `cluster_state:ok`.
   */
  waitForPromotion(port: number, timeoutMs?: number): Promise<ClusterNode>;
  /** Stops every node we started and removes their files; a no-op for `REDIS_CLUSTER_URLS`. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Primaries to start. @default 3 (the least `redis-cli --cluster create` accepts) */
  readonly primaries?: number;
  /** Replicas of each primary. @default 1 */
  readonly replicasPerPrimary?: number;
  /** Where `REDIS_CLUSTER_URLS`, `REDIS_SERVER_BIN` and `PATH` are read from. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Provides a Redis Cluster for tests, trying in order:
 * 1. `REDIS_CLUSTER_URLS`: comma-separated `redis://host:port` seed nodes of a running cluster, used
 *    as is (the tests flush scripts and reset stats on it: point it at a throwaway cluster);
 * 2. the `redis-server` binary (`REDIS_SERVER_BIN`, else PATH) and the `redis-cli` beside it or on
 *    PATH: `primaries × (1 + replicasPerPrimary)` nodes on free loopback ports, with a 1 s
 *    `cluster-node-timeout` so a failover takes seconds, formed and waited for until every node
 *    reports `cluster_state:ok` and every replica is in sync.
 *
 * @throws Error explaining how to make a cluster available, when neither works.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const startedAt = performance.now();
  const env = options.env ?? process.env;
  const urls = env.REDIS_CLUSTER_URLS;
  if (urls) return ExternalCluster.connect(urls, startedAt);

  const primaries = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  if (!Number.isInteger(primaries) || primaries < 3) throw new Error('A cluster needs at least 3 primaries');
  if (!Number.isInteger(replicasPerPrimary) || replicasPerPrimary < 0) {
    throw new Error('replicasPerPrimary must be a non-negative integer');
  }
  const server = findRedisServerBinary(env);
  const cli = server && findRedisCli(server, env);
  if (!server || !cli) {
    throw new Error(
      [
        'No Redis Cluster is available for the tests. Either of these fixes it:',
        '  1. Point the tests at a throwaway cluster you run:',
        '       REDIS_CLUSTER_URLS=redis://127.0.0.1:7000,redis://127.0.0.1:7001 pnpm test',
        '  2. Install redis-server and redis-cli (apt-get install redis-server, brew install redis),',
        '     so each test file starts its own local cluster',
        'What was tried:',
        '  - REDIS_CLUSTER_URLS: not set',
        `  - redis-server: ${server ?? 'not found'}`,
        `  - redis-cli: ${cli ?? 'not found beside redis-server nor on PATH'}`,
      ].join('\n'),
    );
  }
  return SpawnedCluster.start(
    server,
    cli,
    primaries * (1 + replicasPerPrimary),
    replicasPerPrimary,
    startedAt,
  );
}

/** `redis-cli` beside the `redis-server` in use (same installation), else on PATH. */
function findRedisCli(server: string, env: BinaryLookupEnv): string | undefined {
  return findOnPath('redis-cli', [dirname(server), env.PATH ?? ''].join(delimiter));
}

/** A cluster given through `REDIS_CLUSTER_URLS`: used, never stopped nor killed. */
class ExternalCluster extends ClusterBase {
  readonly source = 'REDIS_CLUSTER_URLS';

  private constructor(
    readonly rootNodes: readonly RedisAddress[],
    readonly nodes: readonly ClusterNode[],
    readonly startupMs: number,
  ) {
    super();
  }

  static async connect(urls: string, startedAt: number): Promise<ExternalCluster> {
    const rootNodes = urls
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean)
      .map((url) => parseRedisUrl(url, 'REDIS_CLUSTER_URLS'));
    if (rootNodes.length === 0) throw new Error('REDIS_CLUSTER_URLS lists no node');
    const seeds = new ExternalCluster(rootNodes, [], 0);
    const nodes = await seeds.topology();
    const info = await seeds.command(rootNodes[0] as RedisAddress, ['CLUSTER', 'INFO']);
    if (!/^cluster_state:ok\r?$/m.test(info)) {
      throw new Error(`The cluster at REDIS_CLUSTER_URLS does not report cluster_state:ok:\n${info}`);
    }
    return new ExternalCluster(rootNodes, nodes, performance.now() - startedAt);
  }

  async stop(): Promise<void> {}
}
