/**
 * Running Redis in Docker through testcontainers: the fallback for machines without a
 * `redis-server` binary. Both testcontainers packages are optional dependencies and are only
 * imported here, on demand, so a missing install or a missing Docker daemon costs nothing until
 * this step is actually reached.
 *
 * Internal to `@lock/test-suite`: reached through `provisionRedis()`.
 */
import type { StartedRedisContainer } from '@testcontainers/redis';
import { findFreePort } from './ports.js';
import { waitForPong } from './readiness.js';
import type { RedisInstance } from './redis-server.js';

const IMAGE = 'redis:7-alpine';
const REDIS_PORT = 6379;
/**
 * testcontainers has no overall deadline for finding a runtime; with a DOCKER_HOST that black-holes
 * packets it could stall, so the whole step gets a budget of its own.
 */
const DOCKER_CHECK_TIMEOUT_MS = 5_000;
const RESTART_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;

/** The two testcontainers modules this step needs. */
export interface TestcontainersModules {
  readonly redis: typeof import('@testcontainers/redis');
  readonly testcontainers: typeof import('testcontainers');
}

/** Loads testcontainers lazily; rejects when the optional dependencies are not installed. */
export async function loadTestcontainers(): Promise<TestcontainersModules> {
  const [redis, testcontainers] = await Promise.all([
    import('@testcontainers/redis'),
    import('testcontainers'),
  ]);
  return { redis, testcontainers };
}

/** Either a running container, or a one-line reason why this step could not provide one. */
export type ContainerAttempt = { readonly instance: RedisInstance } | { readonly unavailable: string };

/**
 * Starts `redis:7-alpine` when testcontainers is installed and Docker answers. Never throws: every
 * failure becomes a reason, so the caller can fall through to its "how to get Redis" error.
 */
export async function tryStartRedisContainer(
  load: () => Promise<TestcontainersModules> = loadTestcontainers,
): Promise<ContainerAttempt> {
  let modules: TestcontainersModules;
  try {
    modules = await load();
  } catch (error) {
    return {
      unavailable: `the testcontainers packages could not be loaded (${errorMessage(error)})`,
    };
  }
  const docker = await checkDocker(modules.testcontainers);
  if (!docker.reachable) return { unavailable: `no reachable Docker daemon (${docker.reason})` };
  try {
    return { instance: await startContainer(modules.redis) };
  } catch (error) {
    return {
      unavailable: `Docker is reachable but starting ${IMAGE} failed (${errorMessage(error)})`,
    };
  }
}

/** Whether testcontainers finds a container runtime, answered within `timeoutMs` either way. */
export type DockerCheck =
  | { readonly reachable: true }
  | { readonly reachable: false; readonly reason: string };

/** Asks testcontainers for a container runtime, giving up after `timeoutMs`. */
export async function checkDocker(
  testcontainers: Pick<TestcontainersModules['testcontainers'], 'getContainerRuntimeClient'>,
  timeoutMs: number = DOCKER_CHECK_TIMEOUT_MS,
): Promise<DockerCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([testcontainers.getContainerRuntimeClient(), timeout]);
    return { reachable: true };
  } catch (error) {
    return { reachable: false, reason: errorMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Publishes Redis on a host port we pick rather than one Docker picks, because Docker may hand out
 * a different random port after a restart and `restart()` promises the same one.
 */
async function startContainer(redis: TestcontainersModules['redis']): Promise<RedisInstance> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      const container = await new redis.RedisContainer(IMAGE)
        .withExposedPorts({ container: REDIS_PORT, host: port })
        .start();
      return new ContainerRedis(container);
    } catch (error) {
      if (!isPortConflict(error) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

function isPortConflict(error: unknown): boolean {
  return /port is already allocated|address already in use/i.test(errorMessage(error));
}

class ContainerRedis implements RedisInstance {
  readonly source = 'testcontainers';
  readonly host: string;
  readonly port: number;
  readonly url: string;
  private stopping: Promise<void> | undefined;

  constructor(private readonly container: StartedRedisContainer) {
    this.host = container.getHost();
    this.port = container.getPort();
    this.url = `redis://${this.host}:${this.port}`;
  }

  async restart(): Promise<void> {
    if (this.stopping) throw new Error(`Cannot restart the Redis at ${this.url}: it was stopped`);
    await this.container.restart();
    const port = this.container.getPort();
    if (port !== this.port) {
      throw new Error(
        `The Redis container came back on port ${port} instead of ${this.port} after a restart`,
      );
    }
    await waitForPong(this, {
      timeoutMs: RESTART_TIMEOUT_MS,
      description: `Redis container ${IMAGE} at ${this.url}`,
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.container.stop().then(() => undefined);
    return this.stopping;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
