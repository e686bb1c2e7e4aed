/**
 * On a real Redis Cluster: the primary that holds a lock dies (SIGKILL) and its replica takes
 * over. Redis replicates asynchronously, so what survives depends on whether the lock's writes
 * reached the replica before the crash. Each test makes that certain one way or the other, then
 * checks what is guaranteed and prints what was observed (timings relative to the kill), on both
 * adapters.
 *
 * - Replicated (`WAIT 1`): the lock and its fencing counter survive. The holder keeps the lock if
 *   its renewal reaches the new primary before its deadline, else it is told through
 *   `lock.signal`; the next holder's fencing token is higher either way.
 * - Not replicated (the replica frozen and cut off while the lock is taken): the lock vanishes with
 *   the primary. The holder is told within its ttl, someone else can take the lock at once, and
 *   the fencing counter falls back, so the next token can repeat the lost holder's.
 */
import { Locker, type LockerOptions, LockLostError } from '@lock/core';
import { type RedisCluster, startRedisCluster, waitFor, whenAborted } from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClusterClient, connectClusterClient } from '../src/clients.js';
import { uniqueName } from '../src/names.js';

const usingClusterUrls = Boolean(process.env.REDIS_CLUSTER_URLS);
const TTL = 8_000;

/** What happened to a holder after the kill, in ms since the kill, printed for the record. */
class Timeline {
  private readonly start = performance.now();
  readonly events: string[] = [];
  /** ms since the kill of the first successful renewal after the promotion. */
  renewedAfterPromotion: number | undefined;
  private promotedAt: number | undefined;

  now(): number {
    return Math.round(performance.now() - this.start);
  }

  add(event: string): void {
    this.events.push(`${this.now()} ms ${event}`);
  }

  promoted(): void {
    this.promotedAt = this.now();
    this.add('replica promoted');
  }

  renewed(): void {
    if (this.promotedAt !== undefined && this.renewedAfterPromotion === undefined) {
      this.renewedAfterPromotion = this.now();
      this.add('first renewal on the new primary');
    }
  }

  print(label: string): void {
    console.info(`${label}\n  ${this.events.join('\n  ')}`);
  }
}

/** The Redis error behind a failed renewal, in a few words. */
function describeFailure(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return text.slice(0, 80);
}

for (const kind of CLIENT_KINDS) {
  describe.skipIf(usingClusterUrls)(`cluster failover: ${kind}`, () => {
    let cluster: RedisCluster;
    let client: ClusterClient;
    const newLocker = (options: LockerOptions = {}) =>
      new Locker(client.runner, { prefix: 'failover:', ...options });
    /** A locker whose renewals and losses land on `timeline`, once `timeline.start` is set. */
    const watchedLocker = (timeline: { current?: Timeline }) =>
      newLocker({
        ttl: TTL,
        renewalInterval: 500,
        autoRenewal: true,
        hooks: {
          onExtended: ({ renewal }) => {
            if (renewal) timeline.current?.renewed();
          },
          onRenewalFailed: ({ error }) => timeline.current?.add(`renewal failed: ${describeFailure(error)}`),
          onLost: ({ error }) => timeline.current?.add(`lost: ${error.reason}`),
        },
      });

    /** A lock name whose key lives on a primary that still has a replica, and that replica. */
    const nameWithReplica = async (label: string) => {
      const nodes = await cluster.topology();
      for (;;) {
        const name = uniqueName(label);
        const primary = await cluster.primaryFor(newLocker().createLock(name).key);
        const replica = nodes.find((node) => node.primaryId === primary.id && !node.failing);
        if (replica) return { name, primary, replica };
      }
    };

    /** A few holds first, replicated, so the fencing counter stands above 1 on both nodes. */
    const warmUp = async (name: string) => {
      for (let round = 0; round < 3; round += 1) await (await newLocker().acquire(name)).release();
      const key = newLocker().createLock(name).key;
      expect(await client.commandOnPrimaryOf(key, ['WAIT', '1', '1000'])).toBe(1);
    };

    beforeAll(async () => {
      cluster = await startRedisCluster();
      client = await connectClusterClient(kind, cluster);
    }, 60_000);

    afterAll(async () => {
      await client?.close();
      await cluster?.stop();
    });

    it('a replicated lock survives: the holder keeps it or is told in time; fencing stays monotonic', async () => {
      const { name, primary, replica } = await nameWithReplica('replicated');
      await warmUp(name);
      const watch: { current?: Timeline } = {};
      const lock = await watchedLocker(watch).acquire(name);
      // The acquire's writes (lock hash, fencing counter) are on the replica before the crash.
      expect(await client.commandOnPrimaryOf(lock.key, ['WAIT', '1', '1000'])).toBe(1);

      const timeline = new Timeline();
      watch.current = timeline;
      await cluster.killNode(primary.port);
      const promoted = await cluster.waitForPromotion(primary.port);
      timeline.promoted();
      expect(promoted.id).toBe(replica.id);
      // The lock came over with the replica: its owner and its remaining time.
      expect(await cluster.command(promoted, ['HGET', lock.key, 'owner'])).toBe(lock.token);

      // The holder learns its fate before its deadline: renewed on the new primary, or told.
      await waitFor(async () => timeline.renewedAfterPromotion !== undefined || lock.signal.aborted, TTL);
      if (lock.signal.aborted) {
        const reason = lock.signal.reason as LockLostError;
        expect(LockLostError.isInstance(reason)).toBe(true);
        expect(['unreachable', 'expired', 'taken']).toContain(reason.reason);
      } else {
        expect(await lock.isLockedByMe()).toBe(true);
        expect(await newLocker().inspect(name)).toMatchObject({
          owner: lock.token,
          fencingToken: lock.fencingToken,
        });
      }
      timeline.add(`holder ${lock.signal.aborted ? 'was told it lost the lock' : 'still holds the lock'}`);
      await lock.release();

      const next = await newLocker({ waitTimeout: TTL }).acquire(name);
      timeline.add(`next holder: fencing token ${next.fencingToken} after ${lock.fencingToken}`);
      expect(next.fencingToken).toBeGreaterThan(lock.fencingToken ?? Number.POSITIVE_INFINITY);
      await next.release();
      timeline.print(`${kind}, replicated lock:`);
    });

    it('an unreplicated lock is lost with its primary: the holder is told within its ttl; fencing can repeat', async () => {
      const { name, primary, replica } = await nameWithReplica('unreplicated');
      await warmUp(name);
      const watch: { current?: Timeline } = {};
      // Cut the replica off before the lock is taken: frozen, it cannot reconnect to its primary.
      await cluster.freezeNode(replica.port);
      let timeline: Timeline;
      let lock: Awaited<ReturnType<Locker['acquire']>>;
      try {
        expect(Number(await cluster.command(primary, ['CLIENT', 'KILL', 'TYPE', 'replica']))).toBe(1);
        lock = await watchedLocker(watch).acquire(name);
        timeline = new Timeline();
        watch.current = timeline;
        await cluster.killNode(primary.port);
      } finally {
        await cluster.thawNode(replica.port);
      }
      const promoted = await cluster.waitForPromotion(primary.port);
      timeline.promoted();
      expect(promoted.id).toBe(replica.id);
      expect(await cluster.command(promoted, ['EXISTS', lock.key])).toBe('0');

      // Told, never left believing it holds a lock that no longer exists.
      const reason = (await whenAborted(lock.signal)) as LockLostError;
      const toldAfter = timeline.now();
      timeline.add(`holder told: ${reason.reason}`);
      expect(LockLostError.isInstance(reason)).toBe(true);
      expect(['taken', 'unreachable', 'expired']).toContain(reason.reason);
      expect(toldAfter).toBeLessThan(TTL + 1_000);
      expect(await lock.release()).toBe(false);

      // The counter lost the increment too: the next token repeats the lost holder's. A fencing
      // store must not assume tokens are unique across an unreplicated failover.
      const next = await newLocker({ waitTimeout: TTL }).acquire(name);
      timeline.add(`next holder: fencing token ${next.fencingToken} after ${lock.fencingToken}`);
      expect(next.fencingToken).toBe(lock.fencingToken);
      await next.release();
      timeline.print(`${kind}, unreplicated lock:`);
    });
  });
}
