import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_SCRIPTS } from '../src/scripts/index.js';
import {
  compileScript,
  GENERATED_MODULE,
  generateScriptsModule,
  type ReadScriptFile,
} from '../tools/generate-scripts.js';

// The Lua lives in src/scripts/*.lua; core ships the module generated from it. These checks keep
// that module in step with the .lua files and hold the files to their layout. That each SHA-1 is
// what Redis computes is proven against a real server by the conformance suite (SCRIPT LOAD).
describe('generated scripts module', () => {
  it('is up to date with the .lua files (else run `pnpm --filter @lock/core generate`)', () => {
    expect(readFileSync(GENERATED_MODULE, 'utf8')).toBe(generateScriptsModule());
  });

  it('pins the SHA-1 of each source, under unique names', () => {
    for (const script of ALL_SCRIPTS) {
      expect(createHash('sha1').update(script.source).digest('hex'), script.name).toBe(script.sha1);
    }
    expect(new Set(ALL_SCRIPTS.map((script) => script.name)).size).toBe(ALL_SCRIPTS.length);
  });

  it('sends no comments, and no KEYS or ARGV outside the bindings', () => {
    for (const script of ALL_SCRIPTS) {
      const lines = script.source.split('\n');
      expect(
        lines.filter((line) => /^\s*--/.test(line)),
        script.name,
      ).toEqual([]);
      const raw = lines.filter((line) => /\b(KEYS|ARGV)\b/.test(line));
      expect(
        raw.every((line) => /^local \w+ = ((KEYS|ARGV)\[\d+\]|\{unpack\((KEYS|ARGV), \d+\)\})$/.test(line)),
        script.name,
      ).toBe(true);
    }
  });
});

describe('script layout rules', () => {
  const files = (entries: Record<string, string>): ReadScriptFile => {
    return (path) => {
      const text = entries[path];
      if (text === undefined) throw new Error(`no file ${path}`);
      return text;
    };
  };
  const header = '-- s: does it.\n-- KEYS[1] key: a key.\n-- ARGV[1] value: a value.\n-- Returns 1.\n';
  const bindings = 'local key = KEYS[1]\nlocal value = ARGV[1]\n';

  it('compiles a well-formed script, with its library functions ahead of its locals', () => {
    const read = files({
      's.lua': `${header}${bindings}--!include lib/f.lua\n--!include lib/f.lua\n\nreturn f(key, value)\n`,
      'lib/f.lua':
        '-- f(a, b): sets a to b.\nlocal function f(a, b)\n  return redis.call("SET", a, b)\nend\n',
    });
    const script = compileScript('s', read);
    expect(script.exportName).toBe('S_SCRIPT');
    expect(script.source).toBe(
      'local function f(a, b)\n  return redis.call("SET", a, b)\nend\n' +
        'local key = KEYS[1]\nlocal value = ARGV[1]\nreturn f(key, value)',
    );
    expect(script.doc[0]).toBe('s: does it.');
  });

  it('rejects KEYS or ARGV read below the bindings', () => {
    const read = files({ 's.lua': `${header}${bindings}return redis.call('GET', KEYS[1])\n` });
    expect(() => compileScript('s', read)).toThrow(/KEYS and ARGV are read only in the bindings/);
  });

  it('rejects a binding the header does not state, or out of order', () => {
    expect(() =>
      compileScript('s', files({ 's.lua': `${header}local key = KEYS[1]\nlocal other = ARGV[1]\n` })),
    ).toThrow(/ARGV\[1\] other/);
    expect(() =>
      compileScript('s', files({ 's.lua': `${header}local value = ARGV[1]\nlocal key = KEYS[1]\n` })),
    ).toThrow(/bind KEYS before ARGV/);
    expect(() => compileScript('s', files({ 's.lua': `${header}local key = KEYS[1]\n` }))).toThrow(
      /ARGV\[1\] is in the header but not bound/,
    );
  });

  it('binds the rest of KEYS or ARGV to one list, as the last binding of its table', () => {
    const rest =
      '-- s: does it.\n-- KEYS[1..] keys: the keys.\n-- ARGV[1] value: a value.\n' +
      '-- ARGV[2..] more: the other values.\n-- Returns 1.\n';
    const restBindings =
      'local keys = {unpack(KEYS, 1)}\nlocal value = ARGV[1]\nlocal more = {unpack(ARGV, 2)}\n';
    const script = compileScript('s', files({ 's.lua': `${rest}${restBindings}return #keys\n` }));
    expect(script.source).toBe(`${restBindings}return #keys`);
    expect(() =>
      compileScript(
        's',
        files({
          's.lua': `${rest}local keys = {unpack(KEYS, 1)}\nlocal other = KEYS[2]\nlocal value = ARGV[1]\n`,
        }),
      ),
    ).toThrow(/the rest of KEYS is already bound/);
    expect(() =>
      compileScript(
        's',
        files({ 's.lua': `${header}local key = {unpack(KEYS, 1)}\nlocal value = ARGV[1]\n` }),
      ),
    ).toThrow(/KEYS\[1\.\.\] is in the header|header must state "-- KEYS\[1\.\.\] key/);
  });

  it('rejects a header without its name or its reply', () => {
    expect(() => compileScript('s', files({ 's.lua': `-- other: x.\n-- Returns 1.\nreturn 1\n` }))).toThrow(
      /must start with "-- s: "/,
    );
    expect(() => compileScript('s', files({ 's.lua': '-- s: x.\nreturn 1\n' }))).toThrow(/Returns/);
  });

  it('rejects a library that reads KEYS or ARGV instead of taking parameters', () => {
    const read = files({
      's.lua': `${header}${bindings}--!include lib/f.lua\nreturn f()\n`,
      'lib/f.lua': "local function f()\n  return redis.call('GET', KEYS[1])\nend\n",
    });
    expect(() => compileScript('s', read)).toThrow(/lib\/f.lua: must not read KEYS or ARGV/);
  });
});
