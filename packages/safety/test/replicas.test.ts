/**
 * Waiting for replicas. A primary and one replica (`REPLICAOF`), both real `redis-server`s;
 * the `replicas: { count, timeout }` lock option sends WAIT after acquire and extend, on both
 * adapters. Under-acknowledged cases: asking for more replicas than there are, and a replica that
 * is detached (`REPLICAOF NO ONE`) while the lock is taken or renewed.
 */
import { Locker, type LockLostError, LockOptionError, LockRedisError, type ScriptRunner } from '@lock/core';
import { type ConnectedClient, provisionRedis, type RedisInstance, waitFor } from '@lock/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { measureTimerLag } from '../src/deadlines.js';
import { uniqueName } from '../src/names.js';

let primary: RedisInstance;
let replica: RedisInstance;
let primaryAdmin: ConnectedClient;
let replicaAdmin: ConnectedClient;

const info = async (client: ConnectedClient) => String(await client.command(['INFO', 'replication']));

async function attachReplica(): Promise<void> {
  await replicaAdmin.command(['REPLICAOF', primary.host, String(primary.port)]);
  await waitFor(async () => (await info(replicaAdmin)).includes('master_link_status:up'), 10_000);
  await waitFor(async () => /slave0:.*state=online/.test(await info(primaryAdmin)), 10_000);
  // Ready when a write is acknowledged again.
  await waitFor(async () => {
    await primaryAdmin.command(['SET', 'replicas:probe', String(Math.random())]);
    return Number(await primaryAdmin.command(['WAIT', '1', '200'])) === 1;
  }, 10_000);
}

/** Detaches the replica; resolves the time at which it had stopped replicating. */
async function detachReplica(): Promise<number> {
  await replicaAdmin.command(['REPLICAOF', 'NO', 'ONE']);
  const detachedAt = performance.now();
  await waitFor(async () => (await info(primaryAdmin)).includes('connected_slaves:0'), 5_000);
  return detachedAt;
}

beforeAll(async () => {
  [primary, replica] = await Promise.all([provisionRedis(), provisionRedis()]);
  [primaryAdmin, replicaAdmin] = await Promise.all([
    connectClient('ioredis', primary.url),
    connectClient('ioredis', replica.url),
  ]);
  // Re-attaching after a test must not wait the default 5 s before the full sync.
  await primaryAdmin.command(['CONFIG', 'SET', 'repl-diskless-sync-delay', '0']);
  await attachReplica();
});

afterAll(async () => {
  await Promise.all([primaryAdmin?.close(), replicaAdmin?.close()]);
  await Promise.all([primary?.stop(), replica?.stop()]);
});

describe.each(CLIENT_KINDS)('waiting for replicas on %s', (kind: ClientKind) => {
  let client: ConnectedClient;
  let locker: Locker;

  beforeAll(async () => {
    client = await connectClient(kind, primary.url);
    locker = new Locker(client.runner, { prefix: 'replicas:' });
  });

  afterAll(async () => {
    await client?.close();
  });

  afterEach(async () => {
    if (!(await info(replicaAdmin)).includes('master_link_status:up')) await attachReplica();
  });

  it('the adapter can wait for replicas', () => {
    expect(typeof (client.runner as { waitForReplicas?: unknown }).waitForReplicas).toBe('function');
  });

  it('acquires once the replica acknowledged: the lock is on the replica when acquire resolves', async () => {
    const lock = await locker.acquire(uniqueName('acked'), { replicas: { count: 1, timeout: 2_000 } });
    expect(await replicaAdmin.command(['HGET', lock.key, 'owner'])).toBe(lock.token);
    expect(await lock.extend(5_000)).toBe(true);
    expect(Number(await replicaAdmin.command(['PTTL', lock.key]))).toBeGreaterThan(30_000);
    expect(await lock.release()).toBe(true);
  });

  it('more replicas asked for than there are: not acquired after the timeout, and released', async () => {
    const name = uniqueName('too-many');
    const startedAt = performance.now();
    const lock = await locker.tryAcquire(name, { replicas: { count: 2, timeout: 100 } });
    expect(lock).toBeNull();
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(95);
    expect(await primaryAdmin.command(['EXISTS', `replicas:{${name}}`])).toBe(0);
    const error = await locker
      .acquire(name, { replicas: { count: 2, timeout: 50 } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LOCK_NOT_ACQUIRED' });
  });

  it('a detached replica: the acquire is not acknowledged, released, and not acquired', async () => {
    await detachReplica();
    const name = uniqueName('detached');
    expect(await locker.tryAcquire(name, { replicas: { count: 1, timeout: 100 } })).toBeNull();
    expect(await primaryAdmin.command(['EXISTS', `replicas:{${name}}`])).toBe(0);
    // Without the option the same lock is taken at once: only acknowledgement was missing.
    const plain = await locker.acquire(name);
    await plain.release();
  });

  it('an under-acknowledged extend rejects (LockRedisError) and the lock stays held on its old deadline', async () => {
    const lock = await locker.acquire(uniqueName('extend'), {
      ttl: 5_000,
      replicas: { count: 1, timeout: 100 },
    });
    await detachReplica();
    const error = await lock.extend(5_000).catch((caught: unknown) => caught);
    expect(LockRedisError.isInstance(error) && error.script).toBe('wait');
    expect((error as Error).message).toContain('only 0 of 1 replicas acknowledged');
    expect(lock.isHeld).toBe(true);
    expect(await lock.release()).toBe(true);
  });

  it('renewals that replicas stop acknowledging lose the lock as unreachable, before its ttl', async () => {
    const ttl = 600;
    const lock = await locker.acquire(uniqueName('renew'), {
      ttl,
      autoRenewal: true,
      renewalInterval: 150,
      replicas: { count: 1, timeout: 50 },
    });
    const lost = new Promise<{ reason: LockLostError; at: number }>((resolve) =>
      lock.signal.addEventListener('abort', () =>
        resolve({ reason: lock.signal.reason as LockLostError, at: performance.now() }),
      ),
    );
    const lag = measureTimerLag();
    // Any renewal the replica acknowledged was sent before it detached.
    const detachedAt = await detachReplica();
    const { reason, at } = await lost;
    expect(reason.reason).toBe('unreachable');
    expect(at - detachedAt).toBeLessThan(ttl + lag.stop());
    await lock.release();
  });

  it('the option is checked: bad values, Redlock, and runners that cannot wait', () => {
    expect(() => locker.createLock('x', { replicas: { count: 0, timeout: 100 } })).toThrow(LockOptionError);
    expect(() => locker.createLock('x', { replicas: { count: 1, timeout: 0 } })).toThrow(LockOptionError);
    expect(() => locker.createLock('x', { replicas: { count: 1, timeout: 10, extra: 1 } as never })).toThrow(
      LockOptionError,
    );
    const bare: ScriptRunner = { run: client.runner.run };
    expect(() => new Locker(bare).createLock('x', { replicas: { count: 1, timeout: 10 } })).toThrow(
      LockOptionError,
    );
    const others: ScriptRunner[] = [{ run: client.runner.run }, { run: client.runner.run }];
    expect(() =>
      new Locker([client.runner, ...others]).createLock('x', { replicas: { count: 1, timeout: 10 } }),
    ).toThrow(LockOptionError);
  });
});
