/**
 * Redlock when servers die, stall or restart empty, on both adapters at their DEFAULT client
 * options: no command timeout, offline queue on, so a dead server's commands simply wait. Only
 * @lock's own deadlines (`commandTimeout`, the lock's validity) bound anything, and a quorum is
 * decided without waiting for the servers it does not need.
 *
 * Each test gets its own `redis-server`s (it kills or restarts some of them); an admin connection
 * per server sets up holders and reads what really is on the servers.
 */
import { Socket } from 'node:net';
import {
  type Lock,
  LockAcquireError,
  Locker,
  type LockerOptions,
  LockRedisError,
  RedisCallTimeout,
  type ScriptRunner,
} from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { provisionRedis, type RedisInstance, waitFor } from '@lock/testing';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind } from '../src/clients.js';
import { uniqueName } from '../src/names.js';

const PREFIX = 'outage:';
const OTHER_OWNER = 'another-owner';
/** "Promptly": far below a second, with room for a busy 2-core machine. */
const PROMPT_MS = 400;

/** N servers, a client at default options on each, and admin access. */
interface Deployment {
  readonly servers: readonly RedisInstance[];
  readonly runners: readonly ScriptRunner[];
  admin(index: number, ...args: string[]): Promise<unknown>;
  /** SIGKILL, as a crash would; resolves once the port refuses connections. */
  kill(index: number): Promise<void>;
  close(): Promise<void>;
}

let deployments: Deployment[] = [];

afterEach(async () => {
  await Promise.all(deployments.map((deployment) => deployment.close()));
  deployments = [];
});

async function deploy(kind: ClientKind, n: number): Promise<Deployment> {
  const servers = await Promise.all(Array.from({ length: n }, () => provisionRedis()));
  const admins = servers.map((server) => quiet(new Redis(server.url)));
  const clients = await Promise.all(servers.map((server) => connectDefault(kind, server.url)));
  const deployment: Deployment = {
    servers,
    runners: clients.map((client) => client.runner),
    admin: (index, command, ...args) => (admins[index] as Redis).call(command as string, ...args),
    kill: async (index) => {
      const info = String(await deployment.admin(index, 'INFO', 'server'));
      const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
      (admins[index] as Redis).disconnect();
      process.kill(pid, 'SIGKILL');
      await waitFor(async () => !(await accepts((servers[index] as RedisInstance).port)), 5_000);
    },
    close: async () => {
      await Promise.all(clients.map((client) => client.close()));
      for (const admin of admins) admin.disconnect();
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
  deployments.push(deployment);
  return deployment;
}

function quiet<T extends { on(event: 'error', listener: () => void): unknown }>(client: T): T {
  // Connection errors of a killed server are expected; without a listener they are printed.
  client.on('error', () => {});
  return client;
}

/** A client with the client library's defaults (only an error listener added), and its runner. */
async function connectDefault(kind: ClientKind, url: string) {
  if (kind === 'ioredis') {
    const client = quiet(new Redis(url));
    const runner = createIoredisRunner(client);
    return {
      runner,
      close: async () => {
        await settleWithin(runner.close(), 1_000);
        client.disconnect();
      },
    };
  }
  const client = quiet(createClient({ url }));
  await client.connect();
  const runner = createNodeRedisRunner(client);
  return {
    runner,
    close: async () => {
      await settleWithin(runner.close(), 1_000);
      client.destroy();
    },
  };
}

/** Waits for `promise` at most `ms`: closing a client of a dead server must not hang the suite. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** True when something accepts TCP connections on `port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** Runs `operation` and tells how long it took. */
async function timed<T>(operation: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = performance.now();
  const value = await operation();
  return { value, ms: performance.now() - startedAt };
}

const keyOf = (name: string) => `${PREFIX}{${name}}`;
const holdBy = (deployment: Deployment, index: number, name: string, owner: string) =>
  deployment.admin(
    index,
    'EVAL',
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', 1, 'fence', 0) return redis.call('PEXPIRE', KEYS[1], 10000)",
    '1',
    keyOf(name),
    owner,
  );
/** `calls=` of one command in `INFO commandstats`. */
const callsOf = (commandstats: unknown, command: string) =>
  Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(String(commandstats))?.[1] ?? 0);

/** Renewals confirmed after `since` (monotonic ms), from the Locker's hooks. */
function renewalLog(): { readonly hooks: LockerOptions['hooks']; after(since: number): number } {
  const at: number[] = [];
  return {
    hooks: { onExtended: ({ renewal }) => renewal && at.push(performance.now()) },
    after: (since) => at.filter((time) => time > since).length,
  };
}

describe.each(CLIENT_KINDS)('Redlock outages on %s (default client options)', (kind: ClientKind) => {
  it.each([
    [3, 1],
    [5, 2],
  ])(
    'with %i servers, %i of them killed: acquire, tryAcquire and release settle at once',
    async (n, down) => {
      const deployment = await deploy(kind, n);
      const locker = new Locker(deployment.runners, { prefix: PREFIX });
      // Connected and scripts loaded, as in a running application whose servers then crash.
      await (await locker.acquire(uniqueName('warm'))).release();
      for (let index = 0; index < down; index += 1) await deployment.kill(index);

      const slowest = { acquire: 0, tryAcquire: 0, release: 0 };
      for (let round = 0; round < 5; round += 1) {
        const acquired = await timed(() => locker.acquire(uniqueName('one-down'), { waitTimeout: 1_000 }));
        const tried = await timed(() => locker.tryAcquire(uniqueName('one-down')));
        expect(tried.value).not.toBeNull();
        const released = await timed(async () => {
          expect(await acquired.value.release()).toBe(true);
          expect(await (tried.value as Lock).release()).toBe(true);
        });
        slowest.acquire = Math.max(slowest.acquire, acquired.ms);
        slowest.tryAcquire = Math.max(slowest.tryAcquire, tried.ms);
        slowest.release = Math.max(slowest.release, released.ms);
      }
      expect(slowest.acquire).toBeLessThan(PROMPT_MS);
      expect(slowest.tryAcquire).toBeLessThan(PROMPT_MS);
      expect(slowest.release).toBeLessThan(PROMPT_MS);
    },
  );

  it('with a stalled server (CLIENT PAUSE): tryAcquire settles at once and a renewing hold survives the stall', async () => {
    const deployment = await deploy(kind, 3);
    const renewals = renewalLog();
    const locker = new Locker(deployment.runners, { prefix: PREFIX, hooks: renewals.hooks });
    // ttl 1200: renewal every 400 ms, each server given 500 ms (the default commandTimeout).
    const holder = await locker.acquire(uniqueName('stall-holder'), { ttl: 1_200, autoRenewal: true });
    const pauseMs = 2_500;
    await deployment.admin(0, 'CLIENT', 'PAUSE', String(pauseMs), 'ALL');
    const pausedAt = performance.now();

    const tried = await timed(() => locker.tryAcquire(uniqueName('stall-try')));
    expect(tried.ms).toBeLessThan(PROMPT_MS);
    expect(tried.value).not.toBeNull();
    expect(await (tried.value as Lock).release()).toBe(true);

    // Four renewals while the server is paused: each decided by the two others.
    await waitFor(async () => renewals.after(pausedAt) >= 4, pauseMs);
    expect(performance.now() - pausedAt).toBeLessThan(pauseMs);
    expect(holder.signal.aborted).toBe(false);
    expect(holder.isHeld).toBe(true);
    const released = await timed(() => holder.release());
    expect(released.value).toBe(true);
    expect(released.ms).toBeLessThan(PROMPT_MS);
  });

  it('rolling restart: a server restarts empty, renewal re-takes it, then another server dies: still held', async () => {
    const deployment = await deploy(kind, 3);
    const renewals = renewalLog();
    const locker = new Locker(deployment.runners, { prefix: PREFIX, hooks: renewals.hooks });
    const lock = await locker.acquire(uniqueName('rolling'), { ttl: 1_500, autoRenewal: true });
    const lost: unknown[] = [];
    lock.signal.addEventListener('abort', () => lost.push(lock.signal.reason));

    await (deployment.servers[0] as RedisInstance).restart(); // empty: no persistence
    await waitFor(async () => (await deployment.admin(0, 'HGET', lock.key, 'owner')) === lock.token, 5_000);
    await deployment.kill(1);
    const killedAt = performance.now();

    // Three renewals with server 1 gone: each kept by servers 0 (re-taken) and 2.
    await waitFor(async () => renewals.after(killedAt) >= 3, 5_000);
    expect(lost).toEqual([]);
    expect(lock.isHeld).toBe(true);
    for (const index of [0, 2]) {
      expect(await deployment.admin(index, 'HGET', lock.key, 'owner')).toBe(lock.token);
      expect(Number(await deployment.admin(index, 'PTTL', lock.key))).toBeGreaterThan(0);
    }
    expect(await lock.release()).toBe(true);
  });

  it('a waiter whose attempts take a minority does not spin: attempts bounded by the retry delay, no notification', async () => {
    const deployment = await deploy(kind, 3);
    const locker = new Locker(deployment.runners, { prefix: PREFIX });
    const name = uniqueName('minority');
    // Held elsewhere on servers 1 and 2; server 0 is free, so every attempt takes it and gives it back.
    await holdBy(deployment, 1, name, OTHER_OWNER);
    await holdBy(deployment, 2, name, OTHER_OWNER);
    await deployment.admin(0, 'CONFIG', 'RESETSTAT');

    const waitTimeout = 1_000;
    const error = await locker.acquire(name, { waitTimeout }).catch((caught: unknown) => caught);
    expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_NOT_ACQUIRED');
    const { attempts } = error as LockAcquireError;
    // Default retryDelay 100 ms ± 50 ms: at least 50 ms between attempts, the first one at once.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(Math.floor(waitTimeout / 50) + 2);

    await waitFor(async () => (await deployment.admin(0, 'HGET', keyOf(name), 'owner')) === null, 2_000);
    const stats = await deployment.admin(0, 'INFO', 'commandstats');
    // Server 0 saw one acquire and one give-back per attempt (one EVAL where the script was not
    // cached yet), and the give-backs published nothing that could wake the waiter.
    expect(callsOf(stats, 'publish')).toBe(0);
    expect(callsOf(stats, 'evalsha') + callsOf(stats, 'eval')).toBeLessThanOrEqual(2 * attempts + 2);
  });

  it('with two of three servers killed: fails within commandTimeout with a LockRedisError listing both', async () => {
    const deployment = await deploy(kind, 3);
    // ttl 1500: commandTimeout 500 ms by default.
    const locker = new Locker(deployment.runners, { prefix: PREFIX, ttl: 1_500 });
    await (await locker.acquire(uniqueName('warm'))).release();
    await deployment.kill(0);
    await deployment.kill(1);

    const tried = await timed(() =>
      locker.tryAcquire(uniqueName('two-down')).catch((caught: unknown) => caught),
    );
    const error = tried.value;
    expect(LockRedisError.isInstance(error)).toBe(true);
    const redisError = error as LockRedisError;
    expect(redisError.code).toBe('REDIS_TIMEOUT');
    expect(redisError.failures?.map((failure) => failure.index)).toEqual([0, 1]);
    for (const failure of redisError.failures ?? []) {
      expect(failure.error).toBeInstanceOf(RedisCallTimeout);
      expect(failure.server).toBe(`127.0.0.1:${(deployment.servers[failure.index] as RedisInstance).port}`);
    }
    expect(tried.ms).toBeLessThan(500 + PROMPT_MS);

    // Waiting retries within its budget, then ends with the last failure.
    const waited = await timed(() =>
      locker.acquire(uniqueName('two-down'), { waitTimeout: 600 }).catch((caught: unknown) => caught),
    );
    expect(LockRedisError.isInstance(waited.value)).toBe(true);
    expect(waited.ms).toBeLessThan(600 + 200 + PROMPT_MS);
  });
});
