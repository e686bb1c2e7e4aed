/**
 * Every call ends in bounded time when the one Redis is dead or stalled, on both adapters over
 * clients at their DEFAULT options (no client command timeout, the clients' own retries), since
 * that is what a new user has: ioredis then waits ~73 s for a dead server and node-redis 5 s, and
 * neither ever gives up on a stalled one. The bounds under test are core's own:
 * - an acquire settles by `waitTimeout` + `WAIT_TIMEOUT_MARGIN`;
 * - one attempt (`tryAcquire`), a release, an extend, a status check and `inspect` settle by
 *   `commandTimeout` (default: ttl / 3, at least 500 and at most 2000 ms);
 * - a call that missed its deadline rejects `REDIS_TIMEOUT` (cause: `RedisCallTimeout`), and what it
 *   did in Redis once the server answers again is cleaned up with the handle's token;
 * - within a wait budget a Redis failure is retried like a busy lock;
 * - a renewal is scheduled from when the acquire was sent, not from when its reply came.
 *
 * Each bound is asserted with ALLOWANCE on top for a loaded 2-core machine. A call still pending
 * well past its bound is given up on (and reported as such) rather than waited for.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  Lock,
  LockAcquireError,
  Locker,
  type LockerOptions,
  type LockLostError,
  LockRedisError,
  RedisCallTimeout,
  type ScriptRunner,
} from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import { ALL_SCRIPTS, WAIT_TIMEOUT_MARGIN } from '@lock/core/internal';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import {
  type ConnectedClient,
  elapse,
  type FaultProxy,
  parseCommandStats,
  provisionRedis,
  type RedisInstance,
  recordingRunner,
  startFaultProxy,
  waitFor,
  whenAborted,
} from '@lock/testing';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, assert, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { within } from '../src/deadlines.js';
import { uniqueName } from '../src/names.js';

/** Scheduling slack on top of every documented bound: a loaded 2-core machine runs timers late. */
const ALLOWANCE = 800;
/** How long past its bound a call is still waited for before the test reports it as hanging. */
const GIVE_UP_AFTER = 2_500;
/** ttl 1500 gives the shortest default commandTimeout (500 ms), so stalled calls fail fast. */
const SHORT_TTL = 1_500;

type AdapterRunner = ConnectedClient['runner'];

/** A client at its library's default options, wrapped by its adapter. */
interface DefaultClient extends ConnectedClient {
  /** Drops the client's connection at once, whatever state it is in (no QUIT round trip). */
  destroy(): void;
}

/**
 * Connects a client of `kind` at its defaults: unlike `connectClient`, no reconnect strategy of
 * ours (node-redis) and nothing else set, so the bounds measured are core's, not the harness's.
 */
async function connectAtDefaults(kind: ClientKind, url: string): Promise<DefaultClient> {
  if (kind === 'ioredis') {
    const client = new Redis(url, { lazyConnect: true }); // lazyConnect: only to await the connect
    client.on('error', () => {});
    await client.connect();
    return wrap(
      createIoredisRunner(client),
      ([command, ...args]) => client.call(command as string, ...args),
      () => client.disconnect(),
    );
  }
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return wrap(
    createNodeRedisRunner(client),
    (args) => client.sendCommand([...args]),
    () => client.destroy(),
  );
}

function wrap(
  runner: AdapterRunner,
  command: (args: readonly string[]) => Promise<unknown>,
  destroy: () => void,
): DefaultClient {
  return {
    runner,
    command,
    destroy,
    close: async () => {
      // The adapter's close is not what these tests are about; never let it hang the suite.
      await within(runner.close(), 2_000).catch(() => {});
      destroy();
    },
  };
}

type Outcome<T> = { readonly value: T } | { readonly error: unknown } | { readonly pending: true };

/** How a call ended, and after how long (ms, measured from just before it was made). */
interface Timed<T> {
  readonly outcome: Outcome<T>;
  readonly elapsed: number;
}

/**
 * Runs `operation`, and resolves once it settles or `giveUpAfter` ms have passed (then
 * `pending`). A `Lock` it resolves after that, which nobody is left to release, is released in the
 * background so that it cannot outlive the test.
 */
async function timed<T>(operation: () => Promise<T>, giveUpAfter: number): Promise<Timed<T>> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gaveUp = false;
  const running = operation();
  const settled = running.then(
    (value): Outcome<T> => {
      if (gaveUp) void releaseIfLock(value);
      return { value };
    },
    (error: unknown): Outcome<T> => ({ error }),
  );
  const pending = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => {
      gaveUp = true;
      resolve({ pending: true });
    }, giveUpAfter);
  });
  const outcome = await Promise.race([settled, pending]);
  clearTimeout(timer);
  return { outcome, elapsed: performance.now() - started };
}

async function releaseIfLock(value: unknown): Promise<void> {
  if (value instanceof Lock) await value.release().catch(() => {});
}

function describeOutcome(outcome: Outcome<unknown>, elapsed: number): string {
  const after = `after ${Math.round(elapsed)} ms`;
  if ('pending' in outcome) return `still pending ${after}`;
  if ('error' in outcome) {
    const error = outcome.error;
    const code = (error as { code?: unknown })?.code;
    return `rejected ${after} with ${(error as Error)?.name ?? typeof error}${code ? ` ${String(code)}` : ''}: ${String((error as Error)?.message ?? error)}`;
  }
  const value = outcome.value;
  return `resolved ${after} with ${value instanceof Lock ? 'a held Lock' : JSON.stringify(value)}`;
}

/**
 * Asserts that the call rejected with a `LockRedisError` of one of `codes` within `bound` ms,
 * with its cause set and a message that says what failed; returns the error.
 */
function expectRedisFailure(
  what: string,
  { outcome, elapsed }: Timed<unknown>,
  bound: number,
  codes: readonly LockRedisError['code'][],
): LockRedisError {
  const expected = `expected a LockRedisError (${codes.join(' or ')}) within ${Math.round(bound)} ms`;
  if (!('error' in outcome)) {
    if ('value' in outcome) void releaseIfLock(outcome.value);
    assert.fail(`${what}: ${describeOutcome(outcome, elapsed)}; ${expected}`);
  }
  const error = outcome.error;
  if (!LockRedisError.isInstance(error)) {
    assert.fail(`${what}: ${describeOutcome(outcome, elapsed)}; ${expected}`);
  }
  expect(codes, `${what}: ${describeOutcome(outcome, elapsed)}; ${expected}`).toContain(error.code);
  expect(elapsed, `${what}: ${describeOutcome(outcome, elapsed)}; ${expected}`).toBeLessThan(bound);
  expect(error.cause, `${what}: the LockRedisError has no cause`).toBeDefined();
  // "Redis failed while running "acquire": <what the client said>": never empty after the colon.
  const detail = error.message.slice(error.message.lastIndexOf('": ') + 3);
  expect(detail.trim(), `${what}: nothing after the colon in ${JSON.stringify(error.message)}`).not.toBe('');
  return error;
}

/** `expectRedisFailure` for a call that missed its deadline: REDIS_TIMEOUT, a RedisCallTimeout cause. */
function expectTimedOut(what: string, result: Timed<unknown>, bound: number): LockRedisError {
  const error = expectRedisFailure(what, result, bound, ['REDIS_TIMEOUT']);
  expect(error.cause, `${what}: cause ${String(error.cause)}`).toBeInstanceOf(RedisCallTimeout);
  return error;
}

/** Resolves the value of a call expected to succeed in time, or fails saying how it ended. */
function expectResolved<T>(what: string, { outcome, elapsed }: Timed<T>, bound: number): T {
  if (!('value' in outcome)) {
    assert.fail(`${what}: ${describeOutcome(outcome, elapsed)}; expected it to resolve within ${bound} ms`);
  }
  expect(elapsed, `${what}: resolved after ${Math.round(elapsed)} ms; bound ${bound} ms`).toBeLessThan(bound);
  return outcome.value;
}

/** A counter whose n-th increment can be awaited. */
function counter() {
  let count = 0;
  const waiting: Array<{ target: number; resolve: () => void }> = [];
  return {
    get count() {
      return count;
    },
    tick() {
      count += 1;
      for (const entry of waiting.filter(({ target }) => target <= count)) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve();
      }
    },
    reached(target: number): Promise<void> {
      return new Promise((resolve) => {
        if (count >= target) resolve();
        else waiting.push({ target, resolve });
      });
    },
  };
}

/**
 * A runner over `inner` that counts the acquire attempts sent and the subscriptions asked for,
 * keeping `inner`'s release notifications (so waiters behave as on the adapter itself).
 */
function countingRunner(inner: AdapterRunner) {
  const recorder = recordingRunner(inner);
  const attempts = counter();
  const subscriptions: string[] = [];
  const runner: ScriptRunner & ReleaseNotifier = {
    run: (script, keys, args) => {
      if (script.name === 'acquire') attempts.tick();
      return recorder.run(script, keys, args);
    },
    subscribe: (channel, listener) => {
      subscriptions.push(channel);
      return inner.subscribe(channel, listener);
    },
  };
  return { runner, calls: recorder.calls, attempts, subscriptions };
}

/** The connections `CLIENT LIST` shows, and how many of them are in subscriber mode. */
async function connections(admin: ConnectedClient): Promise<{ total: number; subscribers: number }> {
  const lines = String(await admin.command(['CLIENT', 'LIST']))
    .split('\n')
    .filter((line) => line.trim() !== '');
  const subscribed = (line: string) =>
    /\b(?:sub|psub|ssub)=[1-9]/.test(line) || /\bcmd=subscribe\b/.test(line);
  return { total: lines.length, subscribers: lines.filter(subscribed).length };
}

const FIXTURE = fileURLToPath(new URL('./fixtures/acquire-on-dead-redis.mjs', import.meta.url));

/** One JSON line the fixture printed. */
type FixtureReport = Record<string, unknown> & { readonly type: string };

/**
 * Runs the fixture in a child `node` (the built packages, no loader), connected to `url`. Its
 * reports arrive as events; `go()` ends its stdin, which is what it waits for before acquiring.
 */
function spawnFixture(kind: ClientKind, url: string, waitTimeout: number) {
  const child = spawn(process.execPath, [FIXTURE, kind, url, String(waitTimeout)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const received: FixtureReport[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) received.push(JSON.parse(line) as FixtureReport);
    for (const listener of [...listeners]) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    // 'close', not 'exit': by then every line it printed has been read.
    child.once('close', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const reports = (type: string) => received.filter((report) => report.type === type);
  return {
    exited,
    reports,
    /** The first report of `type`; `undefined` when the child exits or `ms` pass without one. */
    report(type: string, ms: number): Promise<FixtureReport | undefined> {
      return new Promise((resolve) => {
        const finish = (report: FixtureReport | undefined) => {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(report);
        };
        const check = () => {
          const found = reports(type)[0];
          if (found !== undefined) finish(found);
        };
        const timer = setTimeout(() => finish(undefined), ms);
        listeners.add(check);
        void exited.then(() => finish(reports(type)[0]));
        check();
      });
    },
    go: () => child.stdin.end(),
    seen: () => `child said ${JSON.stringify(received)}; stderr: ${stderr.slice(-2_000) || '(none)'}`,
    /** Kills the child if it is still running; resolves once it is gone. */
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

describe.each(CLIENT_KINDS)('bounded time, one Redis, %s at its default options', (kind) => {
  describe('Redis killed (process stopped, its port refusing)', () => {
    let redis: RedisInstance;
    let client: DefaultClient;
    const newLocker = (options: LockerOptions = {}) =>
      new Locker(client.runner, { prefix: 'dead:', ...options });

    beforeAll(async () => {
      redis = await provisionRedis();
      client = await connectAtDefaults(kind, redis.url);
      // The usual state when Redis dies: an open connection, the scripts cached.
      await (await newLocker().acquire(uniqueName('warm-up'))).release();
      await redis.stop();
    }, 60_000);

    afterAll(async () => {
      await client?.close();
      await redis?.stop();
    });

    it('acquire({ waitTimeout: 1000 }) rejects with a LockRedisError saying what failed, by waitTimeout + margin', async () => {
      if (redis.source === 'REDIS_URL') return; // cannot stop a Redis we did not start
      const waitTimeout = 1_000;
      const bound = waitTimeout + WAIT_TIMEOUT_MARGIN + ALLOWANCE;
      const result = await timed(
        () => newLocker().acquire(uniqueName('dead-acquire'), { waitTimeout }),
        bound + GIVE_UP_AFTER,
      );
      expectRedisFailure('acquire on a dead Redis', result, bound, ['REDIS_ERROR', 'REDIS_TIMEOUT']);
    });

    it('tryAcquire() rejects with a LockRedisError by commandTimeout', async () => {
      if (redis.source === 'REDIS_URL') return;
      const locker = newLocker();
      const { commandTimeout } = locker.createLock('defaults').options; // 2000 ms for the default ttl
      const bound = commandTimeout + ALLOWANCE;
      const result = await timed(() => locker.tryAcquire(uniqueName('dead-try')), bound + GIVE_UP_AFTER);
      expectRedisFailure('tryAcquire on a dead Redis', result, bound, ['REDIS_ERROR', 'REDIS_TIMEOUT']);
    });
  });

  describe('a process whose Redis died', () => {
    let redis: RedisInstance;

    beforeAll(async () => {
      redis = await provisionRedis();
    }, 60_000);

    afterAll(async () => {
      await redis?.stop();
    });

    it('exits by itself once its acquire has settled and it closed what it opened', async () => {
      if (redis.source === 'REDIS_URL') return;
      const waitTimeout = 1_000;
      const settleBound = waitTimeout + WAIT_TIMEOUT_MARGIN + ALLOWANCE;
      /** From the settle report to the exit: closing and letting the event loop drain. */
      const exitBound = 3_000;
      const child = spawnFixture(kind, redis.url, waitTimeout);
      try {
        const ready = await child.report('ready', 15_000);
        if (ready === undefined) assert.fail(`the child did not get ready: ${child.seen()}`);
        await redis.stop();
        child.go(); // Redis is dead now
        const goAt = performance.now();

        const settled = await child.report('settled', settleBound + GIVE_UP_AFTER);
        if (settled === undefined) {
          assert.fail(
            `no settled acquire ${Math.round(performance.now() - goAt)} ms after Redis died: ${child.seen()}`,
          );
        }
        const settledAt = performance.now();
        expect(Number(settled.elapsed), `acquire settled late: ${child.seen()}`).toBeLessThan(settleBound);
        expect(['REDIS_ERROR', 'REDIS_TIMEOUT'], `acquire outcome: ${child.seen()}`).toContain(
          settled.outcome,
        );

        const exit = await Promise.race([child.exited, elapse(exitBound).then(() => undefined)]);
        if (exit === undefined) {
          const closed = child.reports('closed').length > 0;
          assert.fail(
            `still running ${exitBound} ms after its acquire settled (runner.close() ${closed ? 'resolved' : 'never resolved'}): ${child.seen()}`,
          );
        }
        expect(exit.signal, child.seen()).toBeNull();
        expect(exit.code, child.seen()).toBe(0);
        expect(exit.at - settledAt).toBeLessThan(exitBound);
      } finally {
        await child.kill();
      }
    }, 30_000);
  });

  describe('Redis stalled (server paused, or a proxy that accepts and never forwards)', () => {
    let redis: RedisInstance;
    let proxy: FaultProxy;
    /** The client under test, at its defaults; every byte goes through the proxy. */
    let client: DefaultClient;
    /** Talks to Redis directly: to see what really happened, and to hold locks elsewhere. */
    let admin: ConnectedClient;

    const newLocker = (options: LockerOptions = {}, runner: ScriptRunner = client.runner) =>
      new Locker(runner, { prefix: 'stall:', ...options });
    const adminLocker = (options: LockerOptions = {}) =>
      new Locker(admin.runner, { prefix: 'stall:', ...options });
    const exists = async (key: string) => Number(await admin.command(['EXISTS', key])) === 1;
    const owner = async (key: string) => (await admin.command(['HGET', key, 'owner'])) ?? null;
    /** The fencing counter of the lock at `key`: it moved when an acquire ran in Redis. */
    const fence = async (key: string) => Number((await admin.command(['GET', `${key}:fence`])) ?? 0);
    /** Resolves once the client under test answers through the proxy again (it reconnects by itself). */
    const clientAnswers = () =>
      waitFor(
        () =>
          within(client.command(['PING']), 500).then(
            (reply) => reply === 'PONG',
            () => false,
          ),
        15_000,
      );

    beforeAll(async () => {
      redis = await provisionRedis();
      proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
      client = await connectAtDefaults(kind, proxy.url);
      admin = await connectClient(kind, redis.url);
      // The steady state: every script cached, each operation one EVALSHA that runs on arrival.
      for (const script of ALL_SCRIPTS) await admin.command(['SCRIPT', 'LOAD', script.source]);
    }, 60_000);

    afterEach(async () => {
      proxy.heal();
      await admin.command(['PING']); // answers once a CLIENT PAUSE is over
      await clientAnswers();
    }, 30_000);

    afterAll(async () => {
      await client?.close();
      await admin?.close();
      await proxy?.close();
      await redis?.stop();
    });

    it('waitTimeout: 0 is exactly one attempt (one EVALSHA) and opens no subscriber', async () => {
      const name = uniqueName('zero-wait');
      const holder = await adminLocker({ ttl: 10_000 }).acquire(name);
      const counting = countingRunner(client.runner);
      const before = await connections(admin);
      await admin.command(['CONFIG', 'RESETSTAT']);

      const result = await timed(
        () => newLocker({}, counting.runner).acquire(name, { waitTimeout: 0 }),
        2_000 + GIVE_UP_AFTER,
      );

      const stats = parseCommandStats(String(await admin.command(['INFO', 'commandstats'])));
      const after = await connections(admin);
      if (!('error' in result.outcome)) {
        if ('value' in result.outcome) void releaseIfLock(result.outcome.value);
        assert.fail(
          `acquire({ waitTimeout: 0 }) on a held lock: ${describeOutcome(result.outcome, result.elapsed)}`,
        );
      }
      const error = result.outcome.error;
      expect(LockAcquireError.isInstance(error) && error.code, String(error)).toBe('LOCK_NOT_ACQUIRED');
      expect(counting.attempts.count, `attempts sent: ${counting.calls.join(', ')}`).toBe(1);
      expect(stats.evalsha ?? 0, `commandstats: ${JSON.stringify(stats)}`).toBe(1);
      expect(stats.eval ?? 0).toBe(0);
      expect(counting.subscriptions, 'subscriptions asked for').toEqual([]);
      expect(after.subscribers, 'subscriber connections on the server').toBe(0);
      expect(after.total, 'connections on the server').toBe(before.total);
      expect(await holder.release()).toBe(true);
    });

    it('tryAcquire on a stalled connection rejects REDIS_TIMEOUT by commandTimeout; what it took is released once the bytes get through', async () => {
      const locker = newLocker({ ttl: 10_000, commandTimeout: 500 });
      const name = uniqueName('stalled-try');
      const key = locker.createLock(name).key;
      const bound = 500 + ALLOWANCE;
      proxy.blackhole('hold'); // the connection stays up; nothing gets through until heal()
      const result = await timed(() => locker.tryAcquire(name), bound + GIVE_UP_AFTER);
      proxy.heal(); // the held attempt now reaches Redis and takes the lock
      const healedAt = performance.now();
      expectTimedOut('tryAcquire while stalled', result, bound);

      // The attempt did run once it got through (its fence moved), and its hold was released by the
      // background clean-up well before the 10 s ttl could have expired it.
      await waitFor(async () => (await fence(key)) >= 1 && !(await exists(key)), 3_000, 10);
      expect(performance.now() - healedAt).toBeLessThan(3_000);
    });

    it('tryAcquire while the server is paused (CLIENT PAUSE) rejects REDIS_TIMEOUT; its hold is gone soon after the server resumes', async () => {
      const locker = newLocker({ ttl: 10_000, commandTimeout: 500 });
      const name = uniqueName('paused-try');
      const key = locker.createLock(name).key;
      const bound = 500 + ALLOWANCE;
      await admin.command(['CLIENT', 'PAUSE', '2000', 'ALL']);
      const result = await timed(() => locker.tryAcquire(name), bound + GIVE_UP_AFTER);
      await admin.command(['PING']); // answered once the pause is over
      const resumedAt = performance.now();
      expectTimedOut('tryAcquire while paused', result, bound);

      await waitFor(async () => (await fence(key)) >= 1 && !(await exists(key)), 3_000, 10);
      expect(performance.now() - resumedAt).toBeLessThan(3_000);
    });

    it("release() on a stalled connection rejects REDIS_TIMEOUT by commandTimeout and marks the handle lost ('unreachable')", async () => {
      const lock = await newLocker({ ttl: SHORT_TTL }).acquire(uniqueName('stalled-release'));
      const bound = lock.options.commandTimeout + ALLOWANCE;
      proxy.blackhole('hold');
      const result = await timed(() => lock.release(), bound + GIVE_UP_AFTER);
      proxy.heal();
      expectTimedOut('release while stalled', result, bound);
      expect(lock.state).toBe('lost');
      expect((lock.signal.reason as LockLostError).reason).toBe('unreachable');
      // The release itself reached Redis once the bytes got through.
      await waitFor(async () => !(await exists(lock.key)), 3_000, 10);
    });

    it('extend() on a stalled connection rejects REDIS_TIMEOUT by commandTimeout', async () => {
      const lock = await newLocker({ ttl: SHORT_TTL }).acquire(uniqueName('stalled-extend'));
      const bound = lock.options.commandTimeout + ALLOWANCE;
      proxy.blackhole('hold');
      const result = await timed(() => lock.extend(1_000), bound + GIVE_UP_AFTER);
      proxy.heal();
      expectTimedOut('extend while stalled', result, bound);
    });

    it('isLockedByMe, isLockedByAnyone and remainingTime on a stalled connection reject REDIS_TIMEOUT by commandTimeout', async () => {
      const lock = await newLocker({ ttl: SHORT_TTL }).acquire(uniqueName('stalled-status'));
      const bound = lock.options.commandTimeout + ALLOWANCE;
      proxy.blackhole('hold');
      const results = await Promise.all([
        timed(() => lock.isLockedByMe(), bound + GIVE_UP_AFTER),
        timed(() => lock.isLockedByAnyone(), bound + GIVE_UP_AFTER),
        timed(() => lock.remainingTime(), bound + GIVE_UP_AFTER),
      ]);
      proxy.heal();
      expectTimedOut('isLockedByMe while stalled', results[0], bound);
      expectTimedOut('isLockedByAnyone while stalled', results[1], bound);
      expectTimedOut('remainingTime while stalled', results[2], bound);
    });

    it('Locker.inspect on a stalled connection rejects REDIS_TIMEOUT by commandTimeout', async () => {
      const locker = newLocker({ ttl: SHORT_TTL });
      const name = uniqueName('stalled-inspect');
      const bound = locker.createLock(name).options.commandTimeout + ALLOWANCE;
      proxy.blackhole('hold');
      const result = await timed(() => locker.inspect(name), bound + GIVE_UP_AFTER);
      proxy.heal();
      expectTimedOut('inspect while stalled', result, bound);
    });

    it('a Redis failure while waiting does not end the wait: the waiter acquires once the holder releases', async () => {
      const name = uniqueName('fault-while-waiting');
      const holder = await adminLocker({ ttl: 10_000 }).acquire(name);
      const counting = countingRunner(client.runner);
      // ttl 1500: each attempt is bounded by 500 ms, so an attempt lost in the outage is retried.
      const waitTimeout = 3_000;
      const bound = waitTimeout + WAIT_TIMEOUT_MARGIN + ALLOWANCE;
      const waiting = timed(
        () => newLocker({ ttl: SHORT_TTL }, counting.runner).acquire(name, { waitTimeout }),
        bound + GIVE_UP_AFTER,
      );
      await counting.attempts.reached(2); // the wait is under way: one busy attempt, then a retry
      const droppedBefore = proxy.stats.droppedToServer;
      proxy.blackhole(); // ~500 ms during which every call is lost (then its connection is reset)
      await elapse(500);
      proxy.heal();
      // The outage did meet the waiter's calls, not only its sleep.
      expect(proxy.stats.droppedToServer).toBeGreaterThan(droppedBefore);
      expect(await holder.release()).toBe(true);

      const lock = expectResolved('the waiter', await waiting, bound);
      expect(await lock.isLockedByMe()).toBe(true);
      expect(await lock.release()).toBe(true);
    });

    it('a Redis failure early in a wait whose later attempts find the lock held ends LOCK_NOT_ACQUIRED, not a Redis error', async () => {
      const name = uniqueName('fault-then-busy');
      const holder = await adminLocker({ ttl: 10_000 }).acquire(name);
      const counting = countingRunner(client.runner);
      const waitTimeout = 2_000;
      const bound = waitTimeout + WAIT_TIMEOUT_MARGIN + ALLOWANCE;
      const waiting = timed(
        () => newLocker({ ttl: SHORT_TTL }, counting.runner).acquire(name, { waitTimeout }),
        bound + GIVE_UP_AFTER,
      );
      await counting.attempts.reached(1);
      proxy.blackhole();
      await elapse(400);
      proxy.heal();
      const { outcome, elapsed } = await waiting;
      if (!('error' in outcome) || !LockAcquireError.isInstance(outcome.error)) {
        if ('value' in outcome) void releaseIfLock(outcome.value);
        assert.fail(
          `a wait on a held lock: ${describeOutcome(outcome, elapsed)}; expected LOCK_NOT_ACQUIRED within ${bound} ms`,
        );
      }
      expect(outcome.error.code).toBe('LOCK_NOT_ACQUIRED');
      expect(elapsed).toBeLessThan(bound);
      expect(await holder.release()).toBe(true);
    });

    it('an auto-renewed lock whose acquire reply came late is renewed in time: the first renewal counts from the send', async () => {
      // ttl 1000: validity 988 ms from the send; renewal every 333 ms. A reply 700 ms late means
      // that a renewal scheduled 333 ms after the reply would go out at ~1033 ms, after the lock's
      // validity ended. commandTimeout 950 lets the late attempt be answered rather than abandoned.
      const ttl = 1_000;
      const replyDelay = 700;
      const renewals = counter();
      const renewedAt: number[] = [];
      const locker = newLocker({
        ttl,
        autoRenewal: true,
        commandTimeout: 950,
        hooks: {
          onExtended: ({ renewal }) => {
            if (!renewal) return;
            renewedAt.push(performance.now());
            renewals.tick();
          },
        },
      });
      const lock = locker.createLock(uniqueName('late-reply'));
      expect(lock.options.renewalInterval).toBe(333);

      proxy.setLatency(replyDelay, 'toClient');
      const started = performance.now();
      const acquiring = lock.acquire();
      // The acquire ran in Redis and its reply is on its way, held back: later replies are not.
      await waitFor(async () => (await owner(lock.key)) === lock.token, 2_000, 5);
      await new Promise((resolve) => setImmediate(resolve)); // the reply chunk has reached the proxy
      proxy.setLatency(0, 'toClient');
      expect(await acquiring).toBe(true);
      const acquiredAt = performance.now();
      expect(acquiredAt - started, 'the acquire reply was delayed').toBeGreaterThanOrEqual(replyDelay - 5);

      const first = await Promise.race([
        whenAborted(lock.signal).then((reason) => `lost (${(reason as LockLostError).reason})`),
        renewals.reached(3).then(() => 'renewed three times'),
      ]);
      expect(first, 'the lock was lost before its renewals kept it').toBe('renewed three times');
      // Sent at once on the reply, as send + interval had passed: not a whole interval later.
      expect((renewedAt[0] ?? Number.POSITIVE_INFINITY) - acquiredAt).toBeLessThan(250);
      expect(lock.isHeld).toBe(true);
      expect(await lock.isLockedByMe()).toBe(true);
      expect(await lock.release()).toBe(true);
    });
  });
});
