/**
 * The nodes of a Redis Cluster as `CLUSTER NODES` describes them, and the slot arithmetic the
 * harness needs on them.
 */
import type { RedisAddress } from './resp.js';

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

export function servesSlot(node: ClusterNode, slot: number): boolean {
  return node.slots.some(([first, last]) => slot >= first && slot <= last);
}

export function sameSlots(a: readonly SlotRange[], b: readonly SlotRange[]): boolean {
  const key = (ranges: readonly SlotRange[]) =>
    ranges
      .map(([first, last]) => `${first}-${last}`)
      .sort()
      .join(',');
  return a.length > 0 && key(a) === key(b);
}

/** Who is primary of which slots and who replicates whom, comparable across nodes' views. */
export function describeLayout(nodes: readonly ClusterNode[]): string {
  return nodes
    .map((node) =>
      node.role === 'primary'
        ? `${node.id}:${node.slots.map((range) => range.join('-')).join(',')}`
        : `${node.id}>${node.primaryId}`,
    )
    .sort()
    .join(' ');
}

export function addressUrl(address: RedisAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `redis://${host}:${address.port}`;
}
