import { Locker } from '@lock/core';
import { type RedisCluster, startRedisCluster, waitFor } from '@lock/test-suite';
import { GlideClusterClient } from '@valkey/valkey-glide';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGlideRunner, type GlideRunner } from '../src/index.js';

// The cluster conformance suite runs with a standalone subscriber on one node, whose one
// connection hears every release; this is the other set-up the README offers, a cluster client as
// the subscriber, which GLIDE spreads over the primaries (each channel on its slot's primary).
describe('valkey-glide: a GlideClusterClient as the subscriber', () => {
  let cluster: RedisCluster;
  let client: GlideClusterClient;
  let runner: GlideRunner;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const { hostname, port } = new URL(cluster.url);
    const config = { addresses: [{ host: hostname, port: Number(port) }], requestTimeout: 10_000 };
    client = await GlideClusterClient.createClient(config);
    runner = createGlideRunner(client, { subscriber: () => GlideClusterClient.createClient(config) });
  }, 60_000);

  afterAll(async () => {
    await runner?.close();
    client?.close();
    await cluster?.stop();
  });

  /** Channels subscribed over the whole cluster, and connections that are or were subscribers. */
  const subscriptions = async () => {
    const lines = (await cluster.onEveryNode(['CLIENT', 'LIST'])).join('\n').split('\n');
    const channels = lines.reduce((sum, line) => sum + Number(/\bsub=(\d+)/.exec(line)?.[1] ?? 0), 0);
    const connections = lines.filter((line) => /\bsub=[1-9]|cmd=(un)?subscribe\b/.test(line)).length;
    return { channels, connections };
  };

  it('wakes a waiter on every primary at once on release, and closes all it opened on close()', async () => {
    const locker = new Locker(runner, { prefix: 'glide:', retryDelay: 5_000, retryJitter: 0, retryCount: 3 });
    const primaries = new Map<string, string>();
    for (let i = 0; primaries.size < cluster.nodes.filter((node) => node.role === 'primary').length; i += 1) {
      const name = `handoff-${process.pid}-${i}`;
      primaries.set((await cluster.primaryFor(locker.createLock(name).key)).id, name);
    }
    const names = [...primaries.values()];
    const holders = await Promise.all(names.map((name) => locker.acquire(name)));
    const waiters = names.map((name) => locker.acquire(name));
    // One wake channel serves every waiter of the Locker.
    await waitFor(async () => (await subscriptions()).channels === 1, 5_000);

    const releasedAt = performance.now();
    await Promise.all(holders.map((holder) => holder.release()));
    const handedOff = await Promise.all(waiters);
    // Far below the 5 s retryDelay: each waiter was woken by its release.
    expect(performance.now() - releasedAt).toBeLessThan(2_000);
    await Promise.all(handedOff.map((lock) => lock.release()));

    await runner.close();
    // Well before the 1 s idle timeout could have closed them.
    await waitFor(async () => (await subscriptions()).connections === 0, 500);
  });
});
