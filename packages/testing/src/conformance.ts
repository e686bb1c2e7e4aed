/**
 * The adapter conformance suite: one set of behavioural tests, written once, that every adapter
 * package runs unchanged against a real Redis. Passing it is what "swap clients by changing one
 * line" means.
 *
 * Timing tests use short ttls with generous margins so they hold on a loaded 2-core machine.
 */
import {
  type Lock,
  LockAcquireError,
  LockError,
  Locker,
  type LockerOptions,
  LockLostError,
  LockMisuseError,
  LockOptionError,
  LockRedisError,
  type ScriptRunner,
} from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import { ALL_SCRIPTS, lockKey } from '@lock/core/internal';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from './redis-cluster.js';
import { provisionRedis, type RedisInstance } from './redis-server.js';

/** An adapter's runner: the port, release notifications, and `close()` for what it opened. */
export interface AdapterRunner extends ScriptRunner, ReleaseNotifier {
  close(): Promise<void>;
}

/** One connected client of the adapter under test. */
export interface ConnectedClient {
  /** The adapter's runner over this client. */
  readonly runner: AdapterRunner;
  /** Sends a raw command through the same client (for setup and assertions). */
  command(args: readonly string[]): Promise<unknown>;
  /** Closes the client (the suite owns the clients it connects). */
  close(): Promise<void>;
}

/** How the suite gets clients of the adapter under test. */
export interface AdapterUnderTest {
  /** Shown in test names, e.g. `ioredis`. */
  readonly name: string;
  /** Connects a new client to `url` and wraps it with the adapter. */
  connect(url: string): Promise<ConnectedClient>;
  /**
   * Runs the suite on a Redis Cluster (`startRedisCluster()`) instead of one server: `connect` is
   * given the URL of one node and returns a cluster client, whose `command` routes by key. The
   * server-wide checks (command statistics, SCRIPT FLUSH, CLIENT PAUSE, CLIENT LIST) then go to
   * the nodes themselves, and cluster-only tests run (B5).
   */
  readonly cluster?: boolean;
}

/** A runner that records every script it runs, to prove what was (or was not) sent. */
export interface RecordingRunner extends ScriptRunner {
  readonly calls: string[];
  /** Called after each script settles, with its name. */
  onSettled?: (scriptName: string) => void;
}

export function recordingRunner(inner: ScriptRunner): RecordingRunner {
  const recorder: RecordingRunner = {
    calls: [],
    async run(script, keys, args) {
      recorder.calls.push(script.name);
      try {
        return await inner.run(script, keys, args);
      } finally {
        recorder.onSettled?.(script.name);
      }
    },
  };
  return recorder;
}

/**
 * A {@link recordingRunner} that keeps the inner runner's release notifications, for tests that
 * count the attempts of waiters woken by a release (`recordingRunner` alone makes waiters poll).
 */
export function recordingNotifyingRunner(inner: AdapterRunner): RecordingRunner & ReleaseNotifier {
  return Object.assign(recordingRunner(inner), { subscribe: inner.subscribe.bind(inner) });
}

/** Resolves after `ms`: only where elapsed time itself is what a test is about. */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every `pollMs` until it holds, failing after `timeout` ms; for states no event
 * reports.
 */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeout: number,
  pollMs = 25,
): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await elapse(pollMs);
  }
}

/**
 * Resolves with the reason once `signal` aborts, also if it already has: a lock can be lost while
 * a test is still setting up its fault.
 */
export function whenAborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** Parses `INFO commandstats` into calls per command. */
export function parseCommandStats(info: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls[match[1] as string] = Number(match[2]);
  }
  return calls;
}

/** Where the suite runs: one Redis, or a cluster whose nodes it can also address one by one. */
interface SuiteTarget {
  readonly url: string;
  /** The cluster, when the suite runs on one. */
  readonly cluster: RedisCluster | undefined;
  /** Sends `args` to every primary (a single server is its own only primary). */
  everyPrimary(args: readonly string[]): Promise<unknown[]>;
  /** Sends `args` to every node, primaries and replicas. */
  everyNode(args: readonly string[]): Promise<unknown[]>;
  /** Identifies the primary that serves `key`. */
  primaryOf(key: string): Promise<string>;
  /** Sends `args` to the primary that serves `key`. */
  onPrimaryOf(key: string, args: readonly string[]): Promise<unknown>;
  stop(): Promise<void>;
}

/** One server: everything goes through the client under test, as `send`. */
function singleServerTarget(
  redis: RedisInstance,
  send: (args: readonly string[]) => Promise<unknown>,
): SuiteTarget {
  return {
    url: redis.url,
    cluster: undefined,
    everyPrimary: async (args) => [await send(args)],
    everyNode: async (args) => [await send(args)],
    primaryOf: async () => redis.url,
    onPrimaryOf: (_key, args) => send(args),
    stop: () => redis.stop(),
  };
}

/** A cluster: server-wide commands go to the nodes directly, by the harness's own connections. */
function clusterTarget(cluster: RedisCluster): SuiteTarget {
  return {
    url: cluster.url,
    cluster,
    everyPrimary: (args) => cluster.onEveryPrimary(args),
    everyNode: (args) => cluster.onEveryNode(args),
    primaryOf: async (key) => (await cluster.primaryFor(key)).id,
    onPrimaryOf: async (key, args) => cluster.command(await cluster.primaryFor(key), args),
    stop: () => cluster.stop(),
  };
}

/** Adds up per-node command statistics. */
function sumCommandStats(perNode: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const stats of perNode) {
    for (const [name, calls] of Object.entries(stats)) total[name] = (total[name] ?? 0) + calls;
  }
  return total;
}

let nameCounter = 0;
/** A lock name no other test uses. */
export function uniqueName(label: string): string {
  nameCounter += 1;
  return `${label}-${process.pid}-${nameCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Registers the whole conformance suite for `adapter`. Call it at the top level of a test file;
 * it provisions its own Redis for that file.
 */
export function runConformanceSuite(adapter: AdapterUnderTest): void {
  describe(`conformance: ${adapter.name}`, () => {
    let target: SuiteTarget;
    let client: ConnectedClient;
    const extraClients: ConnectedClient[] = [];

    const command = (...args: string[]) => client.command(args);
    const newLocker = (options: LockerOptions = {}, runner: ScriptRunner = client.runner) =>
      new Locker(runner, { prefix: 'conformance:', ...options });
    const statsPerPrimary = async () =>
      (await target.everyPrimary(['INFO', 'commandstats'])).map((info) => parseCommandStats(String(info)));
    const commandStats = async () => sumCommandStats(await statsPerPrimary());
    /** One lock name per primary (one name for a single server), so a test reaches every node. */
    const namesOnEveryPrimary = async (label: string) => {
      const primaries = (await target.everyPrimary(['PING'])).length;
      const names = new Map<string, string>();
      while (names.size < primaries) {
        const name = uniqueName(label);
        const primary = await target.primaryOf(newLocker().createLock(name).key);
        if (!names.has(primary)) names.set(primary, name);
      }
      return [...names.values()];
    };

    beforeAll(async () => {
      target = adapter.cluster
        ? clusterTarget(await startRedisCluster())
        : singleServerTarget(await provisionRedis(), (args) => client.command(args));
      client = await adapter.connect(target.url);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(extraClients.map((extra) => extra.close()));
      await client?.close();
      await target?.stop();
    });

    describe('scripts (D1)', () => {
      it('every script SHA-1 written in core matches SCRIPT LOAD on a real server', async () => {
        for (const script of ALL_SCRIPTS) {
          expect(await command('SCRIPT', 'LOAD', script.source), script.name).toBe(script.sha1);
        }
      });

      it('recovers from SCRIPT FLUSH with one EVAL per script, then goes back to EVALSHA (D2)', async () => {
        const locker = newLocker();
        const names = await namesOnEveryPrimary('flush');
        for (const name of names) await (await locker.acquire(name)).release();
        await target.everyPrimary(['SCRIPT', 'FLUSH']);
        await target.everyPrimary(['CONFIG', 'RESETSTAT']);

        for (const name of names) {
          for (let round = 0; round < 3; round += 1) {
            const lock = await locker.acquire(name);
            expect(await lock.extend(1_000)).toBe(true);
            expect(await lock.release()).toBe(true);
          }
        }
        // On each (flushed) primary, round 1's acquire, extend and release each hit NOSCRIPT once
        // and fall back to EVAL; on a cluster that happens per node, as each node is reached.
        const perPrimary = await statsPerPrimary();
        expect(perPrimary).toHaveLength(names.length);
        for (const stats of perPrimary) expect(stats).toMatchObject({ eval: 3, evalsha: 9 });
      });

      it('sends exactly one EVALSHA per acquire, extend and release in the steady state (P1)', async () => {
        const locker = newLocker();
        for (const name of await namesOnEveryPrimary('steady')) {
          const warmUp = await locker.acquire(name);
          await warmUp.extend(100);
          await warmUp.release();
        }
        await target.everyPrimary(['CONFIG', 'RESETSTAT']);

        const rounds = 10;
        for (let round = 0; round < rounds; round += 1) {
          const lock = await locker.acquire(uniqueName('steady'));
          await lock.extend(1_000);
          await lock.release();
        }
        const stats = await commandStats();
        delete stats.info;
        delete stats['config|resetstat'];
        // On a cluster, the harness (and a client refreshing its slot map) asks nodes for the
        // topology, and each replica acknowledges its primary's stream (REPLCONF ACK) once a second.
        delete stats.replconf;
        for (const name of Object.keys(stats)) if (name.startsWith('cluster|')) delete stats[name];
        // Redis counts the commands a script runs too: these are exactly the scripts' own calls
        // (acquire: HMGET INCR HSET PEXPIRE; extend: HGET PTTL PEXPIRE; release: HGET DEL PUBLISH).
        // Anything a client sent besides EVALSHA would show up as an extra entry or count.
        expect(stats).toEqual({
          evalsha: rounds * 3,
          hmget: rounds,
          incr: rounds,
          hset: rounds,
          pexpire: rounds * 2,
          hget: rounds * 2,
          pttl: rounds,
          del: rounds,
          publish: rounds,
        });
      });
    });

    describe('ownership (S1) and expiry (S2)', () => {
      it('only the owner can release: another handle gets false and deletes nothing', async () => {
        const locker = newLocker();
        const name = uniqueName('owner');
        const holder = await locker.acquire(name);
        const stranger = locker.createLock(name);

        expect(await stranger.release()).toBe(false);
        expect(await holder.isLockedByMe()).toBe(true);
        expect(await stranger.extend(10_000)).toBe(false);
        expect(await holder.release()).toBe(true);
        expect(await command('EXISTS', holder.key)).toBe(0);
      });

      it('gives every handle its own token', () => {
        const locker = newLocker();
        const tokens = new Set(Array.from({ length: 100 }, () => locker.createLock('same').token));
        expect(tokens.size).toBe(100);
      });

      it('sets the value and the expiry in one step: the key never lives without a ttl', async () => {
        const lock = await newLocker({ ttl: 5_000 }).acquire(uniqueName('atomic'));
        const pttl = Number(await command('PTTL', lock.key));
        expect(pttl).toBeGreaterThan(4_000);
        expect(pttl).toBeLessThanOrEqual(5_000);
        await lock.release();
      });

      it('frees the lock after its ttl when the holder never releases', async () => {
        const locker = newLocker({ ttl: 200 });
        const name = uniqueName('expiry');
        await locker.acquire(name);
        expect(await locker.tryAcquire(name)).toBeNull();
        await elapse(400);
        const next = await locker.tryAcquire(name);
        expect(next).not.toBeNull();
        await next?.release();
      });

      it('uses the configured prefix and a {hash tag} around the name', async () => {
        const lock = await newLocker({ prefix: 'myapp:locks:' }).acquire('report');
        expect(lock.key).toBe('myapp:locks:{report}');
        expect(await command('EXISTS', 'myapp:locks:{report}')).toBe(1);
        await lock.release();
      });
    });

    describe('retries and waiting (S3)', () => {
      it('retries until the holder releases', async () => {
        const locker = newLocker({ retryCount: 50, retryDelay: 20 });
        const name = uniqueName('retry');
        const holder = await locker.acquire(name);
        setTimeout(() => void holder.release(), 100);
        const waiter = await locker.acquire(name);
        expect(await waiter.isLockedByMe()).toBe(true);
        await waiter.release();
      });

      it('makes exactly 1 + retryCount attempts, then fails with LOCK_NOT_ACQUIRED', async () => {
        const name = uniqueName('exhaust');
        const holder = await newLocker().acquire(name);
        const recorder = recordingRunner(client.runner);
        const error = await newLocker({ retryCount: 3, retryDelay: 10 }, recorder)
          .acquire(name)
          .catch((caught: unknown) => caught);
        expect(LockAcquireError.isInstance(error)).toBe(true);
        expect((error as LockAcquireError).code).toBe('LOCK_NOT_ACQUIRED');
        expect((error as LockAcquireError).attempts).toBe(4);
        expect(recorder.calls).toEqual(['acquire', 'acquire', 'acquire', 'acquire']);
        await holder.release();
      });

      it('honours the overall wait budget (waitTimeout) with unlimited retries', async () => {
        const name = uniqueName('budget');
        const holder = await newLocker().acquire(name);
        const started = performance.now();
        const error = await newLocker({ waitTimeout: 300, retryDelay: 20 })
          .acquire(name)
          .catch((caught: unknown) => caught);
        const waited = performance.now() - started;
        expect((error as LockError).code).toBe('LOCK_NOT_ACQUIRED');
        expect((error as LockAcquireError).attempts).toBeGreaterThan(3);
        expect(waited).toBeGreaterThanOrEqual(280);
        expect(waited).toBeLessThan(2_000);
        await holder.release();
      });

      it('spreads retries with jitter: waiters do not retry in lockstep', async () => {
        const name = uniqueName('jitter');
        const holder = await newLocker().acquire(name);
        const attemptTimes: number[][] = [[], []];
        const waiters = attemptTimes.map((times) => {
          const recorder = recordingRunner(client.runner);
          recorder.onSettled = () => times.push(performance.now());
          return newLocker({ retryCount: 5, retryDelay: 40, retryJitter: 30 }, recorder)
            .acquire(name)
            .catch(() => null);
        });
        await Promise.all(waiters);
        const [first, second] = attemptTimes as [number[], number[]];
        const gaps = first.slice(1).map((time, index) => Math.abs(time - (second[index + 1] ?? time)));
        expect(gaps.some((gap) => gap > 2)).toBe(true);
        await holder.release();
      });

      it('an AbortSignal ends the wait at once with LOCK_ACQUIRE_ABORTED', async () => {
        const name = uniqueName('abort');
        const holder = await newLocker().acquire(name);
        const controller = new AbortController();
        const recorder = recordingRunner(client.runner);
        recorder.onSettled = () => controller.abort(new Error('shutting down'));
        const started = performance.now();
        const error = await newLocker({ retryCount: Number.POSITIVE_INFINITY, retryDelay: 5_000 }, recorder)
          .acquire(name, { signal: controller.signal })
          .catch((caught: unknown) => caught);
        expect((error as LockError).code).toBe('LOCK_ACQUIRE_ABORTED');
        expect(((error as LockError).cause as Error).message).toBe('shutting down');
        expect(performance.now() - started).toBeLessThan(2_000);
        expect(recorder.calls).toEqual(['acquire']);
        await holder.release();
      });

      it('an already-aborted signal sends nothing', async () => {
        const recorder = recordingRunner(client.runner);
        const error = await newLocker({}, recorder)
          .acquire(uniqueName('pre-aborted'), { signal: AbortSignal.abort() })
          .catch((caught: unknown) => caught);
        expect((error as LockError).code).toBe('LOCK_ACQUIRE_ABORTED');
        expect(recorder.calls).toEqual([]);
      });

      it('tryAcquire makes one attempt and returns null, whatever the retry defaults', async () => {
        const name = uniqueName('try');
        const holder = await newLocker().acquire(name);
        const recorder = recordingRunner(client.runner);
        const locker = newLocker({ retryCount: 5, retryDelay: 1_000 }, recorder);
        expect(await locker.tryAcquire(name)).toBeNull();
        expect(recorder.calls).toEqual(['acquire']);
        await holder.release();
      });
    });

    describe('auto-renewal (S4)', () => {
      it('keeps a lock alive over more than 3 ttls, then stops renewing once released', async () => {
        const recorder = recordingRunner(client.runner);
        const locker = newLocker({ ttl: 300, autoRenewal: true }, recorder);
        const name = uniqueName('renew');
        const lock = await locker.acquire(name);
        expect(lock.options.renewalInterval).toBe(100);

        await elapse(1_000);
        expect(lock.isHeld).toBe(true);
        expect(lock.signal.aborted).toBe(false);
        expect(await lock.isLockedByMe()).toBe(true);
        expect(await newLocker().tryAcquire(name)).toBeNull();
        expect(recorder.calls.filter((call) => call === 'extend').length).toBeGreaterThanOrEqual(5);

        expect(await lock.release()).toBe(true);
        const callsAtRelease = recorder.calls.length;
        await elapse(400);
        expect(recorder.calls.length).toBe(callsAtRelease);
        expect(await command('EXISTS', lock.key)).toBe(0);
      });

      it('signals a lost lock when the key is deleted behind the holder (S13)', async () => {
        const lock = await newLocker({ ttl: 600, autoRenewal: true }).acquire(uniqueName('stolen'));
        const lost = whenAborted(lock.signal);
        await command('DEL', lock.key);
        const reason = await lost;
        expect(LockLostError.isInstance(reason)).toBe(true);
        expect((reason as LockLostError).reason).toBe('taken');
        expect(lock.state).toBe('lost');
        expect(await lock.release()).toBe(false);
      });

      it('signals "taken" when renewal finds another owner, and never touches their lock', async () => {
        const lock = await newLocker({ ttl: 600, autoRenewal: true }).acquire(uniqueName('taken'));
        const lost = whenAborted(lock.signal);
        await command('HSET', lock.key, 'owner', 'someone-else', 'count', '1');
        expect(((await lost) as LockLostError).reason).toBe('taken');
        expect(await lock.release()).toBe(false);
        expect(await command('HGET', lock.key, 'owner')).toBe('someone-else');
        await command('DEL', lock.key);
      });

      it('signals expiry of a lock without renewal when its ttl runs out', async () => {
        const lock = await newLocker({ ttl: 200 }).acquire(uniqueName('lapse'));
        const reason = await whenAborted(lock.signal);
        expect((reason as LockLostError).reason).toBe('expired');
        expect(await lock.extend(1_000)).toBe(false);
      });
    });

    describe('manual control (S5) and status (S6)', () => {
      it('acquire() is non-blocking by default and answers true/false', async () => {
        const locker = newLocker();
        const name = uniqueName('manual');
        const first = locker.createLock(name);
        const second = locker.createLock(name);
        expect(await first.acquire()).toBe(true);
        expect(await second.acquire()).toBe(false);
        expect(second.state).toBe('unlocked');
        expect(await first.release()).toBe(true);
        expect(await second.acquire()).toBe(true);
        await second.release();
      });

      it('extend(ms) adds to the remaining time; { replace: true } sets it', async () => {
        const lock = await newLocker({ ttl: 10_000 }).acquire(uniqueName('extend'));
        expect(await lock.extend(20_000)).toBe(true);
        const added = await lock.remainingTime();
        expect(added).toBeGreaterThan(28_000);
        expect(added).toBeLessThanOrEqual(30_000);

        expect(await lock.extend(5_000, { replace: true })).toBe(true);
        const replaced = await lock.remainingTime();
        expect(replaced).toBeGreaterThan(4_000);
        expect(replaced).toBeLessThanOrEqual(5_000);
        await lock.release();
      });

      it('reports isLockedByAnyone, isLockedByMe and the remaining time', async () => {
        const locker = newLocker({ ttl: 10_000 });
        const name = uniqueName('status');
        const mine = locker.createLock(name);
        const theirs = locker.createLock(name);
        expect(await mine.isLockedByAnyone()).toBe(false);
        expect(await mine.remainingTime()).toBe(0);

        await mine.acquire();
        expect(await mine.isLockedByAnyone()).toBe(true);
        expect(await theirs.isLockedByAnyone()).toBe(true);
        expect(await mine.isLockedByMe()).toBe(true);
        expect(await theirs.isLockedByMe()).toBe(false);
        expect(await mine.remainingTime()).toBeGreaterThan(9_000);
        expect(await theirs.remainingTime()).toBe(0);

        await mine.release();
        expect(await theirs.isLockedByAnyone()).toBe(false);
        expect(await mine.isLockedByMe()).toBe(false);
      });
    });

    describe('scoped use (S7) and the Locker (S8)', () => {
      it('await using releases at the end of the scope, also when it throws', async () => {
        const locker = newLocker();
        const name = uniqueName('using');
        let key = '';
        {
          await using lock = await locker.acquire(name);
          key = lock.key;
          expect(await command('EXISTS', key)).toBe(1);
        }
        expect(await command('EXISTS', key)).toBe(0);

        const failing = async () => {
          await using lock = await locker.acquire(name);
          expect(lock.isHeld).toBe(true);
          throw new Error('boom');
        };
        await expect(failing()).rejects.toThrow('boom');
        expect(await command('EXISTS', key)).toBe(0);
      });

      it('withLock passes the held lock, returns the result and releases', async () => {
        const locker = newLocker();
        const name = uniqueName('with');
        let seen: Lock | undefined;
        const result = await locker.withLock(name, async (lock) => {
          seen = lock;
          expect(await lock.isLockedByMe()).toBe(true);
          return 42;
        });
        expect(result).toBe(42);
        if (seen === undefined) throw new Error('withLock did not call the callback');
        expect(seen.state).toBe('released');
        expect((seen.signal.reason as LockLostError).reason).toBe('released');
        expect(await command('EXISTS', seen.key)).toBe(0);
      });

      it("withLock releases on throw and rethrows the callback's own error", async () => {
        const locker = newLocker();
        const name = uniqueName('with-throw');
        const failure = new Error('callback failed');
        let key = '';
        const error = await locker
          .withLock(name, async (lock) => {
            key = lock.key;
            throw failure;
          })
          .catch((caught: unknown) => caught);
        expect(error).toBe(failure);
        expect(await command('EXISTS', key)).toBe(0);
      });

      it('withLock throws LockAcquireError and never calls the callback when the lock is held', async () => {
        const locker = newLocker();
        const name = uniqueName('with-held');
        const holder = await locker.acquire(name);
        let called = false;
        const error = await locker
          .withLock(name, () => {
            called = true;
          })
          .catch((caught: unknown) => caught);
        expect(LockAcquireError.isInstance(error)).toBe(true);
        expect(LockError.isInstance(error)).toBe(true);
        expect(called).toBe(false);
        await holder.release();
      });

      it('a callback that releases the lock itself does not make withLock fail', async () => {
        const result = await newLocker().withLock(uniqueName('self-release'), async (lock) => {
          expect(await lock.release()).toBe(true);
          return 'done';
        });
        expect(result).toBe('done');
      });
    });

    describe('wrapped functions and decorators (S9)', () => {
      it('names the lock after the function and runs it under the lock', async () => {
        const locker = newLocker();
        const probe = locker.createLock('dailyReport');
        async function dailyReport(day: string): Promise<string> {
          expect(await probe.isLockedByAnyone()).toBe(true);
          return `report for ${day}`;
        }
        const run = locker.locked()(dailyReport);
        expect(await run('monday')).toBe('report for monday');
        expect(await probe.isLockedByAnyone()).toBe(false);
      });

      it("onLocked: 'skip' resolves undefined without running; 'throw' rejects", async () => {
        const locker = newLocker();
        const name = uniqueName('cron');
        const holder = await locker.acquire(name);
        let runs = 0;
        const job = async () => {
          runs += 1;
          return 'ran';
        };
        expect(await locker.locked(name, { onLocked: 'skip' })(job)()).toBeUndefined();
        const error = await locker
          .locked(name)(job)()
          .catch((caught: unknown) => caught);
        expect((error as LockError).code).toBe('LOCK_NOT_ACQUIRED');
        expect(runs).toBe(0);
        await holder.release();
        expect(await locker.locked(name, { onLocked: 'skip' })(job)()).toBe('ran');
        expect(runs).toBe(1);
      });

      it('names the lock per call from the arguments, and takes options first', async () => {
        const locker = newLocker();
        const reserve = locker.locked((sku: string) => `inventory:${sku}`)(
          async (sku: string, quantity: number) => {
            expect(await locker.createLock(`inventory:${sku}`).isLockedByAnyone()).toBe(true);
            return quantity;
          },
        );
        expect(await reserve('a1', 2)).toBe(2);
        const holder = await locker.acquire('inventory:b2');
        await expect(reserve('b2', 1)).rejects.toSatisfy(LockAcquireError.isInstance);
        expect(await reserve('c3', 3)).toBe(3); // another name: not blocked
        await holder.release();

        const nightly = locker.locked({ onLocked: 'skip' })(async function nightlyCleanup() {
          return 'ran';
        });
        const blocker = await locker.acquire('nightlyCleanup');
        expect(await nightly()).toBeUndefined();
        await blocker.release();
        expect(await nightly()).toBe('ran');

        await expect(locker.locked(() => '')(async () => 1)()).rejects.toSatisfy(LockOptionError.isInstance);
      });

      it('works as a method decorator, keeping `this`, named after the method', async () => {
        const locker = newLocker();
        const probe = locker.createLock('rebuildIndex');
        class Jobs {
          readonly label = 'jobs';
          @locker.locked()
          async rebuildIndex(): Promise<string> {
            expect(await probe.isLockedByAnyone()).toBe(true);
            return this.label;
          }
          @locker.locked('decorated-cron', { onLocked: 'skip' })
          async nightly(): Promise<string | undefined> {
            return 'nightly ran';
          }
        }
        const jobs = new Jobs();
        expect(await jobs.rebuildIndex()).toBe('jobs');
        const holder = await locker.acquire('decorated-cron');
        expect(await jobs.nightly()).toBeUndefined();
        await holder.release();
        expect(await jobs.nightly()).toBe('nightly ran');
      });
    });

    describe('reentrancy (S11)', () => {
      it('counts re-entries, refreshes the expiry, and frees the key at zero', async () => {
        const locker = newLocker({ ttl: 10_000, reentrant: true });
        const name = uniqueName('reentrant');
        const lock = locker.createLock(name);
        expect(await lock.acquire()).toBe(true);
        expect(await lock.extend(1_000, { replace: true })).toBe(true);
        expect(await lock.acquire()).toBe(true);
        expect(await lock.acquire()).toBe(true);
        expect(lock.holdCount).toBe(3);
        expect(await command('HGET', lock.key, 'count')).toBe('3');
        expect(Number(await command('PTTL', lock.key))).toBeGreaterThan(9_000);

        expect(await locker.tryAcquire(name)).toBeNull();
        expect(await lock.release()).toBe(true);
        expect(await command('HGET', lock.key, 'count')).toBe('2');
        expect(await lock.release()).toBe(true);
        expect(await lock.isLockedByMe()).toBe(true);
        expect(await lock.release()).toBe(true);
        expect(await command('EXISTS', lock.key)).toBe(0);
        expect(lock.state).toBe('released');
      });

      it('dispose releases every re-entry at once', async () => {
        const lock = newLocker({ reentrant: true }).createLock(uniqueName('reentrant-dispose'));
        await lock.acquire();
        await lock.acquire();
        await lock[Symbol.asyncDispose]();
        expect(await command('EXISTS', lock.key)).toBe(0);
      });

      it('a non-reentrant handle refuses to enter twice', async () => {
        const lock = newLocker().createLock(uniqueName('not-reentrant'));
        await lock.acquire();
        await expect(lock.acquire()).rejects.toSatisfy(LockMisuseError.isInstance);
        await lock.release();
      });
    });

    describe('mutual exclusion (S12)', () => {
      it('24 concurrent acquirers over 4 clients: never two holders, exact non-atomic counter', async () => {
        const clients = await Promise.all(Array.from({ length: 4 }, () => adapter.connect(target.url)));
        extraClients.push(...clients);
        const name = uniqueName('exclusive');
        const counterKey = `conformance:counter:${name}`;
        let holders = 0;
        let maxHolders = 0;
        const workers = Array.from({ length: 24 }, (_, index) => {
          const worker = clients[index % clients.length] as ConnectedClient;
          const locker = newLocker({ retryDelay: 5, retryJitter: 5, waitTimeout: 30_000 }, worker.runner);
          return locker.withLock(name, async () => {
            holders += 1;
            maxHolders = Math.max(maxHolders, holders);
            const value = Number((await worker.command(['GET', counterKey])) ?? 0);
            await elapse(2);
            await worker.command(['SET', counterKey, String(value + 1)]);
            holders -= 1;
          });
        });
        await Promise.all(workers);
        expect(maxHolders).toBe(1);
        expect(Number(await command('GET', counterKey))).toBe(24);
      });
    });

    describe('errors (S13)', () => {
      it('wraps a Redis failure in LockRedisError with the cause, and the handle stays usable', async () => {
        const name = uniqueName('wrongtype');
        const lock = newLocker().createLock(name);
        await command('SET', lock.key, 'not a hash');
        const error = await lock.acquire().catch((caught: unknown) => caught);
        expect(LockRedisError.isInstance(error)).toBe(true);
        expect((error as LockRedisError).code).toBe('REDIS_ERROR');
        expect((error as LockRedisError).script).toBe('acquire');
        expect(String(((error as LockRedisError).cause as Error).message)).toMatch(/WRONGTYPE/);
        await command('DEL', lock.key);
        expect(await lock.acquire()).toBe(true);
        await lock.release();
      });

      it('LockError.isInstance recognises errors by marker, not by class identity', async () => {
        const error = new LockOptionError('ttl', 'bad');
        const foreign = Object.assign(Object.create(null), error);
        expect(LockError.isInstance(error)).toBe(true);
        expect(LockOptionError.isInstance(error)).toBe(true);
        expect(LockAcquireError.isInstance(error)).toBe(false);
        expect(LockError.isInstance(new Error('plain'))).toBe(false);
        expect(LockError.isInstance(foreign)).toBe(false);
        expect(error.name).toBe('LockOptionError');
      });
    });

    describe('bad input (R5): a typed error, and nothing sent to Redis', () => {
      let recorder: RecordingRunner;
      let locker: Locker;
      beforeEach(() => {
        recorder = recordingRunner(client.runner);
        locker = new Locker(recorder);
      });

      const badLockOptions: [string, Record<string, unknown>][] = [
        ['ttl 0', { ttl: 0 }],
        ['negative ttl', { ttl: -1 }],
        ['fractional ttl', { ttl: 1.5 }],
        ['NaN ttl', { ttl: Number.NaN }],
        ['infinite ttl', { ttl: Number.POSITIVE_INFINITY }],
        ['string ttl', { ttl: '1000' }],
        ['renewalInterval equal to ttl', { ttl: 1_000, renewalInterval: 1_000 }],
        ['renewalInterval above ttl', { ttl: 1_000, renewalInterval: 5_000 }],
        ['renewalInterval 0', { renewalInterval: 0 }],
        ['negative retryCount', { retryCount: -1 }],
        ['fractional retryCount', { retryCount: 1.5 }],
        ['negative retryDelay', { retryDelay: -5 }],
        ['negative waitTimeout', { waitTimeout: -1 }],
        ['unknown backoff', { backoff: 'linear' }],
        ['non-boolean autoRenewal', { autoRenewal: 'yes' }],
        ["the seed's seconds-based `timeout`", { timeout: 30 }],
      ];
      for (const [label, options] of badLockOptions) {
        it(`rejects ${label}`, async () => {
          const attempt = () => locker.acquire('bad-input', options as LockerOptions);
          await expect(attempt()).rejects.toSatisfy(LockOptionError.isInstance);
          expect(() => new Locker(recorder, options as LockerOptions)).toThrow(LockOptionError);
          expect(recorder.calls).toEqual([]);
        });
      }

      const badNames: [string, unknown][] = [
        ['an empty name', ''],
        ['a numeric name', 42],
        ['an undefined name', undefined],
        ['an object name', { name: 'x' }],
        ['a name over 1024 characters', 'x'.repeat(1025)],
        ['a name starting with "}" (an empty hash tag)', '}x'],
        ['a name with a lone surrogate', 'x\uD800'],
      ];
      for (const [label, name] of badNames) {
        it(`rejects ${label}`, async () => {
          await expect(locker.acquire(name as string)).rejects.toSatisfy(LockOptionError.isInstance);
          await expect(locker.withLock(name as string, () => 1)).rejects.toSatisfy(
            LockOptionError.isInstance,
          );
          expect(() => locker.createLock(name as string)).toThrow(LockOptionError);
          expect(recorder.calls).toEqual([]);
        });
      }

      it('rejects a signal that is not an AbortSignal', async () => {
        const notASignal = { aborted: 'no' } as unknown as AbortSignal;
        await expect(locker.acquire('bad-signal', { signal: notASignal })).rejects.toSatisfy(
          LockOptionError.isInstance,
        );
        await expect(locker.createLock('bad-signal').acquire({ signal: notASignal })).rejects.toSatisfy(
          LockOptionError.isInstance,
        );
        expect(recorder.calls).toEqual([]);
      });

      it('rejects a bad prefix, runner or onLocked', () => {
        expect(() => new Locker(recorder, { prefix: 5 as unknown as string })).toThrow(LockOptionError);
        expect(() => new Locker(recorder, { prefix: 'app:{lock}:' })).toThrow(LockOptionError);
        expect(() => new Locker({} as ScriptRunner)).toThrow(LockOptionError);
        expect(() => locker.locked('x', { onLocked: 'wait' as 'skip' })).toThrow(LockOptionError);
        expect(() => locker.locked()(async () => 1)).toThrow(LockOptionError);
        expect(recorder.calls).toEqual([]);
      });

      it.runIf(!adapter.cluster)('refuses a Redlock Locker over two clients of one server', async () => {
        const [second, third] = await Promise.all([adapter.connect(target.url), adapter.connect(target.url)]);
        extraClients.push(second, third);
        // Both adapters describe their client's server, as `host:port`.
        const server = (client.runner as AdapterRunner & { describe?: () => string }).describe?.();
        expect(server).toBe(new URL(target.url).host);
        let error: unknown;
        try {
          new Locker([client.runner, second.runner, third.runner]);
        } catch (caught) {
          error = caught;
        }
        expect(LockOptionError.isInstance(error), String(error)).toBe(true);
        expect((error as LockOptionError).message).toContain(
          `runners 0 and 1 both describe the server ${server}`,
        );
      });

      it('rejects non-positive or fractional extend(ms)', async () => {
        const lock = await locker.acquire(uniqueName('bad-extend'));
        recorder.calls.length = 0;
        for (const ms of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(lock.extend(ms)).rejects.toSatisfy(LockOptionError.isInstance);
        }
        expect(recorder.calls).toEqual([]);
        await lock.release();
      });

      it('rejects use after release and after dispose', async () => {
        const released = await locker.acquire(uniqueName('after-release'));
        await released.release();
        const disposed = await locker.acquire(uniqueName('after-dispose'));
        await disposed[Symbol.asyncDispose]();
        recorder.calls.length = 0;
        for (const lock of [released, disposed]) {
          await expect(lock.acquire()).rejects.toSatisfy(LockMisuseError.isInstance);
          await expect(lock.extend(1_000)).rejects.toSatisfy(LockMisuseError.isInstance);
          await expect(lock.release()).rejects.toSatisfy(LockMisuseError.isInstance);
          await lock[Symbol.asyncDispose](); // disposing twice stays a no-op
        }
        expect(recorder.calls).toEqual([]);
      });
    });

    describe('lost-lock signal (B1)', () => {
      it('aborts within one renewal interval after the key is deleted behind the holder', async () => {
        const lock = await newLocker({ ttl: 3_000, renewalInterval: 100, autoRenewal: true }).acquire(
          uniqueName('deleted'),
        );
        await command('DEL', lock.key);
        const deletedAt = performance.now();
        await whenAborted(lock.signal);
        // One renewal interval (100 ms) plus a generous margin for a loaded machine; far below the ttl.
        expect(performance.now() - deletedAt).toBeLessThan(1_000);
        expect((lock.signal.reason as LockLostError).reason).toBe('taken');
      });

      it('aborts as "unreachable" before the ttl runs out while Redis is paused', async () => {
        const ttl = 1_000;
        let renewed: () => void = () => {};
        const firstRenewal = new Promise<void>((resolve) => {
          renewed = resolve;
        });
        const lock = await newLocker({
          ttl,
          renewalInterval: 250,
          autoRenewal: true,
          hooks: { onExtended: () => renewed() },
        }).acquire(uniqueName('paused'));
        await firstRenewal;
        // Pause well after that renewal was sent, so the deadline (measured from it) comes
        // before `pausedAt + ttl` with a margin for timer lateness on a loaded machine.
        await elapse(150);
        await target.onPrimaryOf(lock.key, ['CLIENT', 'PAUSE', '3000', 'ALL']);
        const pausedAt = performance.now();
        const reason = await whenAborted(lock.signal);
        expect(performance.now() - pausedAt).toBeLessThan(ttl);
        expect((reason as LockLostError).reason).toBe('unreachable');
        // While Redis is still paused, releasing the lost lock is bounded by commandTimeout.
        const releaseStarted = performance.now();
        await expect(lock.release()).rejects.toMatchObject({ code: 'REDIS_TIMEOUT' });
        expect(performance.now() - releaseStarted).toBeLessThan(lock.options.commandTimeout + 500);
        // Once Redis answers again, a release cleans up without claiming success.
        await waitFor(async () => (await target.onPrimaryOf(lock.key, ['PING'])) === 'PONG', 5_000);
        expect(await lock.release()).toBe(false);
        expect(await command('EXISTS', lock.key)).toBe(0);
      });

      it('reports renewal failures and the loss through hooks when Redis keeps failing', async () => {
        const events: string[] = [];
        const locker = newLocker({
          ttl: 500,
          renewalInterval: 100,
          autoRenewal: true,
          hooks: {
            onRenewalFailed: () => events.push('renewal-failed'),
            onLost: ({ error }) => events.push(`lost:${error.reason}`),
          },
        });
        const lock = await locker.acquire(uniqueName('failing-renewal'));
        // Replace the lock, in one step, with a value of the wrong type: every renewal now fails
        // with WRONGTYPE (a DEL first could let a renewal see the key missing instead).
        await command('SET', lock.key, 'not a hash');
        await whenAborted(lock.signal);
        expect(events.at(-1)).toBe('lost:unreachable');
        expect(events.filter((event) => event === 'renewal-failed').length).toBeGreaterThanOrEqual(1);
        expect(LockRedisError.isInstance((lock.signal.reason as LockLostError).cause)).toBe(true);
        await command('DEL', lock.key);
      });
    });

    describe('fencing tokens (B2)', () => {
      it('strictly increase across 2 clients × 500 acquisitions', async () => {
        const second = await adapter.connect(target.url);
        extraClients.push(second);
        const name = uniqueName('fenced');
        const tokens: number[] = [];
        const worker = async (runner: ScriptRunner) => {
          const locker = newLocker({ retryDelay: 20, waitTimeout: 30_000 }, runner);
          for (let round = 0; round < 500; round += 1) {
            await locker.withLock(name, (lock) => {
              tokens.push(lock.fencingToken ?? Number.NaN);
            });
          }
        };
        await Promise.all([worker(client.runner), worker(second.runner)]);
        expect(tokens).toHaveLength(1_000);
        const outOfOrder = tokens.filter(
          (token, index) => index > 0 && !(token > (tokens[index - 1] as number)),
        );
        expect(outOfOrder).toEqual([]);
      });

      it('keep their token on re-entry, and are off with fencing: false', async () => {
        const reentrant = newLocker({ reentrant: true }).createLock(uniqueName('fence-reenter'));
        await reentrant.acquire();
        const token = reentrant.fencingToken;
        await reentrant.acquire();
        expect(token).toBeGreaterThan(0);
        expect(reentrant.fencingToken).toBe(token);
        await reentrant[Symbol.asyncDispose]();

        const unfenced = await newLocker({ fencing: false }).acquire(uniqueName('unfenced'));
        expect(unfenced.fencingToken).toBeUndefined();
        expect(await command('EXISTS', `${unfenced.key}:fence`)).toBe(0);
        await unfenced.release();
      });
    });

    describe('instant hand-off (B3)', () => {
      it('wakes the next of 8 waiters on release, without waiting out a 5 s retryDelay', async () => {
        const name = uniqueName('handoff');
        const holder = await newLocker().acquire(name);
        const order: number[] = [];
        const started = performance.now();
        const waiters = Array.from({ length: 8 }, (_, index) =>
          newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 20 }).withLock(name, async () => {
            order.push(index);
            await elapse(5);
          }),
        );
        await elapse(100); // let every waiter fail once and subscribe
        await holder.release();
        await Promise.all(waiters);
        expect(order).toHaveLength(8);
        // Polling alone would need at least 8 × 5 s; each hand-off is a notification away.
        expect(performance.now() - started).toBeLessThan(4_000);
      });
      it('a waiter that starts right after another gave up on the same lock is still woken', async () => {
        const name = uniqueName('resubscribe');
        const holder = await newLocker().acquire(name);
        const quitter = newLocker({ waitTimeout: 150, retryDelay: 50 });
        await expect(quitter.acquire(name)).rejects.toSatisfy(LockAcquireError.isInstance);
        // Its unsubscribe is still in flight when the next waiter subscribes to the same channel.
        const next = newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 3 }).acquire(name);
        await elapse(100);
        const releasedAt = performance.now();
        await holder.release();
        const lock = await next;
        expect(performance.now() - releasedAt).toBeLessThan(2_000);
        await lock.release();
      });
    });

    describe('call-chain reentrancy (B8)', () => {
      it('a nested withLock on the same name re-enters instead of deadlocking', async () => {
        const locker = newLocker();
        const name = uniqueName('nested');
        const result = await locker.withLock(name, async (outer) =>
          locker.withLock(name, async (inner) => {
            expect(inner).toBe(outer);
            expect(await newLocker().tryAcquire(name)).toBeNull();
            return 'nested ran';
          }),
        );
        expect(result).toBe('nested ran');
        expect(await command('EXISTS', `conformance:{${name}}`)).toBe(0);
      });

      it('another Locker, or asyncReentrancy: false, contends as usual', async () => {
        const locker = newLocker();
        const name = uniqueName('not-nested');
        await locker.withLock(name, async () => {
          await expect(newLocker().withLock(name, () => 1)).rejects.toSatisfy(LockAcquireError.isInstance);
        });
        const strict = newLocker({ asyncReentrancy: false });
        await strict.withLock(name, async () => {
          await expect(strict.withLock(name, () => 1)).rejects.toSatisfy(LockAcquireError.isInstance);
        });
      });
    });

    describe('inspection and hooks (B7)', () => {
      it('inspect shows holder, remaining time, re-entry count and fencing tokens', async () => {
        const locker = newLocker({ ttl: 10_000, reentrant: true });
        const name = uniqueName('inspect');
        const free = await locker.inspect(name);
        expect(free).toMatchObject({ name, owner: null, remaining: 0, holdCount: 0, fencingToken: null });

        const lock = locker.createLock(name);
        await lock.acquire();
        await lock.acquire();
        const held = await locker.inspect(name);
        expect(held).toMatchObject({
          name,
          key: lock.key,
          owner: lock.token,
          holdCount: 2,
          fencingToken: lock.fencingToken,
          lastFencingToken: lock.fencingToken,
        });
        expect(held.remaining).toBeGreaterThan(9_000);
        await lock[Symbol.asyncDispose]();
        expect(await locker.inspect(name)).toMatchObject({
          owner: null,
          lastFencingToken: lock.fencingToken,
        });
      });

      it('calls acquired (with wait time and attempts), extended, released and lost hooks', async () => {
        const events: string[] = [];
        const name = uniqueName('hooks');
        const locker = newLocker({
          retryCount: 10,
          retryDelay: 20,
          hooks: {
            onAcquired: ({ lock, attempts, waited }) =>
              events.push(`acquired:${lock.name === name}:${attempts > 1}:${waited >= 0}`),
            onExtended: ({ remaining, renewal }) => events.push(`extended:${remaining > 0}:${renewal}`),
            onReleased: () => events.push('released'),
            onLost: ({ error }) => events.push(`lost:${error.reason}`),
          },
        });
        const blocker = await newLocker().acquire(name);
        setTimeout(() => void blocker.release(), 50);
        const lock = await locker.acquire(name);
        await lock.extend(1_000);
        await lock.release();
        const lost = await locker.acquire(uniqueName('hooks-lost'), { ttl: 100 });
        await whenAborted(lost.signal);
        expect(events).toEqual([
          'acquired:true:true:true',
          'extended:true:false',
          'released',
          'acquired:false:false:true',
          'lost:expired',
        ]);
      });

      it('a throwing hook never breaks locking', async () => {
        const locker = newLocker({
          hooks: {
            onAcquired: () => {
              throw new Error('broken hook');
            },
          },
        });
        const lock = await locker.acquire(uniqueName('hook-throws'));
        expect(await lock.release()).toBe(true);
      });
    });

    describe('the adapter (D2, D3)', () => {
      it("never closes the user's client; its own subscriber connection closes when idle or on close()", async () => {
        const own = await adapter.connect(target.url);
        // Subscriber connections: subscribed now, or last used to (un)subscribe (RESP3 clients
        // leave pub/sub mode when they unsubscribe from everything).
        const subscribers = async () =>
          (await target.everyNode(['CLIENT', 'LIST']))
            .join('\n')
            .split('\n')
            .filter((line) => /\bsub=[1-9]|cmd=(un)?subscribe\b/.test(line)).length;
        // Other tests' runners close their idle subscriber connections within a second.
        await waitFor(async () => (await subscribers()) === 0, 5_000);

        const locker = newLocker({ retryCount: 3, retryDelay: 5_000 }, own.runner);
        const name = uniqueName('client-kept');
        const waitOnce = async () => {
          const holder = await newLocker({}, recordingRunner(client.runner)).acquire(name);
          const waiting = locker.withLock(name, () => undefined);
          // Waiting opens the adapter's subscriber connection; release once it is there.
          await waitFor(async () => (await subscribers()) === 1, 5_000);
          await holder.release();
          await waiting;
        };
        await waitOnce();
        // Idle, the adapter closes its own connection by itself, so a finished process can exit
        // without calling close().
        await waitFor(async () => (await subscribers()) === 0, 5_000);

        await waitOnce(); // reopened on demand
        await own.runner.close();
        // Well before the 1 s idle timeout could have closed it.
        await waitFor(async () => (await subscribers()) === 0, 500);
        expect(await own.command(['PING'])).toBe('PONG');
        const after = await locker.tryAcquire(uniqueName('after-close'));
        expect(after?.isHeld).toBe(true);
        await after?.release();
        await own.close();
      });
    });

    describe.runIf(adapter.cluster)('Redis Cluster (B5)', () => {
      const theCluster = () => {
        if (!target.cluster) throw new Error('these tests need the suite to run on a cluster');
        return target.cluster;
      };
      /** The node holding the subscriber connection with at least `channels` subscriptions. */
      const subscriberNode = async (channels: number) => {
        for (const node of theCluster().nodes) {
          const list = await theCluster()
            .command(node, ['CLIENT', 'LIST'])
            .catch(() => '');
          const counts = [...list.matchAll(/\bsub=(\d+)/g)].map((match) => Number(match[1]));
          if (counts.some((count) => count >= channels)) return node;
        }
        return undefined;
      };

      it("every key a lock uses (the lock, its fencing counter, its release channel) is in the lock's slot", async () => {
        const keys = new Set<string>();
        const channels = new Set<string>();
        const spy: ScriptRunner & ReleaseNotifier = {
          run: (script, scriptKeys, args) => {
            for (const key of scriptKeys) keys.add(key);
            return client.runner.run(script, scriptKeys, args);
          },
          subscribe: async (channel, listener) => {
            const unsubscribe = await client.runner.subscribe(channel, listener);
            channels.add(channel);
            return unsubscribe;
          },
        };
        const name = uniqueName('slot');
        const holder = await newLocker({}, spy).acquire(name);
        const waiter = newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 2 }, spy).acquire(name);
        await waitFor(async () => channels.size === 1, 5_000);
        await holder.release();
        await (await waiter).release();

        expect(keys).toContain(holder.key);
        expect(keys.size).toBeGreaterThan(1); // the lock and its fencing counter, at least
        const slot = await theCluster().keySlot(holder.key);
        for (const key of [...keys, ...channels]) expect(await theCluster().keySlot(key), key).toBe(slot);
      });

      it('refuses a name starting with "}" for every primitive: its keys would span slots (CROSSSLOT)', async () => {
        // Such a name makes the key's hash tag `{}`, which Redis ignores: each key hashes whole.
        let name = `}${uniqueName('empty-tag')}`;
        const key = () => lockKey('conformance:', name);
        while ((await theCluster().keySlot(key())) === (await theCluster().keySlot(`${key()}:fence`))) {
          name = `}${uniqueName('empty-tag')}`;
        }
        const acquireScript = ALL_SCRIPTS.find((script) => script.name === 'acquire');
        if (!acquireScript) throw new Error('no acquire script');
        // What the lock's one script would meet on the cluster:
        await expect(
          client.runner.run(acquireScript, [key(), `${key()}:fence`], ['token', 1_000, 1, 1]),
        ).rejects.toThrow(/CROSSSLOT/);

        const recorder = recordingRunner(client.runner);
        const locker = newLocker({}, recorder);
        const refused = async (attempt: () => unknown) => {
          let error: unknown;
          try {
            await attempt();
          } catch (caught) {
            error = caught;
          }
          expect(LockOptionError.isInstance(error), String(error)).toBe(true);
          expect((error as LockOptionError).message).toMatch(/hash tag/);
        };
        await refused(() => locker.acquire(name));
        await refused(() => locker.tryAcquire(name));
        await refused(() => locker.withLock(name, () => 1));
        await refused(() => locker.inspect(name));
        await refused(() => locker.semaphore(name, { limit: 2 }).acquire());
        await refused(() => locker.readWriteLock(name).acquireWrite());
        await refused(() => locker.readWriteLock(name).acquireRead());
        expect(recorder.calls).toEqual([]);
      });

      it('a release published on one primary wakes a waiter subscribed on another node', async () => {
        const locker = newLocker({ retryDelay: 5_000, retryJitter: 0, retryCount: 3 });
        const first = uniqueName('broadcast');
        const firstHolder = await newLocker().acquire(first);
        const firstWaiter = locker.acquire(first);
        await waitFor(async () => (await subscriberNode(1)) !== undefined, 5_000);
        const subscriber = await subscriberNode(1);
        if (!subscriber) throw new Error('no subscriber connection found');

        // A lock on a primary that is neither the subscriber's node nor the primary it replicates.
        let second = uniqueName('broadcast');
        const elsewhere = async (name: string) => {
          const primary = await theCluster().primaryFor(newLocker().createLock(name).key);
          return primary.id !== subscriber.id && primary.id !== subscriber.primaryId;
        };
        while (!(await elsewhere(second))) second = uniqueName('broadcast');
        const secondHolder = await newLocker().acquire(second);
        const secondWaiter = locker.acquire(second);
        await waitFor(async () => (await subscriberNode(2))?.id === subscriber.id, 5_000);

        const releasedAt = performance.now();
        await secondHolder.release();
        const handedOff = await secondWaiter;
        // Far below the 5 s retryDelay: the message crossed the cluster bus.
        expect(performance.now() - releasedAt).toBeLessThan(2_000);
        await handedOff.release();
        await firstHolder.release();
        await (await firstWaiter).release();
      });
    });
  });
}
