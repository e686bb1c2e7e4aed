/** Fencing tokens: strictly increasing across clients. */
import type { ScriptRunner } from '@lock/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeFencing(ctx: SuiteContext): void {
  const { command, newLocker } = ctx;
  describe('fencing tokens', () => {
    it('strictly increase across 2 clients × 500 acquisitions', async () => {
      const second = await ctx.connect();
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
      await Promise.all([worker(ctx.client.runner), worker(second.runner)]);
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
}
