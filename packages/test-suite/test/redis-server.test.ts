import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionRedis, type RedisInstance } from '../src/index.js';
import { checkDocker, loadTestcontainers } from '../src/redis/redis-container.js';
import { sendCommand } from '../src/redis/resp.js';
import { portRefuses, provisionInChild } from './helpers.js';

const usingRedisUrl = Boolean(process.env.REDIS_URL);
const unavailableTestcontainers = () => Promise.reject(new Error("Cannot find package 'testcontainers'"));

describe('provisionRedis()', () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await provisionRedis();
  }, 120_000);
  afterAll(() => redis?.stop());

  it('provides a Redis that answers PING on a raw socket', async () => {
    expect(redis.url).toMatch(/^rediss?:\/\//);
    await expect(sendCommand(redis, ['PING'])).resolves.toBe('PONG');
  });

  it.skipIf(usingRedisUrl)('keeps away from the default port 6379', () => {
    expect(redis.source).not.toBe('REDIS_URL');
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://${redis.host}:${redis.port}`);
  });

  it.skipIf(usingRedisUrl)(
    'restart() comes back on the same port, with the data gone',
    async () => {
      const portBefore = redis.port;
      await sendCommand(redis, ['SET', 'restart-probe', '1']);

      await redis.restart();

      expect(redis.port).toBe(portBefore);
      await expect(sendCommand(redis, ['PING'])).resolves.toBe('PONG');
      await expect(sendCommand(redis, ['EXISTS', 'restart-probe'])).resolves.toBe('0');
    },
    30_000,
  );
});

describe.skipIf(usingRedisUrl)('stop()', () => {
  it('frees the port, is idempotent, and forbids a later restart()', async () => {
    const redis = await provisionRedis();
    await expect(sendCommand(redis, ['PING'])).resolves.toBe('PONG');

    await redis.stop();
    await redis.stop();

    expect(await portRefuses(redis.port, 0)).toBe(true);
    await expect(redis.restart()).rejects.toThrow(/stopped/);
  }, 120_000);
});

describe.skipIf(usingRedisUrl || process.platform === 'win32')('a spawned redis-server', () => {
  it('dies when the test process exits without calling stop()', async () => {
    const { child, report } = provisionInChild('exit');
    const { port, source } = await report;
    expect(source).toBe('redis-server');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await portRefuses(port)).toBe(true);
  }, 30_000);

  it('dies when the test process is SIGKILLed, so no exit hook runs', async () => {
    const { child, report } = provisionInChild('wait-for-kill');
    const { port } = await report;
    await expect(sendCommand({ host: '127.0.0.1', port }, ['PING'])).resolves.toBe('PONG');
    child.kill('SIGKILL');
    expect(await portRefuses(port)).toBe(true);
  }, 30_000);
});

describe('when no Redis can be found', () => {
  it('says how to get one, mentioning REDIS_URL, redis-server and Docker', async () => {
    const attempt = provisionRedis({
      env: { PATH: '' },
      loadTestcontainers: unavailableTestcontainers,
    });

    await expect(attempt).rejects.toThrow(/REDIS_URL=redis:\/\/127\.0\.0\.1:6379/);
    await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
    await expect(attempt).rejects.toThrow(/brew install redis/);
    await expect(attempt).rejects.toThrow(/Docker/);
  });

  it('falls through testcontainers within seconds when Docker is not running', async () => {
    const startedAt = Date.now();
    let redis: RedisInstance | undefined;
    try {
      redis = await provisionRedis({ env: { PATH: '' } });
      // Docker is available on this machine: the container path must then work end to end.
      expect(redis.source).toBe('testcontainers');
      await expect(sendCommand(redis, ['PING'])).resolves.toBe('PONG');
    } catch (error) {
      expect(String(error)).toMatch(/REDIS_URL/);
      // The Docker check gives up after 5 s; loading testcontainers on a busy machine adds more.
      // Far below the minutes a default Docker timeout would take.
      expect(Date.now() - startedAt).toBeLessThan(15_000);
    } finally {
      await redis?.stop();
    }
  }, 180_000);

  it('gives up on a Docker runtime check that hangs', async () => {
    const hanging = {
      getContainerRuntimeClient: () => new Promise<never>(() => {}),
    };
    await expect(checkDocker(hanging, 100)).resolves.toEqual({
      reachable: false,
      reason: 'no answer within 100 ms',
    });
  });

  it('answers the real Docker check within its budget', async () => {
    const { testcontainers } = await loadTestcontainers();
    const startedAt = Date.now();
    await checkDocker(testcontainers);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  }, 20_000);
});

describe('REDIS_URL', () => {
  // Provisioning from REDIS_URL does not connect, so pointing at 6379 here disturbs nothing.
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', PATH: '' };

  it('is used as is, before any other source', async () => {
    const redis = await provisionRedis({
      env,
      loadTestcontainers: unavailableTestcontainers,
    });
    expect(redis).toMatchObject({
      source: 'REDIS_URL',
      url: env.REDIS_URL,
      host: '127.0.0.1',
      port: 6379,
    });
  });

  it('cannot be restarted, and stopping it is a no-op', async () => {
    const redis = await provisionRedis({ env });
    await expect(redis.stop()).resolves.toBeUndefined();
    await expect(redis.restart()).rejects.toThrow(/REDIS_URL/);
  });

  it('defaults the port to 6379 and unwraps IPv6 hosts', async () => {
    const redis = await provisionRedis({ env: { REDIS_URL: 'redis://[::1]' } });
    expect(redis).toMatchObject({ host: '::1', port: 6379 });
  });

  it('rejects a non-redis URL', async () => {
    await expect(provisionRedis({ env: { REDIS_URL: 'http://localhost:6379' } })).rejects.toThrow(
      /redis:\/\//,
    );
  });
});

describe('REDIS_SERVER_BIN', () => {
  it('is reported clearly when it does not point to an executable', async () => {
    const attempt = provisionRedis({
      env: { REDIS_SERVER_BIN: '/nonexistent/redis-server' },
    });
    await expect(attempt).rejects.toThrow(/REDIS_SERVER_BIN=\/nonexistent\/redis-server/);
  });
});
