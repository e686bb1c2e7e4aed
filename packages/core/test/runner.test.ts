import { describe, expect, expectTypeOf, it } from 'vitest';
import { createScriptRunner, isNoScriptError, type ScriptRunner } from '../src/port/runner.js';
import { ALL_SCRIPTS } from '../src/scripts/index.js';

// Pure logic of the EVALSHA → EVAL fallback. Whether it works against Redis is proven by the
// conformance suite (SCRIPT FLUSH recovery); this only pins the decision rule.
describe('createScriptRunner (pure logic)', () => {
  const script = ALL_SCRIPTS[0] as (typeof ALL_SCRIPTS)[number];

  it('the port stays one method', () => {
    expectTypeOf<keyof ScriptRunner>().toEqualTypeOf<'run'>();
  });

  it('sends EVALSHA with the precomputed SHA-1 and stringified args', async () => {
    const sent: unknown[][] = [];
    const runner = createScriptRunner({
      evalsha: async (...args) => {
        sent.push(['evalsha', ...args]);
        return 1;
      },
      eval: async () => {
        throw new Error('EVAL must not be sent');
      },
    });
    expect(await runner.run(script, ['k'], ['token', 1000])).toBe(1);
    expect(sent).toEqual([['evalsha', script.sha1, ['k'], ['token', '1000']]]);
  });

  it('falls back to EVAL on NOSCRIPT only', async () => {
    const calls: string[] = [];
    const noScript = Object.assign(new Error('NOSCRIPT No matching script. Please use EVAL.'), {
      name: 'ReplyError',
    });
    const runner = createScriptRunner({
      evalsha: async () => {
        calls.push('evalsha');
        throw noScript;
      },
      eval: async (source) => {
        calls.push('eval');
        expect(source).toBe(script.source);
        return 'ok';
      },
    });
    expect(await runner.run(script, ['k'], [])).toBe('ok');
    expect(calls).toEqual(['evalsha', 'eval']);

    const failing = createScriptRunner({
      evalsha: async () => {
        throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
      },
      eval: async () => 'never',
    });
    await expect(failing.run(script, ['k'], [])).rejects.toThrow(/WRONGTYPE/);
  });

  it('recognises NOSCRIPT by the reply text', () => {
    expect(isNoScriptError(new Error('NOSCRIPT No matching script'))).toBe(true);
    expect(isNoScriptError(new Error('ERR something else'))).toBe(false);
    expect(isNoScriptError('NOSCRIPT')).toBe(false);
  });
});
