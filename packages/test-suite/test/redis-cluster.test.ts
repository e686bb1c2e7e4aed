import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../src/index.js';
import { RedisReplyError } from '../src/redis/resp.js';
import { portRefuses, provisionInChild } from './helpers.js';

const usingClusterUrls = Boolean(process.env.REDIS_CLUSTER_URLS);

describe('startRedisCluster()', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    // Reported for the record: how long a test file waits for its cluster.
    console.info(`Redis Cluster (${cluster.source}) ready in ${Math.round(cluster.startupMs)} ms`);
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('is a cluster whose every node serves, with every slot covered', async () => {
    for (const info of await cluster.onEveryNode(['CLUSTER', 'INFO'])) {
      expect(info).toMatch(/^cluster_state:ok\r?$/m);
      expect(info).toMatch(/^cluster_slots_ok:16384\r?$/m);
    }
    const primaries = cluster.nodes.filter((node) => node.role === 'primary');
    const covered = primaries
      .flatMap((node) => node.slots)
      .reduce((sum, [first, last]) => sum + last - first + 1, 0);
    expect(covered).toBe(16_384);
  });

  it.skipIf(usingClusterUrls)(
    'starts 3 primaries with 1 in-sync replica each, on loopback, away from 6379',
    async () => {
      expect(cluster.source).toBe('redis-server');
      expect(cluster.nodes).toHaveLength(6);
      const primaries = cluster.nodes.filter((node) => node.role === 'primary');
      expect(primaries).toHaveLength(3);
      for (const primary of primaries) {
        expect(cluster.nodes.filter((node) => node.primaryId === primary.id)).toHaveLength(1);
      }
      for (const node of cluster.nodes) {
        expect(node.host).toBe('127.0.0.1');
        expect(node.port).not.toBe(6379);
        expect(node.url).toBe(`redis://127.0.0.1:${node.port}`);
      }
      for (const replica of cluster.nodes.filter((node) => node.role === 'replica')) {
        expect(await cluster.command(replica, ['INFO', 'replication'])).toMatch(
          /^master_link_status:up\r?$/m,
        );
      }
    },
  );

  it('finds the primary of a key: it serves the key, another primary redirects', async () => {
    const key = `harness:{${Math.random()}}`;
    const owner = await cluster.primaryFor(key);
    expect(await cluster.command(owner, ['SET', key, '1', 'PX', '10000'])).toBe('OK');
    const other = (await cluster.topology()).find((node) => node.role === 'primary' && node.id !== owner.id);
    if (!other) throw new Error('expected another primary');
    const redirect = await cluster.command(other, ['GET', key]).catch((error: unknown) => error);
    expect(redirect).toBeInstanceOf(RedisReplyError);
    expect((redirect as Error).message).toBe(
      `MOVED ${await cluster.keySlot(key)} ${owner.host}:${owner.port}`,
    );
  });

  it.skipIf(usingClusterUrls)(
    'REDIS_CLUSTER_URLS is used as is: discovered, never stopped nor killed',
    async () => {
      const urls = `${cluster.url}, redis://127.0.0.1:${cluster.nodes[1]?.port}`;
      const given = await startRedisCluster({ env: { REDIS_CLUSTER_URLS: urls, PATH: '' } });
      expect(given.source).toBe('REDIS_CLUSTER_URLS');
      expect(given.rootNodes).toHaveLength(2);
      expect(given.url).toBe(cluster.url);
      expect(new Set(given.nodes.map((node) => node.id))).toEqual(
        new Set(cluster.nodes.map((node) => node.id)),
      );
      await expect(given.killNode(cluster.nodes[0]?.port ?? 0)).rejects.toThrow(/REDIS_CLUSTER_URLS/);
      await given.stop();
      expect(await cluster.onEveryNode(['PING'])).toEqual(Array(6).fill('PONG'));
    },
  );

  it.skipIf(usingClusterUrls)(
    'killNode() crashes a primary; waitForPromotion() resolves its replica once it serves the slots',
    async () => {
      const key = `harness:{failover-${Math.random()}}`;
      const primary = await cluster.primaryFor(key);
      const replica = cluster.nodes.find((node) => node.primaryId === primary.id);
      const killedAt = performance.now();
      await cluster.killNode(primary.port);
      expect(await portRefuses(primary.port, 0)).toBe(true);

      const promoted = await cluster.waitForPromotion(primary.port);
      console.info(`Replica promoted ${Math.round(performance.now() - killedAt)} ms after the primary died`);
      expect(promoted.id).toBe(replica?.id);
      expect(promoted.slots).toEqual(primary.slots);
      expect((await cluster.primaryFor(key)).id).toBe(promoted.id);
      expect(await cluster.command(promoted, ['SET', key, '1'])).toBe('OK');
      // The dead node is left out of everything that talks to live nodes.
      expect(await cluster.onEveryNode(['PING'])).toEqual(Array(5).fill('PONG'));
    },
    30_000,
  );

  it.skipIf(usingClusterUrls)('stop() frees every port and is idempotent', async () => {
    await cluster.stop();
    await cluster.stop();
    for (const { port } of cluster.rootNodes) expect(await portRefuses(port, 0)).toBe(true);
  });
});

describe.skipIf(usingClusterUrls || process.platform === 'win32')('a spawned cluster', () => {
  it('dies with a test process that is SIGKILLed, so no exit hook runs', async () => {
    const { child, report } = provisionInChild('wait-for-kill', 'cluster');
    const { ports = [] } = await report;
    expect(ports).toHaveLength(6);
    child.kill('SIGKILL');
    for (const port of ports) expect(await portRefuses(port)).toBe(true);
  }, 60_000);
});

describe('where the cluster comes from', () => {
  it('a REDIS_CLUSTER_URLS that is not a redis:// URL is refused clearly', async () => {
    await expect(
      startRedisCluster({ env: { REDIS_CLUSTER_URLS: 'http://127.0.0.1:1', PATH: '' } }),
    ).rejects.toThrow(/REDIS_CLUSTER_URLS must start with redis:\/\//);
  });

  it('without REDIS_CLUSTER_URLS nor a redis-server, says how to get a cluster', async () => {
    const attempt = startRedisCluster({ env: { PATH: '' } });
    await expect(attempt).rejects.toThrow(/REDIS_CLUSTER_URLS=redis:\/\/127\.0\.0\.1:7000/);
    await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
  });
});
