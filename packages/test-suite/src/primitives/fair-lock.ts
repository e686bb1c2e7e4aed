/**
 * Fair lock (`fair: true`): arrival order, wake-one hand-off, and waiters that give up or crash
 * leaving the queue without blocking the ones behind them.
 */
import { LockAcquireError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { ConnectedClient } from '../adapter-under-test.js';
import { recordingNotifyingRunner, serverTimeMs, uniqueName, waitFor, warmWakeChannel } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';

/** The Redis keys of the fair lock at `key`: its queue and the queue's deadlines. */
function fairQueueKeys(key: string) {
  return { queue: `${key}:queue`, deadlines: `${key}:queue-deadlines` };
}

/**
 * Puts at the tail of the queue of the fair lock at `key` exactly what a waiter killed while
 * queued leaves behind: its place, lapsing `placeMs` from now by the server's clock.
 */
export async function addCrashedFairWaiter(
  command: ConnectedClient['command'],
  key: string,
  token: string,
  placeMs: number,
): Promise<void> {
  const { queue, deadlines } = fairQueueKeys(key);
  const serverNow = await serverTimeMs(command);
  const tail = (await command(['ZRANGE', queue, '-1', '-1', 'WITHSCORES'])) as string[];
  const arrival = tail.length === 2 ? Number(tail[1]) + 1 : 1;
  await command(['ZADD', queue, String(arrival), token]);
  await command(['ZADD', deadlines, String(serverNow + placeMs), token]);
}

/** The Redis keys of the fair lock called `name` under the suite's prefix. */
function fairKeys(name: string) {
  const key = `primitives:{${name}}`;
  return { key, ...fairQueueKeys(key) };
}

export function describeFairLock(suite: PrimitiveSuiteContext): void {
  const queueLength = async (name: string) => Number(await suite.command('ZCARD', fairKeys(name).queue));
  const queued = async (name: string, token: string) =>
    (await suite.command('ZSCORE', fairKeys(name).queue, token)) !== null;
  /** A waiter that will never come back (a crashed process), at the tail of the queue. */
  const addGhostWaiter = (name: string, token: string, placeMs: number) =>
    addCrashedFairWaiter(suite.client().command, fairKeys(name).key, token, placeMs);

  describe('fair lock', () => {
    it('sends exactly one EVALSHA per acquire, extend and release in the steady state', async () => {
      const locker = suite.newLocker({ fair: true });
      const name = uniqueName('fair-steady');
      const warmUp = await locker.acquire(name);
      await warmUp.extend(100);
      await warmUp.release();

      const rounds = 10;
      const stats = await suite.commandsDuring(async () => {
        for (let round = 0; round < rounds; round += 1) {
          const lock = await locker.acquire(name);
          await lock.extend(1_000);
          await lock.release();
        }
      });
      // Redis also counts what the scripts run; anything else a client sent would show up. Per round:
      // acquire: TIME ZRANGEBYSCORE HMGET ZRANGE ZREM×2 HDEL INCR HSET PEXPIRE;
      // extend:  HGET PTTL PEXPIRE;
      // release: TIME ZRANGEBYSCORE ZREM×2 HDEL HGET DEL ZRANGE (nobody waits: no PUBLISH).
      expect(stats).toEqual({
        evalsha: rounds * 3,
        time: rounds * 2,
        zrangebyscore: rounds * 2,
        hmget: rounds,
        zrange: rounds * 2,
        zrem: rounds * 4,
        incr: rounds,
        hset: rounds,
        pexpire: rounds * 2,
        hget: rounds * 2,
        hdel: rounds * 2,
        pttl: rounds,
        del: rounds,
      });
    });

    it('hands the lock over in arrival order: each release hands it to the next waiter, who sends nothing to take it', async () => {
      const name = uniqueName('fair-order');
      // Long sleeps: a waiter that acquires within the test was woken, never polled.
      const options = { fair: true, retryDelay: 10_000, retryJitter: 0, waitTimeout: 30_000 } as const;
      const holder = await suite.newLocker(options).acquire(name);
      const recorder = recordingNotifyingRunner(suite.client().runner);
      const waiterLocker = suite.newLocker(options, recorder);
      await warmWakeChannel(waiterLocker, name);
      recorder.calls.length = 0;
      const order: number[] = [];
      const waiters: Promise<void>[] = [];
      for (let index = 0; index < 6; index += 1) {
        waiters.push(waiterLocker.withLock(name, () => void order.push(index)));
        await waitFor(async () => (await queueLength(name)) === index + 1, 5_000);
      }
      // Each waiter has tried once, while its Locker's wake channel was subscribed.
      await waitFor(async () => recorder.calls.filter((call) => call === 'fair-acquire').length === 6, 5_000);
      recorder.calls.length = 0;

      const releasedAt = performance.now();
      await holder.release();
      await Promise.all(waiters);

      expect(order).toEqual([0, 1, 2, 3, 4, 5]);
      // Each release handed the lock to the next in line, which took it without an attempt of its
      // own: the six releases are all the scripts the waiters sent.
      expect(recorder.calls.filter((call) => call === 'fair-acquire')).toHaveLength(0);
      expect(recorder.calls.filter((call) => call === 'fair-release')).toHaveLength(6);
      expect(performance.now() - releasedAt).toBeLessThan(5_000);
      expect(await queueLength(name)).toBe(0);
    });

    it('the releaser cannot barge: a free lock goes to the waiter first in line', async () => {
      const name = uniqueName('fair-barge');
      const locker = suite.newLocker({ fair: true, retryDelay: 10_000, waitTimeout: 30_000 });
      const holder = await locker.acquire(name);
      const waiter = locker.acquire(name);
      await waitFor(async () => (await queueLength(name)) === 1, 5_000);
      await holder.release();
      // Back at once, as a busy worker loop would be: it queues behind the waiter.
      const again = locker.acquire(name);
      const handedOver = await waiter;
      expect(handedOver.isHeld).toBe(true);
      await handedOver.release();
      await (await again).release();
    });

    it('a waiter that gives up (abort or wait budget) leaves the queue at once', async () => {
      const name = uniqueName('fair-give-up');
      const locker = suite.newLocker({ fair: true, retryDelay: 10_000 });
      const holder = await locker.acquire(name);

      const controller = new AbortController();
      const aborting = locker.createLock(name, { waitTimeout: 30_000 });
      const abortedWait = aborting.acquire({ signal: controller.signal }).catch((error: unknown) => error);
      await waitFor(() => queued(name, aborting.token), 5_000);
      const timingOut = locker.createLock(name, { waitTimeout: 300 });
      const timedOutWait = timingOut.acquire();
      await waitFor(() => queued(name, timingOut.token), 5_000);
      const patient = locker.createLock(name, { waitTimeout: 30_000 });
      const patientWait = patient.acquire();
      await waitFor(() => queued(name, patient.token), 5_000);

      controller.abort();
      const abortError = await abortedWait;
      expect(LockAcquireError.isInstance(abortError) && abortError.code).toBe('LOCK_ACQUIRE_ABORTED');
      expect(await timedOutWait).toBe(false);
      await waitFor(async () => (await queueLength(name)) === 1, 5_000);
      expect(await queued(name, patient.token)).toBe(true);

      const releasedAt = performance.now();
      await holder.release();
      expect(await patientWait).toBe(true);
      // Woken by the release: neither its 10 s sleep nor a lapsed place was waited for.
      expect(performance.now() - releasedAt).toBeLessThan(2_000);
      await patient.release();
    });

    it("a crashed waiter's place lapses by server time, and the waiters behind it go on", async () => {
      const name = uniqueName('fair-crash');
      const locker = suite.newLocker({ fair: true, retryDelay: 100, waitTimeout: 30_000 });
      const holder = await locker.acquire(name);
      await addGhostWaiter(name, 'crashed-waiter', 1_000);
      const behind = locker.createLock(name);
      const behindWait = behind.acquire();
      await waitFor(() => queued(name, behind.token), 5_000);

      const releasedAt = performance.now();
      await holder.release();
      expect(await behindWait).toBe(true);
      const waited = performance.now() - releasedAt;
      // Not before the ghost's place lapsed (it was first in line), and not long after.
      expect(waited).toBeGreaterThan(500);
      expect(waited).toBeLessThan(5_000);
      expect(await queued(name, 'crashed-waiter')).toBe(false);
      await behind.release();
    });

    it('tryAcquire never jumps the queue and never joins it', async () => {
      const name = uniqueName('fair-try');
      await addGhostWaiter(name, 'first-in-line', 10_000);
      const locker = suite.newLocker({ fair: true });
      expect(await locker.tryAcquire(name)).toBeNull();
      expect(await queueLength(name)).toBe(1);
      // A plain (non-fair) lock on the same name ignores the queue: mixing them is not FIFO,
      // though still mutually exclusive.
      const plain = await suite.newLocker().tryAcquire(name);
      expect(plain).not.toBeNull();
      expect(await locker.tryAcquire(name)).toBeNull();
      await plain?.release();
      await suite.command('DEL', fairKeys(name).queue, fairKeys(name).deadlines);
    });

    it('stays mutually exclusive with strictly increasing fencing tokens under contention', async () => {
      const name = uniqueName('fair-contention');
      const clients = await Promise.all([suite.connect(), suite.connect()]);
      const lockers = [suite.client(), ...clients].map((client) =>
        suite.newLocker({ fair: true, retryDelay: 50, waitTimeout: 30_000 }, client.runner),
      );
      let inside = 0;
      let overlaps = 0;
      const tokens: number[] = [];
      await Promise.all(
        Array.from({ length: 12 }, async (_, worker) => {
          const locker = lockers[worker % lockers.length];
          for (let round = 0; round < 5; round += 1) {
            await locker?.withLock(name, async (lock) => {
              inside += 1;
              if (inside > 1) overlaps += 1;
              tokens.push(lock.fencingToken ?? -1);
              await new Promise((resolve) => setImmediate(resolve));
              inside -= 1;
            });
          }
        }),
      );
      expect(overlaps).toBe(0);
      expect(tokens).toHaveLength(60);
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      expect(new Set(tokens).size).toBe(60);
    });

    it('re-enters a reentrant fair lock without queueing behind others', async () => {
      const name = uniqueName('fair-reentrant');
      const locker = suite.newLocker({ fair: true, reentrant: true, retryDelay: 10_000 });
      const lock = locker.createLock(name);
      expect(await lock.acquire()).toBe(true);
      const waiter = suite.newLocker({ fair: true, waitTimeout: 30_000, retryDelay: 10_000 }).acquire(name);
      await waitFor(async () => (await queueLength(name)) === 1, 5_000);
      expect(await lock.acquire()).toBe(true);
      expect(lock.holdCount).toBe(2);
      expect(await lock.release()).toBe(true);
      expect(await queueLength(name)).toBe(1);
      expect(await lock.release()).toBe(true);
      await (await waiter).release();
    });
  });
}
