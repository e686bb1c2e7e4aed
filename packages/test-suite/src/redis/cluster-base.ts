/** What both kinds of cluster share: commands to nodes, topology, and failover helpers. */
import { addressUrl, type ClusterNode, parseClusterNodes, sameSlots, servesSlot } from './cluster-nodes.js';
import { pollUntil } from './readiness.js';
import type { RedisCluster } from './redis-cluster.js';
import { type RedisAddress, sendCommand } from './resp.js';

const COMMAND_TIMEOUT_MS = 2_000;

/** What both kinds of cluster share: talking to nodes over the harness's own RESP client. */
export abstract class ClusterBase implements RedisCluster {
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

export function notOurs(method: string): Error {
  return new Error(`${method}() is not available for a cluster given through REDIS_CLUSTER_URLS`);
}
