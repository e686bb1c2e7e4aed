/**
 * The Redis servers of a run, provisioned like the tests do (`provisionRedis`: REDIS_URL, else
 * a throwaway redis-server on a free loopback port, else a container): one main server with the
 * counting proxy in front of it, and three independent servers for the quorum scenario. With
 * REDIS_URL set, the quorum scenario uses databases 1–3 of that server, and nothing is flushed.
 */
import { provisionRedis, type RedisInstance } from '@lock/testing';
import { Redis } from 'ioredis';
import { QUORUM } from './config.js';
import type { RedisTargets } from './jobs.js';
import { type CountingProxy, startCountingProxy } from './wire/counting-proxy.js';

export interface BenchServers {
  readonly targets: RedisTargets;
  readonly source: RedisInstance['source'];
  readonly proxy: CountingProxy;
  /** `INFO server` of the main server. */
  serverInfo(): Promise<string>;
  /** Empties the servers between jobs, when they are ours. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServers(): Promise<BenchServers> {
  const main = await provisionRedis();
  const external = main.source === 'REDIS_URL';
  const quorum = external
    ? []
    : await Promise.all(Array.from({ length: QUORUM.servers }, () => provisionRedis()));
  const quorumUrls = external
    ? Array.from({ length: QUORUM.servers }, (_, i) => withDatabase(main.url, i + 1))
    : quorum.map((server) => server.url);
  const proxy = await startCountingProxy({ host: main.host, port: main.port });
  const admins = [main.url, ...quorumUrls].map((url) => new Redis(url, { lazyConnect: true }));
  await Promise.all(admins.map((admin) => admin.connect()));

  return {
    targets: { url: main.url, countingUrl: withAddress(main.url, proxy.url), quorumUrls },
    source: main.source,
    proxy,
    serverInfo: async () => String(await admins[0]?.info('server')),
    reset: async () => {
      if (!external) await Promise.all(admins.map((admin) => admin.flushall()));
    },
    stop: async () => {
      await Promise.all(admins.map((admin) => admin.quit().catch(() => admin.disconnect())));
      await proxy.close();
      await Promise.all([main, ...quorum].map((server) => server.stop()));
    },
  };
}

/** `url` with its database number replaced. */
function withDatabase(url: string, database: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** `url` (credentials, database) pointed at the host and port of `address`. */
function withAddress(url: string, address: string): string {
  const parsed = new URL(url);
  const target = new URL(address);
  parsed.hostname = target.hostname;
  parsed.port = target.port;
  return parsed.toString();
}
