/** A cluster of local `redis-server` processes on free loopback ports, formed with `redis-cli`. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterBase } from './cluster-base.js';
import { type ClusterNode, describeLayout, parseClusterNodes } from './cluster-nodes.js';
import { findFreePort } from './ports.js';
import { pollUntil } from './readiness.js';
import { launchOnFreePort, onProcessExit, type ServerProcess } from './redis-binary.js';
import type { RedisAddress } from './resp.js';

const HOST = '127.0.0.1';
const SLOT_COUNT = 16_384;
const FORM_TIMEOUT_MS = 30_000;

/** A cluster of `redis-server` processes we spawned, formed with `redis-cli --cluster create`. */
export class SpawnedCluster extends ClusterBase {
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

/** Runs a command to completion; rejects with its output when it fails. */
export function runToCompletion(file: string, args: readonly string[]): Promise<void> {
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
