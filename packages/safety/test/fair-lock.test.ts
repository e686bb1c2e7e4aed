/**
 * Fair lock under churn (issue 8): 200 acquisitions over three clients, granted in arrival order,
 * while waiters in between give up (abort, wait budget) or crash (a place left in the queue by a
 * waiter that never comes back). The holders never overlap and fencing tokens rise with every
 * grant.
 */
import { Locker } from '@lock/core';
import {
  addCrashedFairWaiter,
  type ConnectedClient,
  provisionRedis,
  type RedisInstance,
  waitFor,
} from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, connectClient } from '../src/clients.js';
import { uniqueName } from '../src/names.js';

const ROUNDS = 14;
const WAITERS_PER_ROUND = 20;

/** What a queued waiter will do before its turn comes. */
type Fate = 'acquire' | 'abort' | 'time-out' | 'crash';

/**
 * Per round of 20: two crashes (one whose place lapsed long before its turn, one still first in
 * line when its turn comes), two aborts and one wait budget running out; the rest acquire.
 */
const FATES: Readonly<Record<number, Fate>> = {
  4: 'crash',
  7: 'abort',
  10: 'time-out',
  13: 'abort',
  17: 'crash',
};
const CRASHED_PLACE_MS: Readonly<Record<number, number>> = { 4: 50, 17: 250 };

/** Queue states change within a round trip: poll for them every 2 ms. */
const QUEUE_POLL_MS = 2;

for (const kind of CLIENT_KINDS) {
  describe(`fair lock under churn: ${kind}`, () => {
    let redis: RedisInstance;
    const clients: ConnectedClient[] = [];

    beforeAll(async () => {
      redis = await provisionRedis();
      for (let index = 0; index < 3; index += 1) clients.push(await connectClient(kind, redis.url));
    });

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await redis?.stop();
    });

    it(`grants 200+ acquisitions in arrival order while waiters give up or crash`, async () => {
      const admin = clients[0] as ConnectedClient;
      const name = uniqueName('fair-churn');
      const key = `fair:{${name}}`;
      const queue = `${key}:queue`;
      const lockers = clients.map(
        (client) => new Locker(client.runner, { prefix: 'fair:', fair: true, retryDelay: 40 }),
      );
      const isQueued = async (token: string) => (await admin.command(['ZSCORE', queue, token])) !== null;

      const grants: string[] = [];
      const tokens: number[] = [];
      let inside = 0;
      let overlaps = 0;
      let quitters = 0;
      let crashes = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        const holder = await (lockers[round % 3] as Locker).acquire(name);
        const expected: string[] = [];
        const waits: Promise<unknown>[] = [];
        for (let index = 0; index < WAITERS_PER_ROUND; index += 1) {
          const id = `r${round}w${index}`;
          const fate = FATES[index] ?? 'acquire';
          if (fate === 'crash') {
            await addCrashedFairWaiter(admin.command, key, id, CRASHED_PLACE_MS[index] ?? 0);
            crashes += 1;
            continue;
          }
          const controller = new AbortController();
          const lock = (lockers[index % 3] as Locker).createLock(name, {
            waitTimeout: fate === 'time-out' ? 60 : 60_000,
          });
          const wait = lock.acquire({ signal: controller.signal }).then(async (acquired) => {
            if (!acquired) return;
            inside += 1;
            if (inside > 1) overlaps += 1;
            grants.push(id);
            tokens.push(lock.fencingToken ?? -1);
            await new Promise((resolve) => setImmediate(resolve));
            inside -= 1;
            await lock.release();
          });
          await waitFor(() => isQueued(lock.token), 5_000, QUEUE_POLL_MS);
          if (fate === 'acquire') {
            expected.push(id);
            waits.push(wait);
          } else {
            quitters += 1;
            if (fate === 'abort') controller.abort();
            // A quitter leaves the queue itself, before the line reaches it.
            waits.push(wait.catch(() => {}));
            await waitFor(async () => !(await isQueued(lock.token)), 5_000, QUEUE_POLL_MS);
          }
        }
        const before = grants.length;
        await holder.release();
        await Promise.all(waits);
        expect(grants.slice(before)).toEqual(expected);
      }

      expect(grants.length).toBe(ROUNDS * WAITERS_PER_ROUND - quitters - crashes);
      expect(grants.length).toBeGreaterThanOrEqual(200);
      expect(quitters).toBeGreaterThan(0);
      expect(crashes).toBeGreaterThan(0);
      expect(overlaps).toBe(0);
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      expect(new Set(tokens).size).toBe(tokens.length);
      // Nothing lingers: the queue keys expire once nobody waits.
      await waitFor(
        async () => Number(await admin.command(['EXISTS', queue, `${key}:queue-deadlines`])) === 0,
        5_000,
      );
    });
  });
}
