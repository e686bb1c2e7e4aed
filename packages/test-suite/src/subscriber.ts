/**
 * The subscriber-connection suite: what an adapter's own connection for release notifications
 * (its client's `duplicate()`) does when it cannot connect, when the server goes away under it,
 * and when it does not answer QUIT. Run by every adapter and client version, under each set of
 * client options that changes how the client behaves offline (ioredis `enableOfflineQueue`).
 *
 * The subscriber is kept from connecting by the server itself: `CONFIG SET maxclients` to the
 * number of clients connected, so every new connection is refused while the user's client stays
 * up. Redis counts each refused connection (`rejected_connections`), which tells whether a closed
 * subscriber still tries to reconnect. Those tests change the server's configuration, so they
 * need the server the suite starts itself and are skipped on a `REDIS_URL`.
 */
import { LockAcquireError, Locker } from '@lock/core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { ConnectedClient } from './adapter-under-test.js';
import { elapse, uniqueName, waitFor } from './helpers.js';
import { type FaultProxy, startFaultProxy } from './redis/fault-proxy.js';
import { provisionRedis, type RedisInstance } from './redis/redis-server.js';
import { closeClient, codeOf, infoField, runChild, timed } from './subscriber-support.js';

/** What the child process of the suite is asked to do (passed to it as JSON). */
export interface SubscriberChildTask {
  readonly url: string;
  readonly prefix: string;
  /** A lock the suite holds, so the child waits and opens its subscriber connection. */
  readonly name: string;
  /** The child's `acquire(name, { waitTimeout })`. */
  readonly waitTimeout: number;
  /** Whether the child calls `runner.close()` after the acquire settled. */
  readonly closeRunner: boolean;
}

/** One set of client options the suite runs under. */
export interface SubscriberClientVariant {
  /** Shown in test names, e.g. `enableOfflineQueue: false`. */
  readonly label: string;
  /** Connects a client with these options to `url` and wraps it with the adapter. */
  connect(url: string): Promise<ConnectedClient>;
  /**
   * The arguments to `node` for a child process that connects a client with these options, runs
   * `acquire(task.name, { waitTimeout: task.waitTimeout })` on a `Locker` with `task.prefix` over
   * the adapter's runner (the built `dist`), calls `runner.close()` when `task.closeRunner`,
   * closes its own client (as any app does), writes one JSON line `{ "outcome": string,
   * "settledMs": number }` (outcome: `acquired` or the error's code) and then ends by itself.
   */
  childArgs(task: SubscriberChildTask): readonly string[];
}

/** The adapter under test for {@link runSubscriberSuite}. */
export interface SubscriberAdapterUnderTest {
  /** Shown in test names, e.g. `ioredis 6`. */
  readonly name: string;
  readonly variants: readonly SubscriberClientVariant[];
}

/** `runner.close()`'s bound: the notifier's 1 s close timeout, plus room for a loaded machine. */
const CLOSE_BOUND_MS = 1_500;
/**
 * How long a subscriber that was closed is watched for reconnect attempts: longer than the
 * longest reconnect delay either client reaches in these tests (ioredis: 50 ms per attempt, at
 * most 2 s; node-redis 5/6: 50 ms doubled per attempt, at most 2 s plus up to 200 ms jitter;
 * node-redis 4: at most 500 ms).
 */
const QUIET_WINDOW_MS = 2_500;
/** The wait budget of the waiters in these tests. */
const WAIT_TIMEOUT = 500;
/** What core promises for an acquire: settled by waitTimeout plus WAIT_TIMEOUT_MARGIN (200 ms). */
const ACQUIRE_SETTLE_BOUND_MS = WAIT_TIMEOUT + 200;
/**
 * How long a child process whose subscriber could not connect may take to exit after it started,
 * its own start-up and the client's connect included: the acquire (up to the subscribe timeout,
 * 2 s), the idle close (1 s), and the client's own timers after a disconnect (ioredis keeps one
 * for its 2 s `disconnectTimeout`; node-redis finishes the reconnect delay it was sleeping).
 */
const CHILD_EXIT_BOUND_MS = 8_000;
/** The same for a child that calls `runner.close()` after the acquire settled. */
const CHILD_EXIT_AFTER_CLOSE_BOUND_MS = 6_500;

const PREFIX = 'subscriber:';
const noop = () => {};

/**
 * Registers the subscriber-connection suite for `adapter`, once per client variant. Call it at the
 * top level of a test file; it provisions its own Redis.
 */
export function runSubscriberSuite(adapter: SubscriberAdapterUnderTest): void {
  describe(`subscriber connection: ${adapter.name}`, () => {
    let redis: RedisInstance;
    // Talks to the server directly for setup and measurements; never used for locks.
    let admin: ConnectedClient;
    let maxclients: string;
    const proxies: FaultProxy[] = [];

    beforeAll(async () => {
      redis = await provisionRedis();
      const first = adapter.variants[0];
      if (first === undefined) throw new Error(`${adapter.name} has no client variant`);
      admin = await first.connect(redis.url);
      const reply = (await admin.command(['CONFIG', 'GET', 'maxclients'])) as unknown;
      const value = Array.isArray(reply) ? reply[1] : (reply as Record<string, unknown>)?.maxclients;
      maxclients = String(value ?? '10000');
    }, 60_000);

    afterAll(async () => {
      await Promise.all(proxies.map((proxy) => proxy.close()));
      await admin?.command(['CONFIG', 'SET', 'maxclients', maxclients]).catch(noop);
      await admin?.close();
      await redis?.stop();
    });

    /** Skips a test that changes the server's configuration when the server is not ours. */
    const ownServerOnly = (context: TestContext) => {
      if (redis.source === 'REDIS_URL') context.skip('changes maxclients; needs the suite’s own Redis');
    };
    const connectedClients = () => infoField(admin, 'clients', 'connected_clients');
    const rejectedConnections = () => infoField(admin, 'stats', 'rejected_connections');
    /** From now on the server refuses every connection beyond `room` more than are open now. */
    const refuseNewClients = async (room = 0) => {
      const count = await connectedClients();
      await admin.command(['CONFIG', 'SET', 'maxclients', String(count + room)]);
    };
    const acceptClients = () => admin.command(['CONFIG', 'SET', 'maxclients', maxclients]);
    /** Waits until the server has refused a connection since `before`: the subscriber is trying. */
    const untilRefused = async (before: number) => {
      await waitFor(async () => (await rejectedConnections()) > before, 5_000);
    };
    /** Fails if the server sees a refused connection during the next {@link QUIET_WINDOW_MS}. */
    const expectNoReconnects = async () => {
      const before = await rejectedConnections();
      await elapse(QUIET_WINDOW_MS);
      expect(await rejectedConnections(), 'connections refused after the subscriber was closed').toBe(before);
    };
    /** Connections that are (or were last) subscribers, as CLIENT LIST shows them. */
    const subscriberLines = async () =>
      String(await admin.command(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => /\bsub=[1-9]|cmd=(un)?subscribe\b/.test(line));
    /** Kills every connection to the server but those with the given ids. */
    const killAllBut = async (keep: readonly string[]) => {
      for (const line of String(await admin.command(['CLIENT', 'LIST'])).split('\n')) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        if (id !== undefined && !keep.includes(id)) await admin.command(['CLIENT', 'KILL', 'ID', id]);
      }
    };
    const holdLock = (name: string) => new Locker(admin.runner, { prefix: PREFIX }).acquire(name);

    for (const variant of adapter.variants) {
      describe(variant.label, () => {
        it('runner.close() resolves within 1.5 s while the subscriber cannot connect (maxclients), and it stops trying', async (context) => {
          ownServerOnly(context);
          const client = await variant.connect(redis.url);
          try {
            const refusedBefore = await rejectedConnections();
            await refuseNewClients();
            const subscribing = timed(client.runner.subscribe(uniqueName('stuck'), noop));
            await untilRefused(refusedBefore);
            const closing = await timed(client.runner.close());
            expect(closing.rejected || closing.timedOut).toBe(false);
            expect(closing.ms).toBeLessThan(CLOSE_BOUND_MS);
            const subscription = await subscribing;
            expect(subscription.rejected, 'the subscription settled').toBe(true);
            expect(subscription.ms).toBeLessThan(CLOSE_BOUND_MS + 500);
            await expectNoReconnects();
          } finally {
            await acceptClients();
            await closeClient(client);
          }
        });

        it('a subscription that cannot be made rejects within its 2 s subscribe timeout; idle, the subscriber then stops trying', async (context) => {
          ownServerOnly(context);
          const client = await variant.connect(redis.url);
          try {
            const refusedBefore = await rejectedConnections();
            await refuseNewClients();
            const subscription = await timed(client.runner.subscribe(uniqueName('stuck'), noop));
            expect(subscription.rejected, 'the subscription settled').toBe(true);
            expect(subscription.ms).toBeLessThan(2_000 + 500);
            expect(await rejectedConnections()).toBeGreaterThan(refusedBefore);
            // Nobody waits any more: the idle close (1 s) gives the connection up.
            await elapse(1_000 + 300);
            await expectNoReconnects();
          } finally {
            await acceptClients();
            await closeClient(client);
          }
        });

        it('the idle close during an outage does not leak the subscriber: it stops reconnecting', async (context) => {
          ownServerOnly(context);
          const client = await variant.connect(redis.url);
          try {
            const unsubscribe = await client.runner.subscribe(uniqueName('idle'), noop);
            unsubscribe();
            const idleSince = performance.now();
            // The outage, for the subscriber only: its connection is cut and cannot come back.
            await refuseNewClients(-1);
            const refusedBefore = await rejectedConnections();
            const own = String(await client.command(['CLIENT', 'ID']));
            await killAllBut([String(await admin.command(['CLIENT', 'ID'])), own]);
            await untilRefused(refusedBefore);
            // The idle close (1 s after the last waiter left) runs during the outage.
            await elapse(Math.max(0, idleSince + 1_000 + 300 - performance.now()));
            await expectNoReconnects();
          } finally {
            await acceptClients();
            await closeClient(client);
          }
        });

        it('runner.close() resolves within 1.5 s when the server went away under an open subscriber', async () => {
          const proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
          proxies.push(proxy);
          const client = await variant.connect(proxy.url);
          try {
            await client.runner.subscribe(uniqueName('down'), noop);
            expect(await subscriberLines()).toHaveLength(1);
            // Down: every connection is cut, every new one closed at once.
            proxy.refuse(true);
            proxy.cutAll();
            const closing = await timed(client.runner.close());
            expect(closing.rejected || closing.timedOut).toBe(false);
            expect(closing.ms).toBeLessThan(CLOSE_BOUND_MS);
            // Back up: the user's client reconnects, the closed subscriber does not.
            proxy.heal();
            await waitFor(async () => (await client.command(['PING']).catch(() => '')) === 'PONG', 5_000);
            const deadline = performance.now() + QUIET_WINDOW_MS;
            while (performance.now() < deadline) {
              expect(await subscriberLines()).toEqual([]);
              expect(proxy.stats.open).toBeLessThanOrEqual(1);
              await elapse(100);
            }
          } finally {
            proxy.heal();
            await closeClient(client);
          }
        });

        it('runner.close() resolves within 1.5 s when QUIT is never answered, and the connection is gone', async () => {
          const proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
          proxies.push(proxy);
          const client = await variant.connect(proxy.url);
          try {
            await client.runner.subscribe(uniqueName('unanswered'), noop);
            expect(await subscriberLines()).toHaveLength(1);
            proxy.blackhole();
            const closing = await timed(client.runner.close());
            expect(closing.rejected || closing.timedOut).toBe(false);
            expect(closing.ms).toBeLessThan(CLOSE_BOUND_MS);
            // What the client sent meanwhile was lost: heal() closes those connections.
            proxy.heal();
            await waitFor(async () => (await subscriberLines()).length === 0, 5_000);
            const deadline = performance.now() + QUIET_WINDOW_MS;
            while (performance.now() < deadline) {
              expect(await subscriberLines()).toEqual([]);
              await elapse(100);
            }
          } finally {
            proxy.heal();
            await closeClient(client);
          }
        });

        // Depends on core starting the subscription in the background and polling meanwhile.
        it(`acquire({ waitTimeout: ${WAIT_TIMEOUT} }) settles within ${ACQUIRE_SETTLE_BOUND_MS} ms while the subscriber cannot connect`, async (context) => {
          ownServerOnly(context);
          const name = uniqueName('budget');
          const holder = await holdLock(name);
          const client = await variant.connect(redis.url);
          try {
            const refusedBefore = await rejectedConnections();
            await refuseNewClients();
            const acquiring = await timed(
              new Locker(client.runner, { prefix: PREFIX }).acquire(name, { waitTimeout: WAIT_TIMEOUT }),
            );
            expect(acquiring.rejected, 'the acquire settled').toBe(true);
            expect(LockAcquireError.isInstance(acquiring.error)).toBe(true);
            expect(codeOf(acquiring.error)).toBe('LOCK_NOT_ACQUIRED');
            expect(await rejectedConnections()).toBeGreaterThan(refusedBefore);
            expect(acquiring.ms).toBeLessThan(ACQUIRE_SETTLE_BOUND_MS + 300);
            const closing = await timed(client.runner.close());
            expect(closing.ms).toBeLessThan(CLOSE_BOUND_MS);
          } finally {
            await acceptClients();
            await closeClient(client);
            await holder.release();
          }
        });

        for (const closeRunner of [false, true]) {
          const how = closeRunner ? 'after runner.close()' : 'by itself, without runner.close()';
          it(`a process whose subscriber cannot connect exits ${how} once its acquire gave up`, async (context) => {
            ownServerOnly(context);
            const name = uniqueName('child');
            const holder = await holdLock(name);
            try {
              const refusedBefore = await rejectedConnections();
              // Room for the child's own client, none for its subscriber connection.
              await refuseNewClients(1);
              const bound = closeRunner ? CHILD_EXIT_AFTER_CLOSE_BOUND_MS : CHILD_EXIT_BOUND_MS;
              const run = await runChild(
                variant.childArgs({
                  url: redis.url,
                  prefix: PREFIX,
                  name,
                  waitTimeout: WAIT_TIMEOUT,
                  closeRunner,
                }),
                bound + 5_000,
              );
              expect(run.signal, `the child had to be killed; stderr: ${run.stderr}`).toBeNull();
              expect(run.code, run.stderr).toBe(0);
              expect(run.report?.outcome).toBe('LOCK_NOT_ACQUIRED');
              expect(await rejectedConnections()).toBeGreaterThan(refusedBefore);
              expect(run.livedMs).toBeLessThan(bound);
            } finally {
              await acceptClients();
              await holder.release();
            }
          });
        }
      });
    }
  });
}
