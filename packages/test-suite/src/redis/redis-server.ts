/**
 * Getting a Redis for integration tests, without ever touching a Redis nobody asked us to use.
 *
 * @packageDocumentation
 */
import { findRedisServerBinary, startRedisServer } from './redis-binary.js';
import { loadTestcontainers, type TestcontainersModules, tryStartRedisContainer } from './redis-container.js';

export type { TestcontainersModules } from './redis-container.js';

/** A Redis server the tests can use, and the means to stop or bounce it. */
export interface RedisInstance {
  /** `redis://host:port` (for `REDIS_URL`, the URL exactly as given, credentials included). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Where this Redis came from. */
  readonly source: 'REDIS_URL' | 'redis-server' | 'testcontainers';
  /** Stops what we started; a no-op for `REDIS_URL`. Idempotent. */
  stop(): Promise<void>;
  /**
   * Restarts the server on the same port, losing all data. Resolves once it accepts connections
   * again. Only for servers we started: throws for `REDIS_URL`.
   */
  restart(): Promise<void>;
}

/** Seams for tests of the harness itself; real callers pass nothing. */
export interface ProvisionRedisOptions {
  /** Where `REDIS_URL`, `REDIS_SERVER_BIN` and `PATH` are read from. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Loads the testcontainers packages. Defaults to a dynamic import of the optional dependencies. */
  readonly loadTestcontainers?: () => Promise<TestcontainersModules>;
}

/**
 * Provides a Redis for tests, trying in order:
 * 1. `REDIS_URL`, used as is;
 * 2. a `redis-server` binary (`REDIS_SERVER_BIN`, else PATH), spawned on a free loopback port;
 * 3. a `redis:7-alpine` container via testcontainers, when Docker is reachable.
 *
 * Never falls back to a Redis already listening on 6379: that is usually someone's real data.
 *
 * @throws Error explaining how to make a Redis available, when all three fail.
 */
export async function provisionRedis(options: ProvisionRedisOptions = {}): Promise<RedisInstance> {
  const env = options.env ?? process.env;
  const redisUrl = env.REDIS_URL;
  if (redisUrl) return externalRedis(redisUrl);

  const binary = findRedisServerBinary(env);
  if (binary) return startRedisServer(binary);

  const container = await tryStartRedisContainer(options.loadTestcontainers ?? loadTestcontainers);
  if ('instance' in container) return container.instance;

  throw new Error(
    noRedisMessage([
      'REDIS_URL: not set',
      `redis-server: not found on PATH${env.PATH ? '' : ' (PATH is empty)'}`,
      `testcontainers: ${container.unavailable}`,
    ]),
  );
}

/** Wraps a server given through `REDIS_URL`, which we neither own nor may disturb. */
function externalRedis(rawUrl: string): RedisInstance {
  const { host, port } = parseRedisUrl(rawUrl);
  return {
    url: rawUrl,
    host,
    port,
    source: 'REDIS_URL',
    stop: async () => {},
    restart: async () => {
      throw new Error(
        'restart() is not available for a Redis given through REDIS_URL: the tests do not own that server. ' +
          'Unset REDIS_URL to let the harness start its own redis-server.',
      );
    },
  };
}

/**
 * Parses a `redis://` or `rediss://` URL into host and port; `variable` names where it came from
 * in the error messages.
 */
export function parseRedisUrl(rawUrl: string, variable = 'REDIS_URL'): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new Error(`${variable} is not a valid URL; expected something like redis://127.0.0.1:6379`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`${variable} must start with redis:// or rediss://, not ${url.protocol}//`);
  }
  // WHATWG URL keeps the brackets around IPv6 hosts; net.connect wants them gone.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`${variable} has no host; expected something like redis://127.0.0.1:6379`);
  return { host, port: url.port ? Number(url.port) : 6379 };
}

function noRedisMessage(attempts: readonly string[]): string {
  return [
    'No Redis server is available for the tests. Any one of these fixes it:',
    '  1. Point the tests at a Redis you run, e.g. REDIS_URL=redis://127.0.0.1:6379 pnpm test',
    '  2. Install redis-server, so each test run starts its own throwaway instance:',
    '       apt-get install redis-server   (Debian/Ubuntu)',
    '       brew install redis             (macOS)',
    '     or set REDIS_SERVER_BIN=/path/to/redis-server',
    '  3. Start a Docker daemon, so testcontainers can run redis:7-alpine',
    'What was tried:',
    ...attempts.map((attempt) => `  - ${attempt}`),
  ].join('\n');
}
