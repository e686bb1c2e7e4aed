import { expect } from 'vitest';
import { LockOptionError } from '../src/errors.js';
import type { LuaScript, ScriptArg, ScriptRunner } from '../src/port/runner.js';

/** A stand-in for Redis: records each script call and answers from `reply`. */
export function scriptedRunner(reply: (script: LuaScript) => unknown) {
  const calls: { script: string; keys: readonly string[]; args: readonly ScriptArg[] }[] = [];
  const runner: ScriptRunner = {
    async run(script, keys, args) {
      calls.push({ script: script.name, keys, args });
      return reply(script);
    },
  };
  return { runner, calls };
}

/** Asserts that `make` throws a `LockOptionError` about `option`. */
export function expectRefused(make: () => unknown, option: string): void {
  let error: unknown;
  try {
    make();
  } catch (caught) {
    error = caught;
  }
  expect(LockOptionError.isInstance(error)).toBe(true);
  expect((error as LockOptionError).option).toBe(option);
}
