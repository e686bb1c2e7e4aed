/** Mutual exclusion under contention from several clients. */
import { describe, expect, it } from 'vitest';
import type { ConnectedClient } from '../adapter-under-test.js';
import type { SuiteContext } from '../context.js';
import { elapse, uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeMutualExclusion(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('mutual exclusion', () => {
    it('24 concurrent acquirers over 4 clients: never two holders, exact non-atomic counter', async () => {
      const clients = await Promise.all(Array.from({ length: 4 }, () => ctx.connect()));
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
}
