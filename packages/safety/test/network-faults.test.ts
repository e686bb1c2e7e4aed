/**
 * Network faults between the client and Redis, on both adapters. The client under test talks
 * to Redis through a loopback fault proxy (latency, lost replies, a partition, cut connections);
 * an admin client talks to Redis directly, to see what really happened on the server while the
 * client only saw the fault.
 *
 * The promises under test: every call ends (a result or a typed LockError, never a hang); an
 * acquire whose outcome is ambiguous never leaves a lock nobody knows about beyond its ttl, and
 * retrying it with the same handle (same token) is idempotent; a holder cut off from Redis is told
 * before its ttl runs out; a release that is retried, or delivered late, never deletes another
 * holder's lock.
 */
import {
  LockAcquireError,
  Locker,
  type LockerOptions,
  LockLostError,
  LockRedisError,
  type ScriptRunner,
} from '@lock/core';
import type { LuaScript, ReleaseNotifier } from '@lock/core/adapter';
import { ALL_SCRIPTS } from '@lock/core/internal';
import {
  type ConnectedClient,
  type FaultProxy,
  provisionRedis,
  type RedisInstance,
  recordingRunner,
  startFaultProxy,
  waitFor,
} from '@lock/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { lostNotice, withDeadline, within } from '../src/deadlines.js';
import { uniqueName } from '../src/names.js';
import { settleTyped } from '../src/settle.js';

/** How long one command may take before the client under test gives up on it. */
const COMMAND_TIMEOUT = 400;

/** Promises for "the n-th event has happened", for counting sent and settled scripts. */
class Milestones {
  #count = 0;
  readonly #pending: Array<{ count: number; resolve: () => void }> = [];

  get count(): number {
    return this.#count;
  }

  tick(): void {
    this.#count += 1;
    for (const entry of this.#pending.filter((candidate) => candidate.count <= this.#count)) {
      this.#pending.splice(this.#pending.indexOf(entry), 1);
      entry.resolve();
    }
  }

  /** Resolves once `count` events have happened. */
  reached(count: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#count >= count) resolve();
      else this.#pending.push({ count, resolve });
    });
  }
}

/**
 * A runner that records every script and counts those sent and settled, keeping the inner
 * runner's release notifications so that waiters behave as they do on the adapter itself.
 */
function recordingWaiter(inner: ScriptRunner & ReleaseNotifier) {
  const recorder = recordingRunner(inner);
  const sent = new Milestones();
  const settled = new Milestones();
  recorder.onSettled = () => settled.tick();
  const runner: ScriptRunner & ReleaseNotifier = {
    run: (script, keys, args) => {
      const reply = recorder.run(script, keys, args);
      sent.tick();
      return reply;
    },
    subscribe: inner.subscribe,
  };
  return { calls: recorder.calls, runner, sent, settled };
}

const ACQUIRE_SCRIPT = ALL_SCRIPTS.find((script) => script.name === 'acquire') as LuaScript;

describe.each(CLIENT_KINDS)('network faults: %s', (kind: ClientKind) => {
  let redis: RedisInstance;
  let proxy: FaultProxy;
  /** The client under test: every byte goes through the proxy. */
  let client: ConnectedClient;
  /** Talks to Redis directly, for assertions and for a second holder on another connection. */
  let admin: ConnectedClient;
  let runner: ConnectedClient['runner'];

  const newLocker = (options: LockerOptions = {}) => new Locker(runner, { prefix: 'net:', ...options });
  const adminLocker = (options: LockerOptions = {}) =>
    new Locker(admin.runner, { prefix: 'net:', ...options });
  const owner = async (key: string) => (await admin.command(['HGET', key, 'owner'])) ?? null;
  const exists = async (key: string) => Number(await admin.command(['EXISTS', key]));
  const pttl = async (key: string) => Number(await admin.command(['PTTL', key]));
  /** Resolves once the client under test answers again through the proxy (it reconnects by itself). */
  const clientAnswers = () =>
    waitFor(
      () =>
        within(client.command(['PING']), COMMAND_TIMEOUT).then(
          (reply) => reply === 'PONG',
          () => false,
        ),
      10_000,
    );

  beforeAll(async () => {
    redis = await provisionRedis();
    proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
    client = await connectClient(kind, proxy.url, { commandTimeout: COMMAND_TIMEOUT });
    runner = kind === 'node-redis' ? withDeadline(client.runner, COMMAND_TIMEOUT) : client.runner;
    admin = await connectClient(kind, redis.url);
    // The steady state: every script cached, so each operation is one EVALSHA that runs as it
    // arrives. (On an empty cache, a lost NOSCRIPT reply would mean the command never ran at all.)
    for (const script of ALL_SCRIPTS) await admin.command(['SCRIPT', 'LOAD', script.source]);
  }, 120_000);

  afterEach(async () => {
    proxy.heal();
    await clientAnswers();
  });

  afterAll(async () => {
    await client?.close();
    await admin?.close();
    await proxy?.close();
    await redis?.stop();
  });

  describe('an acquire whose reply is lost', () => {
    it('rejects with LockRedisError, never hangs; the handle cleans up, and a retry on it is idempotent', async () => {
      const lock = newLocker({ ttl: 5_000 }).createLock(uniqueName('lost-acquire'));
      proxy.dropReplies();
      const started = performance.now();
      const attempt = settleTyped(() => lock.acquire());

      // The acquire ran: Redis holds the lock under this handle's token, while the client still
      // waits for a reply that will never come.
      await waitFor(async () => (await owner(lock.key)) === lock.token, 2_000);
      const firstFence = Number(await admin.command(['HGET', lock.key, 'fence']));
      const outcome = await attempt;
      expect(performance.now() - started).toBeLessThan(COMMAND_TIMEOUT + 1_500);
      if (!('error' in outcome)) throw new Error('the acquire resolved although its reply was lost');
      expect(LockRedisError.isInstance(outcome.error)).toBe(true);
      expect((outcome.error as LockRedisError).script).toBe('acquire');
      expect(lock.state).toBe('unlocked');
      expect(lock.isHeld).toBe(false);

      // Observed on both adapters: the handle sends its release in the background at once, and
      // since requests still reach Redis, the lock is gone long before its 5 s ttl.
      await waitFor(async () => (await exists(lock.key)) === 0, 2_000);
      expect(performance.now() - started).toBeLessThan(5_000);

      proxy.heal();
      await clientAnswers();
      // Retrying on the same handle: same token, one holder, count 1 (not 2), a fresh fence.
      expect(await lock.acquire()).toBe(true);
      expect(await owner(lock.key)).toBe(lock.token);
      expect(await admin.command(['HGET', lock.key, 'count'])).toBe('1');
      expect(lock.fencingToken).toBeGreaterThan(firstFence);
      expect(await lock.release()).toBe(true);
      expect(await exists(lock.key)).toBe(0);
    });

    it('resending the acquire before any cleanup is idempotent: still one holder, same token, same fence', async () => {
      // A resend is what a client that retries a command on a new connection does (ioredis re-sends
      // unanswered commands after a reconnect): the script takes the target count, not +1.
      const lock = newLocker({ ttl: 5_000 }).createLock(uniqueName('resend'));
      expect(await lock.acquire()).toBe(true);
      const fence = lock.fencingToken;
      // The same call again, byte for byte (target count 1), as a resend would carry it.
      const reply = await runner.run(
        ACQUIRE_SCRIPT,
        [lock.key, `${lock.key}:fence`],
        [lock.token, 5_000, 1, 1],
      );
      expect(reply).toEqual([1, 1, fence]);
      expect(await admin.command(['HGET', lock.key, 'count'])).toBe('1');
      expect(await owner(lock.key)).toBe(lock.token);
      expect(await lock.release()).toBe(true);
      expect(await exists(lock.key)).toBe(0);
    });

    it('when even the cleanup cannot get through, the lock still expires within its ttl', async () => {
      const ttl = 1_500;
      const lock = newLocker({ ttl }).createLock(uniqueName('stranded'));
      proxy.dropReplies();
      const started = performance.now();
      const attempt = settleTyped(() => lock.acquire());
      await waitFor(async () => (await owner(lock.key)) === lock.token, 2_000);
      // Now the connection dies and cannot be made again: the background release is stranded.
      proxy.refuse(true);
      proxy.cutAll();
      const outcome = await attempt;
      expect(performance.now() - started).toBeLessThan(COMMAND_TIMEOUT + 1_500);
      expect('error' in outcome && LockRedisError.isInstance(outcome.error)).toBe(true);

      // Still there (the cleanup really did not arrive), and bounded by the ttl.
      const remaining = await pttl(lock.key);
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(ttl);
      await waitFor(async () => (await exists(lock.key)) === 0, ttl + 1_000);
      const goneAfter = performance.now() - started;
      expect(goneAfter).toBeGreaterThanOrEqual(ttl - 50); // it expired, nobody deleted it
      expect(goneAfter).toBeLessThan(ttl + 1_000);

      // Once the client reconnects, what it still had queued may run late. Observed: ioredis
      // re-sends the unanswered acquire after reconnecting (autoResendUnfulfilledCommands), so the
      // lock comes back under this handle's token, for one ttl from then, while its stranded
      // release was dropped; node-redis fails in-flight commands on a disconnect and re-sends
      // nothing. Either way: only this token, never longer than one ttl from its (re)appearance.
      proxy.refuse(false);
      proxy.heal();
      await clientAnswers();
      const reconnectedAt = performance.now();
      if ((await exists(lock.key)) === 1) {
        expect(await owner(lock.key)).toBe(lock.token);
        expect(await pttl(lock.key)).toBeLessThanOrEqual(ttl);
        console.info(`[${kind}] stranded acquire: re-sent after the reconnect, the lock is back for one ttl`);
        await waitFor(async () => (await exists(lock.key)) === 0, ttl + 1_000);
        expect(performance.now() - reconnectedAt).toBeLessThan(ttl + 1_000);
      } else {
        console.info(`[${kind}] stranded acquire: nothing re-sent after the reconnect`);
      }
      expect(await lock.acquire()).toBe(true); // the handle is still usable
      expect(await lock.release()).toBe(true);
      expect(await exists(lock.key)).toBe(0);
    });
  });

  it('renewal that times out: the signal aborts with `unreachable` before the ttl runs out', async () => {
    const ttl = 1_000;
    let renewalFailures = 0;
    let onRenewed: (() => void) | undefined;
    const locker = newLocker({
      ttl,
      renewalInterval: 200,
      autoRenewal: true,
      hooks: {
        onExtended: ({ renewal }) => {
          if (renewal) onRenewed?.();
        },
        onRenewalFailed: () => {
          renewalFailures += 1;
        },
      },
    });
    const lock = await locker.acquire(uniqueName('renewal'));
    const lost = lostNotice(lock);
    // Partition right as a renewal is confirmed: that renewal is the last good one, and it was sent
    // before this instant, so its ttl (and the key's in Redis) runs out at most `ttl` from now.
    const partitionedAt = await new Promise<number>((resolve) => {
      onRenewed = () => {
        onRenewed = undefined;
        proxy.blackhole();
        resolve(performance.now());
      };
    });
    const { reason, at } = await lost;
    expect(LockLostError.isInstance(reason)).toBe(true);
    expect(reason.reason).toBe('unreachable');
    expect(at - partitionedAt).toBeLessThan(ttl);
    // It kept trying until the validity deadline rather than giving up at the first failure.
    expect(renewalFailures).toBeGreaterThanOrEqual(1);
    expect(at - partitionedAt).toBeGreaterThan(ttl - 300);
    expect(lock.state).toBe('lost');

    proxy.heal();
    await clientAnswers();
    await waitFor(async () => (await exists(lock.key)) === 0, ttl + 1_000);
    expect(await lock.release()).toBe(false);
  });

  describe('a release whose reply is lost', () => {
    it('rejects typed; retrying it later never deletes the next holder', async () => {
      const name = uniqueName('lost-release');
      const first = await newLocker({ ttl: 10_000 }).acquire(name);
      proxy.dropReplies();
      const released = await settleTyped(() => first.release());
      // Observed: the release ran but the client cannot know; it rejects, and the handle counts as
      // lost (unreachable), as the README says.
      if (!('error' in released)) throw new Error('the release resolved although its reply was lost');
      expect(LockRedisError.isInstance(released.error)).toBe(true);
      expect(first.state).toBe('lost');
      expect((first.signal.reason as LockLostError).reason).toBe('unreachable');
      expect(await exists(first.key)).toBe(0);

      proxy.heal();
      await clientAnswers();
      const second = await adminLocker({ ttl: 10_000 }).acquire(name);
      expect(await first.release()).toBe(false); // the retried release finds another owner
      expect(await owner(first.key)).toBe(second.token);
      expect(await second.release()).toBe(true);
    });

    it('a release held up in a partition and delivered after the next holder took over deletes nothing', async () => {
      const name = uniqueName('late-release');
      const ttl = 800;
      const first = await newLocker({ ttl }).acquire(name);
      proxy.blackhole('hold'); // the release waits on the wire, as TCP would retransmit it later
      const released = await settleTyped(() => first.release());
      expect('error' in released && LockRedisError.isInstance(released.error)).toBe(true);
      expect(await owner(first.key)).toBe(first.token); // it has not arrived

      await waitFor(async () => (await exists(first.key)) === 0, ttl + 1_000); // expired
      const second = await adminLocker({ ttl: 10_000 }).acquire(name);
      proxy.heal(); // the old release arrives now, after the new holder took the lock
      await clientAnswers(); // same connection, so the late release has run by now
      expect(await owner(first.key)).toBe(second.token);
      expect(await first.release()).toBe(false);
      expect(await owner(first.key)).toBe(second.token);
      expect(await second.release()).toBe(true);
    });
  });

  it('under 50 ms of latency each way, acquire, extend, renewal, release and hand-off all work', async () => {
    proxy.setLatency(50);
    const name = uniqueName('latency');
    const locker = newLocker({ ttl: 5_000 });
    const started = performance.now();
    const first = await locker.acquire(name);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100); // the latency is really there
    expect(await owner(first.key)).toBe(first.token);
    expect(await first.extend(5_000, { replace: true })).toBe(true);
    expect(await first.isLockedByMe()).toBe(true);

    // Hand-off: the waiter polls only every 2 s, so a quick hand-off is the release notification,
    // which also travels through the proxy (on the adapter's own subscriber connection).
    const waiting = locker.acquire(name, { waitTimeout: 10_000, retryDelay: 2_000, retryJitter: 0 });
    // A release serves the longest waiter on its Locker's wake channel, which its registration
    // names (the last of its terms): wait until that channel is subscribed.
    await waitFor(async () => {
      const terms = (await admin.command(['HVALS', `${first.key}:waiters:terms`])) as string[];
      const channel = terms[0]?.split(' ')[4];
      if (channel === undefined) return false;
      const numsub = (await admin.command(['PUBSUB', 'NUMSUB', channel])) as unknown[];
      return Number(numsub[1]) >= 1;
    }, 5_000);
    const releasedAt = performance.now();
    expect(await first.release()).toBe(true);
    const second = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(1_500);
    expect(await owner(second.key)).toBe(second.token);
    expect(second.fencingToken).toBe((first.fencingToken ?? 0) + 1);
    expect(await second.release()).toBe(true);
    expect(await exists(second.key)).toBe(0);

    // Renewal keeps a 1 s lock alive across 1.5 s with 100 ms round trips.
    let renewals = 0;
    const renewed = await newLocker({
      ttl: 1_000,
      renewalInterval: 200,
      autoRenewal: true,
      hooks: {
        onExtended: () => {
          renewals += 1;
        },
      },
    }).acquire(uniqueName('latency-renewal'));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // time itself is the subject
    expect(renewed.signal.aborted).toBe(false);
    expect(renewals).toBeGreaterThanOrEqual(3);
    expect(await renewed.release()).toBe(true);
  });

  describe('a connection cut while a waiter waits', () => {
    it.each(['between attempts', 'with an attempt in flight'])(
      'cut %s: the waiter acquires once the holder releases, or fails typed; never past its waitTimeout',
      async (when) => {
        const name = uniqueName('cut-wait');
        const holder = await adminLocker({ ttl: 30_000 }).acquire(name);
        const waiter = recordingWaiter(runner);
        const lock = new Locker(waiter.runner, { prefix: 'net:' }).createLock(name, {
          waitTimeout: 3_000,
          retryDelay: 100,
        });
        const connectionsBefore = proxy.stats.connections;
        const started = performance.now();
        const waiting = settleTyped(() => lock.acquire());
        if (when === 'between attempts') {
          await waiter.settled.reached(2); // two attempts found the lock held: it sleeps until the next
          proxy.cutAll();
        } else {
          proxy.setLatency(50); // each attempt now spends 100 ms on the wire
          await waiter.sent.reached(waiter.sent.count + 1);
          setImmediate(() => proxy.cutAll()); // once the attempt has left the client
        }
        expect(await holder.release()).toBe(true);

        const outcome = await waiting;
        expect(performance.now() - started).toBeLessThan(3_000 + 2_000);
        // The cut was felt: the client had to connect again.
        await waitFor(async () => proxy.stats.connections > connectionsBefore, 5_000);
        if ('value' in outcome) {
          expect(outcome.value).toBe(true);
          expect(await owner(lock.key)).toBe(lock.token);
          expect(await lock.release()).toBe(true);
        } else {
          expect(['REDIS_ERROR', 'REDIS_TIMEOUT', 'LOCK_NOT_ACQUIRED']).toContain(outcome.error.code);
          // Nothing of the waiter's stays behind: its in-flight attempt, if it ran, is released.
          await waitFor(async () => (await owner(lock.key)) !== lock.token, 2_000);
        }
        console.info(
          `[${kind}] cut ${when}: ${'value' in outcome ? 'acquired' : outcome.error.code} after ${waiter.calls.filter((call) => call === 'acquire').length} attempts`,
        );
      },
    );

    it('with reconnection refused and the lock never released, the waiter ends typed, by its waitTimeout', async () => {
      const name = uniqueName('cut-refused');
      const holder = await adminLocker({ ttl: 30_000 }).acquire(name);
      const waiter = recordingWaiter(runner);
      const waitTimeout = 1_500;
      const started = performance.now();
      const waiting = settleTyped(() =>
        new Locker(waiter.runner, { prefix: 'net:' }).acquire(name, { waitTimeout, retryDelay: 100 }),
      );
      await waiter.settled.reached(2);
      proxy.refuse(true);
      proxy.cutAll();
      const outcome = await waiting;
      expect(performance.now() - started).toBeLessThan(waitTimeout + 2_000);
      if (!('error' in outcome)) throw new Error('acquired a lock that another holder never released');
      expect(outcome.error.code).toMatch(/^(REDIS_ERROR|REDIS_TIMEOUT|LOCK_NOT_ACQUIRED)$/);
      if (LockAcquireError.isInstance(outcome.error)) expect(outcome.error.attempts).toBeGreaterThan(1);
      expect(await owner(holder.key)).toBe(holder.token);
      expect(await holder.release()).toBe(true);
    });
  });
});
