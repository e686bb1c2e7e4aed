/**
 * A real Redis Cluster for tests: `REDIS_CLUSTER_URLS` if given, else primaries and replicas of
 * the local `redis-server` binary on free loopback ports, formed with `redis-cli --cluster create`.
 * Spawned nodes die with the test process, like the single server of `provisionRedis()`.
 *
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { findFreePort } from './ports.js';
import { pollUntil } from './readiness.js';
import {
  type BinaryLookupEnv,
  findOnPath,
  findRedisServerBinary,
  launchOnFreePort,
  onProcessExit,
  type ServerProcess,
} from './redis-binary.js';
import { parseRedisUrl } from './redis-server.js';
import { type RedisAddress, sendCommand } from './resp.js';

const HOST = '127.0.0.1';
const SLOT_COUNT = 16_384;
const FORM_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 2_000;

/** An inclusive range of hash slots, `[first, last]`. */
export type SlotRange = readonly [first: number, last: number];

/** One node of a cluster, as `CLUSTER NODES` describes it. */
export interface ClusterNode extends RedisAddress {
  /** The node's 40-character cluster id. */
  readonly id: string;
  /** `redis://host:port`. */
  readonly url: string;
  readonly role: 'primary' | 'replica';
  /** For a replica, the id of the primary it replicates; otherwise `undefined`. */
  readonly primaryId: string | undefined;
  /** The slots a primary serves; empty for a replica. */
  readonly slots: readonly SlotRange[];
  /** Flagged `fail` or `fail?` by the node that was asked. */
  readonly failing: boolean;
}

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

/** What both kinds of cluster share: talking to nodes over the harness's own RESP client. */
abstract class ClusterBase implements RedisCluster {
  abstract readonly source: RedisCluster['source'];
  abstract readonly rootNodes: readonly RedisAddress[];
  abstract readonly nodes: readonly ClusterNode[];
  abstract readonly startupMs: number;

  get url(): string {
    const [first] = this.rootNodes;
    if (!first) throw new Error('The cluster has no seed node');
    return addressUrl(first);
  }

  /** Nodes that should be up: all but the ones we killed. */
  protected liveNodes(): readonly RedisAddress[] {
    return this.nodes.length > 0 ? this.nodes : this.rootNodes;
  }

  command(node: RedisAddress, args: readonly string[]): Promise<string> {
    return sendCommand(node, args, { timeoutMs: COMMAND_TIMEOUT_MS });
  }

  async topology(): Promise<ClusterNode[]> {
    return parseClusterNodes(await this.askAnyLiveNode(['CLUSTER', 'NODES']));
  }

  async keySlot(key: string): Promise<number> {
    return Number(await this.askAnyLiveNode(['CLUSTER', 'KEYSLOT', key]));
  }

  async primaryFor(key: string): Promise<ClusterNode> {
    const [slot, nodes] = await Promise.all([this.keySlot(key), this.topology()]);
    const primary = nodes.find((node) => node.role === 'primary' && !node.failing && servesSlot(node, slot));
    if (!primary) throw new Error(`No live primary serves slot ${slot} (key ${key})`);
    return primary;
  }

  async onEveryPrimary(args: readonly string[]): Promise<string[]> {
    const primaries = (await this.topology()).filter((node) => node.role === 'primary' && !node.failing);
    return Promise.all(primaries.map((node) => this.command(node, args)));
  }

  onEveryNode(args: readonly string[]): Promise<string[]> {
    return Promise.all(this.liveNodes().map((node) => this.command(node, args)));
  }

  async killNode(_port: number): Promise<void> {
    throw notOurs('killNode');
  }

  async freezeNode(_port: number): Promise<void> {
    throw notOurs('freezeNode');
  }

  async thawNode(_port: number): Promise<void> {
    throw notOurs('thawNode');
  }

  async waitForPromotion(port: number, timeoutMs = 15_000): Promise<ClusterNode> {
    const dead = this.nodes.find((node) => node.port === port && node.role === 'primary');
    if (!dead) throw new Error(`No primary of this cluster was on port ${port}`);
    let promoted: ClusterNode | undefined;
    await pollUntil(
      async () => {
        const views = await Promise.all(
          this.liveNodes().map(async (node) => ({
            info: await this.command(node, ['CLUSTER', 'INFO']),
            nodes: parseClusterNodes(await this.command(node, ['CLUSTER', 'NODES'])),
          })),
        );
        const heirs = new Set<string>();
        for (const view of views) {
          if (!/^cluster_state:ok\r?$/m.test(view.info))
            return 'a live node does not report cluster_state:ok';
          const heir = view.nodes.find(
            (node) => node.role === 'primary' && node.id !== dead.id && sameSlots(node.slots, dead.slots),
          );
          if (!heir) return `no live node serves the slots of ${dead.url} yet`;
          heirs.add(heir.id);
          promoted = heir;
        }
        return heirs.size === 1 ? true : 'the live nodes do not agree yet on the new primary';
      },
      { timeoutMs, intervalMs: 50, description: `a replica of ${dead.url} to take over` },
    );
    if (!promoted) throw new Error('unreachable: the promotion check passed without a promoted node');
    return promoted;
  }

  abstract stop(): Promise<void>;

  private async askAnyLiveNode(args: readonly string[]): Promise<string> {
    let lastError: unknown;
    for (const node of this.liveNodes()) {
      try {
        return await this.command(node, args);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`No node of the cluster answered ${args.join(' ')}`, { cause: lastError });
  }
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

/** A cluster of `redis-server` processes we spawned, formed with `redis-cli --cluster create`. */
class SpawnedCluster extends ClusterBase {
  readonly source = 'redis-server';
  private readonly killed = new Set<number>();
  private stopping: Promise<void> | undefined;
  private readonly removeExitHook: () => void;
  nodes: readonly ClusterNode[] = [];
  startupMs = 0;

  private constructor(
    private readonly dir: string,
    private readonly servers: ReadonlyMap<number, ServerProcess>,
  ) {
    super();
    this.removeExitHook = onProcessExit(() => {
      for (const server of this.servers.values()) server.killNow();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  get rootNodes(): readonly RedisAddress[] {
    return [...this.servers.keys()].map((port) => ({ host: HOST, port }));
  }

  static async start(
    server: string,
    cli: string,
    size: number,
    replicasPerPrimary: number,
    startedAt: number,
  ): Promise<SpawnedCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'lock-redis-cluster-'));
    const launched = await Promise.allSettled(
      Array.from({ length: size }, () =>
        launchOnFreePort(server, dir, async (port) => [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
          // Fail over within seconds of a primary's death, not the default 15 s.
          ...['--cluster-node-timeout', '1000'],
          // Not port + 10000, which may be above 65535 for an ephemeral port.
          ...['--cluster-port', String(await findFreePort())],
          // Replicas sync at once instead of after the default 5 s diskless-sync delay.
          ...['--repl-diskless-sync-delay', '0'],
        ]),
      ),
    );
    const servers = new Map<number, ServerProcess>();
    for (const result of launched) {
      if (result.status === 'fulfilled') servers.set(result.value.port, result.value.server);
    }
    const cluster = new SpawnedCluster(dir, servers);
    try {
      const failure = launched.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
      await cluster.form(cli, replicasPerPrimary);
      cluster.nodes = await cluster.topology();
      cluster.startupMs = performance.now() - startedAt;
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  protected override liveNodes(): readonly RedisAddress[] {
    return this.rootNodes.filter((node) => !this.killed.has(node.port));
  }

  override async killNode(port: number): Promise<void> {
    this.killed.add(port);
    await this.server(port).kill();
  }

  override async freezeNode(port: number): Promise<void> {
    this.server(port).signal('SIGSTOP');
  }

  override async thawNode(port: number): Promise<void> {
    this.server(port).signal('SIGCONT');
  }

  private server(port: number): ServerProcess {
    const server = this.servers.get(port);
    if (!server) throw new Error(`No node of this cluster runs on port ${port}`);
    return server;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // A frozen node would only act on SIGTERM once thawed.
      for (const server of this.servers.values()) server.signal('SIGCONT');
      await Promise.all([...this.servers.values()].map((server) => server.stop()));
      this.removeExitHook();
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private async form(cli: string, replicasPerPrimary: number): Promise<void> {
    const addresses = this.rootNodes.map((node) => `${node.host}:${node.port}`);
    await runToCompletion(cli, [
      ...['--cluster', 'create', ...addresses],
      ...['--cluster-replicas', String(replicasPerPrimary), '--cluster-yes'],
    ]);
    const size = this.servers.size;
    const primaries = size / (1 + replicasPerPrimary);
    await pollUntil(() => this.isReady(size, primaries), {
      timeoutMs: FORM_TIMEOUT_MS,
      description: `the ${size}-node cluster to be ready`,
    });
  }

  /** True once every node agrees on the topology, serves all slots, and every replica is in sync. */
  private async isReady(size: number, primaries: number): Promise<true | string> {
    const views = await Promise.all(
      this.liveNodes().map(async (node) => {
        const [info, nodes, replication] = await Promise.all([
          this.command(node, ['CLUSTER', 'INFO']),
          this.command(node, ['CLUSTER', 'NODES']),
          this.command(node, ['INFO', 'replication']),
        ]);
        return { port: node.port, info, nodes: parseClusterNodes(nodes), replication };
      }),
    );
    const layouts = new Set<string>();
    for (const { port, info, nodes, replication } of views) {
      if (!/^cluster_state:ok\r?$/m.test(info)) return `node ${port} does not report cluster_state:ok`;
      if (!new RegExp(`^cluster_slots_ok:${SLOT_COUNT}\\r?$`, 'm').test(info)) {
        return `node ${port} does not see all slots ok`;
      }
      if (nodes.length !== size) return `node ${port} knows ${nodes.length} of ${size} nodes`;
      if (nodes.filter((node) => node.role === 'primary' && node.slots.length > 0).length !== primaries) {
        return `node ${port} does not see ${primaries} primaries with slots`;
      }
      if (/^role:slave\r?$/m.test(replication) && !/^master_link_status:up\r?$/m.test(replication)) {
        return `replica ${port} is not in sync with its primary yet`;
      }
      layouts.add(describeLayout(nodes));
    }
    return layouts.size === 1 ? true : 'the nodes do not agree on the topology yet';
  }
}

function notOurs(method: string): Error {
  return new Error(`${method}() is not available for a cluster given through REDIS_CLUSTER_URLS`);
}

/** Runs a command to completion; rejects with its output when it fails. */
function runToCompletion(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const record = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout.on('data', record);
    child.stderr.on('data', record);
    const timer = setTimeout(() => child.kill('SIGKILL'), FORM_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${output}`));
    });
  });
}

/**
 * Parses `CLUSTER NODES`: one line per node,
 * `<id> <ip:port@cport[,hostname]> <flags> <primary id|-> <ping> <pong> <epoch> <link> <slot>...`.
 */
export function parseClusterNodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    const [id, address, flagList, primary, , , , , ...slotFields] = line.trim().split(' ');
    if (!id || !address || !flagList || !primary) continue;
    const flags = flagList.split(',');
    const hostPort = address.split('@')[0] ?? '';
    const separator = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, separator);
    const port = Number(hostPort.slice(separator + 1));
    const role = flags.includes('master') ? 'primary' : 'replica';
    nodes.push({
      id,
      host,
      port,
      url: addressUrl({ host, port }),
      role,
      primaryId: role === 'replica' && primary !== '-' ? primary : undefined,
      // Entries in brackets are slots being migrated, not served.
      slots: slotFields.filter((field) => !field.startsWith('[')).map(parseSlotRange),
      failing: flags.includes('fail') || flags.includes('fail?'),
    });
  }
  return nodes;
}

function parseSlotRange(field: string): SlotRange {
  const [first, last = first] = field.split('-').map(Number) as [number, number?];
  return [first, last];
}

function servesSlot(node: ClusterNode, slot: number): boolean {
  return node.slots.some(([first, last]) => slot >= first && slot <= last);
}

function sameSlots(a: readonly SlotRange[], b: readonly SlotRange[]): boolean {
  const key = (ranges: readonly SlotRange[]) =>
    ranges
      .map(([first, last]) => `${first}-${last}`)
      .sort()
      .join(',');
  return a.length > 0 && key(a) === key(b);
}

/** Who is primary of which slots and who replicates whom, comparable across nodes' views. */
function describeLayout(nodes: readonly ClusterNode[]): string {
  return nodes
    .map((node) =>
      node.role === 'primary'
        ? `${node.id}:${node.slots.map((range) => range.join('-')).join(',')}`
        : `${node.id}>${node.primaryId}`,
    )
    .sort()
    .join(' ');
}

function addressUrl(address: RedisAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `redis://${host}:${address.port}`;
}
