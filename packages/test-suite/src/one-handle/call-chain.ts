/** One handle, concurrent calls: a call-chain re-entry never outlives the outer hold. */
import type { Lock, ScriptRunner } from '@lock/core';
import { describe, expect, it } from 'vitest';
import { elapse, recordingRunner, uniqueName, waitFor } from '../helpers.js';
import { deferred, delayingRunner, type NestingTarget, type OneHandleContext } from './support.js';

/** Registers the tests of this module with `ctx`. */
export function describeCallChainHolds(ctx: OneHandleContext): void {
  const { newLocker, otherLocker } = ctx;
  describe('call-chain re-entry never outlives the outer hold', () => {
    const mutexTarget = (name: string, runner: ScriptRunner): NestingTarget => {
      const locker = newLocker({}, runner);
      return {
        run: (fn, options) => locker.withLock(name, fn, options),
        holders: async () => {
          const { owner } = await newLocker().inspect(name);
          return owner === null ? [] : [owner];
        },
        contend: () => otherLocker().tryAcquire(name),
      };
    };
    const readWriteTarget =
      (mode: 'read' | 'write') =>
      (name: string, runner: ScriptRunner): NestingTarget => {
        const rw = newLocker({}, runner).readWriteLock(name);
        return {
          run: (fn, options) => (mode === 'read' ? rw.withRead(fn, options) : rw.withWrite(fn, options)),
          holders: async () => {
            const report = await newLocker().readWriteLock(name).inspect();
            return mode === 'read'
              ? report.readers.map((reader) => reader.token)
              : report.writer === null
                ? []
                : [report.writer.token];
          },
          contend: async () => {
            const rw = otherLocker().readWriteLock(name);
            return (await rw.tryAcquireWrite()) ?? (mode === 'write' ? rw.tryAcquireRead() : null);
          },
        };
      };
    const targets: [string, (name: string, runner: ScriptRunner) => NestingTarget][] = [
      ['withLock', mutexTarget],
      ['withWrite', readWriteTarget('write')],
      ['withRead', readWriteTarget('read')],
    ];

    /** What the nested callback saw, checked once it ran. */
    interface Seen {
      nestedHeld: boolean;
      heldInRedisByNested: boolean;
      anotherClientGotIt: boolean;
    }
    const look = async (target: NestingTarget, inner: Lock): Promise<Seen> => {
      const holders = await target.holders();
      const intruder = await target.contend();
      await intruder?.release();
      return {
        nestedHeld: inner.isHeld,
        heldInRedisByNested: holders.includes(inner.token),
        anotherClientGotIt: intruder !== null,
      };
    };
    const expected: Seen = { nestedHeld: true, heldInRedisByNested: true, anotherClientGotIt: false };

    it.each(targets)(
      '%s: a nested call started from a setTimeout after the outer callback settled acquires on its own',
      async (_label, targetFor) => {
        const name = uniqueName('nested-late');
        // The outer release stays in flight for 150 ms, so the nested call starts (at 20 ms)
        // after the outer callback settled but before its release reached Redis.
        const slowRelease = delayingRunner(ctx.client.runner, (script) => script.includes('release'), 150);
        const target = targetFor(name, slowRelease);
        const seen: { value?: Seen } = {};
        const nested: { done?: Promise<void> } = {};
        const outerDone: Promise<void> = target.run(async () => {
          setTimeout(() => {
            nested.done = target.run(
              async (inner) => {
                await outerDone; // the outer hold is over: its release went through
                seen.value = await look(target, inner);
              },
              { retryCount: 200, retryDelay: 20 },
            );
          }, 20);
        });
        await outerDone;
        await waitFor(async () => nested.done !== undefined, 2_000, 5);
        await nested.done;
        expect(seen.value, 'while the nested callback ran, after the outer hold ended').toEqual(expected);
        expect(await target.holders()).toEqual([]);
      },
    );

    it.each(targets)(
      '%s: a nested call started from a setTimeout while the outer callback runs keeps the lock held until it ends',
      async (_label, targetFor) => {
        const name = uniqueName('nested-outlives');
        const releases = recordingRunner(ctx.client.runner);
        const outerReleaseSettled = deferred();
        releases.onSettled = (script) => {
          if (script.includes('release')) outerReleaseSettled.resolve();
        };
        const target = targetFor(name, releases);
        const nestedStarted = deferred();
        const outerReturned = deferred();
        const seen: { value?: Seen } = {};
        const nested: { done?: Promise<void> } = {};
        const outerDone = target.run(async () => {
          try {
            setTimeout(() => {
              nested.done = target.run(async (inner) => {
                nestedStarted.resolve();
                await outerReturned.promise;
                // The outer release, if it does not wait for this callback, is done by now.
                await Promise.race([outerReleaseSettled.promise, elapse(300)]);
                seen.value = await look(target, inner);
              });
            }, 0);
            await nestedStarted.promise;
          } finally {
            outerReturned.resolve(); // returns while the nested callback still runs
          }
        });
        await waitFor(async () => nested.done !== undefined, 2_000, 5);
        await Promise.all([outerDone, nested.done]);
        expect(seen.value, 'while the nested callback ran, after the outer callback returned').toEqual(
          expected,
        );
        expect(await target.holders()).toEqual([]);
      },
    );
  });
}
