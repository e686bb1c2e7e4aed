/** Redis Cluster only: every key of a lock in one slot, and notifications across nodes. */
import { LockOptionError, type ScriptRunner } from '@lock/core';
import { ALL_SCRIPTS, lockKey, type ReleaseNotifier } from '@lock/core/adapter';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { recordingRunner, uniqueName, waitFor } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeCluster(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe.runIf(ctx.adapter.cluster)('Redis Cluster only', () => {
    const theCluster = () => {
      if (!ctx.target.cluster) throw new Error('these tests need the suite to run on a cluster');
      return ctx.target.cluster;
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

    it("every key a lock uses (the lock, its fencing counter, its waiters) is in the lock's slot; its wake-ups come on its Locker's channel", async () => {
      const keys = new Set<string>();
      const channels = new Set<string>();
      const spy: ScriptRunner & ReleaseNotifier = {
        run: (script, scriptKeys, args) => {
          for (const key of scriptKeys) keys.add(key);
          return ctx.client.runner.run(script, scriptKeys, args);
        },
        subscribe: async (channel, listener) => {
          const unsubscribe = await ctx.client.runner.subscribe(channel, listener);
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
      for (const key of keys) expect(await theCluster().keySlot(key), key).toBe(slot);
      // Waiters are woken on one channel per Locker, not per lock: classic pub/sub channels reach
      // every node of a cluster, whatever their slot.
      expect([...channels]).toEqual([expect.stringMatching(/^conformance:wake:/)]);
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
        ctx.client.runner.run(acquireScript, [key(), `${key()}:fence`], ['token', 1_000, 1, 1]),
      ).rejects.toThrow(/CROSSSLOT/);

      const recorder = recordingRunner(ctx.client.runner);
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
}
