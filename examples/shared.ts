/**
 * The small harness every example shares: the context an example runs in, a narrator, an outcome
 * check, key clean-up, and the entry point that lets each file run on its own. Nothing here is
 * part of the @lock API; the examples themselves show that.
 */
import { pathToFileURL } from 'node:url';
import { provisionRedis, type RedisInstance } from '@lock/testing';
import { Redis } from 'ioredis';

/** What `run-all.ts` (or a file run alone) hands to an example. */
export interface ExampleContext {
  /** Where Redis is; every example makes (and closes) its own clients from it. */
  readonly redisUrl: string;
  /** Narrates one line: `[actor] message`. */
  log(actor: string, message: string): void;
}

/** What each example module exports. */
export interface Example {
  readonly title: string;
  /** Every key the example touches starts with it, so examples never see each other's data. */
  readonly keyPrefix: string;
  run(ctx: ExampleContext): Promise<void>;
}

/** A wrong outcome is a failed example, not a line of output someone has to notice. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** No example should take this long; past it, it counts as failed instead of hanging the demo. */
const EXAMPLE_TIMEOUT_MS = 15_000;

/**
 * Runs one example: clean keys, run, clean keys again. Cleaning matters because REDIS_URL may point
 * at a Redis someone else uses: fencing counters never expire, and they are not ours to leave.
 */
export async function runExample(example: Example, redisUrl: string): Promise<number> {
  const started = performance.now();
  const log = (actor: string, message: string) => {
    const elapsed = ((performance.now() - started) / 1000).toFixed(3);
    console.log(`  +${elapsed}s  [${actor}] ${message}`);
  };
  await deleteKeys(redisUrl, example.keyPrefix);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${EXAMPLE_TIMEOUT_MS} ms`)),
        EXAMPLE_TIMEOUT_MS,
      );
    });
    await Promise.race([example.run({ redisUrl, log }), timeout]);
  } finally {
    clearTimeout(timer);
    await deleteKeys(redisUrl, example.keyPrefix);
  }
  return performance.now() - started;
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/**
 * Provisions Redis (REDIS_URL, else a throwaway redis-server, else testcontainers), hands it to
 * `fn`, and stops what it started on every path, Ctrl-C included.
 */
export async function withRedis<T>(fn: (redis: RedisInstance) => Promise<T>): Promise<T> {
  const redis = await provisionRedis();
  const interrupt = (signal: NodeJS.Signals) => {
    void redis.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await ping(redis.url);
    return await fn(redis);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await redis.stop();
  }
}

/**
 * A wrong REDIS_URL should fail in seconds with one clear message, not as every example timing out
 * while its clients keep reconnecting.
 */
async function ping(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis at ${redisUrl} does not answer: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    redis.disconnect();
  }
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(entry).href;
}

/** The entry point of an example file run on its own. */
export async function runAlone(example: Example): Promise<void> {
  try {
    await withRedis(async (redis) => {
      console.log(`${example.title}  (Redis: ${redis.url})`);
      const ms = await runExample(example, redis.url);
      console.log(`  ✓ ok in ${Math.round(ms)} ms`);
    });
  } catch (error) {
    console.error('  ✗ failed:', error);
    process.exitCode = 1;
  }
  warnIfStillRunning();
}

/**
 * Every example closes what it opened, so the process should exit by itself. If a handle leaks,
 * say so and exit instead of hanging; the timer is unref'd, so it never delays a clean exit.
 */
export function warnIfStillRunning(): void {
  setTimeout(() => {
    console.error('The process is still running after the examples finished: something was left open.');
    process.exit(1);
  }, 5_000).unref();
}
