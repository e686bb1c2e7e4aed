/** Scripts: their SHA-1s, the recovery from SCRIPT FLUSH, and one round trip per call. */
import { ALL_SCRIPTS } from '@lock/core/adapter';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { uniqueName } from '../helpers.js';

/** Registers the tests of this module with `ctx`. */
export function describeScripts(ctx: SuiteContext): void {
  const { command, newLocker, statsPerPrimary, commandStats, namesOnEveryPrimary } = ctx;
  describe('scripts', () => {
    it('every script SHA-1 written in core matches SCRIPT LOAD on a real server', async () => {
      for (const script of ALL_SCRIPTS) {
        expect(await command('SCRIPT', 'LOAD', script.source), script.name).toBe(script.sha1);
      }
    });

    it('recovers from SCRIPT FLUSH with one EVAL per script, then goes back to EVALSHA', async () => {
      const locker = newLocker();
      const names = await namesOnEveryPrimary('flush');
      for (const name of names) await (await locker.acquire(name)).release();
      await ctx.target.everyPrimary(['SCRIPT', 'FLUSH']);
      await ctx.target.everyPrimary(['CONFIG', 'RESETSTAT']);

      for (const name of names) {
        for (let round = 0; round < 3; round += 1) {
          const lock = await locker.acquire(name);
          expect(await lock.extend(1_000)).toBe(true);
          expect(await lock.release()).toBe(true);
        }
      }
      // On each (flushed) primary, round 1's acquire, extend and release each hit NOSCRIPT once
      // and fall back to EVAL; on a cluster that happens per node, as each node is reached.
      const perPrimary = await statsPerPrimary();
      expect(perPrimary).toHaveLength(names.length);
      for (const stats of perPrimary) expect(stats).toMatchObject({ eval: 3, evalsha: 9 });
    });

    it('sends exactly one EVALSHA per acquire, extend and release in the steady state', async () => {
      const locker = newLocker();
      for (const name of await namesOnEveryPrimary('steady')) {
        const warmUp = await locker.acquire(name);
        await warmUp.extend(100);
        await warmUp.release();
      }
      await ctx.target.everyPrimary(['CONFIG', 'RESETSTAT']);

      const rounds = 10;
      for (let round = 0; round < rounds; round += 1) {
        const lock = await locker.acquire(uniqueName('steady'));
        await lock.extend(1_000);
        await lock.release();
      }
      const stats = await commandStats();
      delete stats.info;
      delete stats['config|resetstat'];
      // On a cluster, the harness (and a client refreshing its slot map) asks nodes for the
      // topology, and each replica acknowledges its primary's stream (REPLCONF ACK) once a second.
      delete stats.replconf;
      for (const name of Object.keys(stats)) if (name.startsWith('cluster|')) delete stats[name];
      // Redis counts the commands a script runs too: these are exactly the scripts' own calls
      // (acquire: HMGET EXISTS INCR HSET PEXPIRE; extend: HGET PTTL PEXPIRE; release: HGET EXISTS
      // DEL, and no PUBLISH, since nobody waits). Anything a client sent besides EVALSHA would
      // show up as an extra entry or count.
      expect(stats).toEqual({
        evalsha: rounds * 3,
        hmget: rounds,
        exists: rounds * 2,
        incr: rounds,
        hset: rounds,
        pexpire: rounds * 2,
        hget: rounds * 2,
        pttl: rounds,
        del: rounds,
      });
    });
  });
}
