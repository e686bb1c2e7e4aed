/** What the semaphore modules share. */
import type { LockError, ScriptRunner, Semaphore, SemaphoreOptions } from '@lock/core';
import { serverTimeMs } from '../helpers.js';
import type { PrimitiveSuiteContext } from '../primitives.js';

/** The error `operation` rejects with; fails the test if it resolves. */
export function rejectionOf(operation: Promise<unknown>): Promise<LockError> {
  return operation.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught as LockError,
  );
}

/** Semaphores over the suite's clients, and measurements of what their scripts do on the server. */
export function semaphoreTools(suite: PrimitiveSuiteContext) {
  const { command } = suite;
  const semaphore = (
    name: string,
    options: SemaphoreOptions,
    runner: ScriptRunner = suite.client().runner,
  ): Semaphore => suite.newLocker({}, runner).semaphore(name, options);
  const waitersKey = (sem: Semaphore) => `${sem.key}:waiters`;
  const serverNow = () => serverTimeMs(suite.client().command);
  /** How long each script that `work` sends runs on the server, in µs (from SLOWLOG). */
  const serverMicrosOfScripts = async (work: () => Promise<void>): Promise<number[]> => {
    // CONFIG GET is a flat [name, value] list, or a map (node-redis on RESP3).
    const config = (await command('CONFIG', 'GET', 'slowlog-log-slower-than')) as unknown;
    const before = String(Array.isArray(config) ? config[1] : Object.values(config as object)[0]);
    await command('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    try {
      await command('SLOWLOG', 'RESET');
      await work();
      const entries = (await command('SLOWLOG', 'GET', '128')) as [unknown, unknown, unknown, unknown[]][];
      return entries
        .filter(([, , , args]) => /^eval/i.test(String(args[0])))
        .map(([, , micros]) => Number(micros));
    } finally {
      await command('CONFIG', 'SET', 'slowlog-log-slower-than', before);
    }
  };

  return { semaphore, waitersKey, serverNow, serverMicrosOfScripts };
}
