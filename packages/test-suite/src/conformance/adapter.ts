/**
 * The adapter itself: its own subscriber connection, the user's client it never closes, and the
 * server it describes (so a Redlock Locker can refuse two clients of one server).
 */
import { Locker, LockOptionError } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { AdapterRunner } from '../adapter-under-test.js';
import type { SuiteContext } from '../context.js';
import { recordingRunner, uniqueName, waitFor } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeAdapter(ctx: SuiteContext): void {
  const { newLocker } = ctx;
  describe('the adapter', () => {
    it("never closes the user's client; its own subscriber connection closes when idle or on close()", async () => {
      const own = await ctx.adapter.connect(ctx.target.url);
      // Subscriber connections: subscribed now, or last used to (un)subscribe (RESP3 clients
      // leave pub/sub mode when they unsubscribe from everything).
      const subscribers = async () =>
        (await ctx.target.everyNode(['CLIENT', 'LIST']))
          .join('\n')
          .split('\n')
          .filter((line) => /\bsub=[1-9]|cmd=(un)?subscribe\b/.test(line)).length;
      // Other tests' runners close their idle subscriber connections within a second.
      await waitFor(async () => (await subscribers()) === 0, 5_000);

      const locker = newLocker({ retryCount: 3, retryDelay: 5_000 }, own.runner);
      const name = uniqueName('client-kept');
      const waitOnce = async () => {
        const holder = await newLocker({}, recordingRunner(ctx.client.runner)).acquire(name);
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

    it.runIf(!ctx.adapter.cluster)(
      'describes its server, so a Redlock Locker over two clients of one server is refused',
      async () => {
        const [second, third] = await Promise.all([ctx.connect(), ctx.connect()]);
        // Adapters describe their client's server as `host:port`.
        const server = (ctx.client.runner as AdapterRunner & { describe?: () => string }).describe?.();
        expect(server).toBe(new URL(ctx.target.url).host);
        let error: unknown;
        try {
          new Locker([ctx.client.runner, second.runner, third.runner]);
        } catch (caught) {
          error = caught;
        }
        expect(LockOptionError.isInstance(error), String(error)).toBe(true);
        expect((error as LockOptionError).message).toContain(
          `runners 0 and 1 both describe the server ${server}`,
        );
      },
    );
  });
}
