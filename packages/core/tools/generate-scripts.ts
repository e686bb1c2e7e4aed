/**
 * Builds src/scripts/scripts.generated.ts from the Lua files in src/scripts/: one `LuaScript` per
 * `*.lua` file, named after the file (`rw-read-acquire.lua` is `RW_READ_ACQUIRE_SCRIPT`, name
 * `rw-read-acquire`), with its SHA-1 computed here so that core needs no crypto at runtime.
 * Run by the core `build` script and by `pnpm --filter @lock/core generate`; a unit test fails
 * while the committed module differs from what this renders.
 *
 * A script file is laid out as:
 * 1. a header of `--` comment lines: `-- <name>: <what it does>`, then every `KEYS[i] <local>:`
 *    and `ARGV[i] <local>:` with its meaning, then `Returns …`. It becomes the export's TSDoc;
 * 2. one `local <name> = KEYS[i]` / `ARGV[i]` line per key and argument, in order. A script that
 *    takes any number of keys or arguments binds the rest of the table, from `i` on, to one list
 *    as the last binding of that table: `local <name> = {unpack(KEYS, i)}`, stated in the header
 *    as `KEYS[i..] <name>:`. Nothing below this block may read KEYS or ARGV, so the body only ever
 *    speaks of named values;
 * 3. `--!include lib/<file>.lua` lines: a library file defines one `local function` and reads no
 *    KEYS or ARGV. Included functions are placed at the very top of the source, before the
 *    bindings, so they cannot see the script's locals and depend only on their parameters;
 * 4. the body.
 * The source sent to Redis leaves out comment-only and blank lines.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The folder of the `.lua` files; library files are in its `lib/`. */
export const SCRIPTS_FOLDER = new URL('../src/scripts/', import.meta.url);
/** The module this tool writes. */
export const GENERATED_MODULE = new URL('scripts.generated.ts', SCRIPTS_FOLDER);

/** One compiled script. */
export interface CompiledScript {
  readonly name: string;
  readonly exportName: string;
  /** The header comment, without its `--` markers. */
  readonly doc: readonly string[];
  readonly source: string;
  readonly sha1: string;
}

/** Reads a file of the scripts folder by its path relative to it, e.g. `lib/take-lock.lua`. */
export type ReadScriptFile = (path: string) => string;

const BINDING = /^local (\w+) = (KEYS|ARGV)\[(\d+)\]$/;
const REST_BINDING = /^local (\w+) = \{unpack\((KEYS|ARGV), (\d+)\)\}$/;
const INCLUDE = /^--!include (lib\/[\w-]+\.lua)$/;
const HEADER_ENTRY = /^(KEYS|ARGV)\[(\d+)(\.\.)?\] (\w+)( \(optional\))?:/;
const READS_KEYS_OR_ARGV = /\b(KEYS|ARGV)\b/;

const isComment = (line: string): boolean => /^\s*--/.test(line);
const isBlank = (line: string): boolean => line.trim() === '';
const uncomment = (line: string): string => line.replace(/^--\s?/, '');

/** Compiles the script `<name>.lua`, throwing on any departure from the layout above. */
export function compileScript(name: string, read: ReadScriptFile): CompiledScript {
  const fail = (why: string): never => {
    throw new Error(`${name}.lua: ${why}`);
  };
  const lines = read(`${name}.lua`).split('\n');
  if (lines.some((line) => line.includes('--[['))) fail('block comments are not supported');

  let at = 0;
  const doc: string[] = [];
  while (at < lines.length && isComment(lines[at] as string) && !INCLUDE.test(lines[at] as string)) {
    doc.push(uncomment(lines[at] as string));
    at += 1;
  }
  if (!doc[0]?.startsWith(`${name}: `)) fail(`the header must start with "-- ${name}: "`);
  if (!doc.some((line) => line.startsWith('Returns'))) fail('the header must state what it Returns');

  const documented = new Map<string, string>();
  for (const line of doc) {
    const entry = HEADER_ENTRY.exec(line);
    if (entry) documented.set(`${entry[1]}[${entry[2]}${entry[3] ?? ''}]`, entry[4] as string);
  }
  const bound = new Map<string, string>();
  const next = { KEYS: 1, ARGV: 1 };
  const restBound = { KEYS: false, ARGV: false };
  const bindingAt = (line: string) => {
    const rest = REST_BINDING.exec(line);
    if (rest) return { rest: true, match: rest };
    const single = BINDING.exec(line);
    return single ? { rest: false, match: single } : undefined;
  };
  for (let binding = bindingAt(lines[at] ?? ''); binding; binding = bindingAt(lines[at] ?? '')) {
    const [, local, table, index] = binding.match as unknown as [string, string, 'KEYS' | 'ARGV', string];
    if (table === 'KEYS' && (next.ARGV > 1 || restBound.ARGV)) fail('bind KEYS before ARGV');
    if (restBound[table]) fail(`the rest of ${table} is already bound: it must be its last binding`);
    if (Number(index) !== next[table]) fail(`expected ${table}[${next[table]}], found ${table}[${index}]`);
    next[table] += 1;
    restBound[table] = binding.rest;
    bound.set(`${table}[${index}${binding.rest ? '..' : ''}]`, local);
    at += 1;
  }
  for (const [slot, local] of bound) {
    if (documented.get(slot) !== local) fail(`the header must state "-- ${slot} ${local}: …"`);
  }
  for (const slot of documented.keys()) {
    if (!bound.has(slot)) fail(`${slot} is in the header but not bound to a local`);
  }

  const included = new Map<string, string[]>();
  const body: string[] = [];
  for (const line of lines.slice(at)) {
    const include = INCLUDE.exec(line);
    if (include) {
      const path = include[1] as string;
      if (!included.has(path)) included.set(path, libraryCode(path, read(path)));
    } else if (READS_KEYS_OR_ARGV.test(line) && !isComment(line)) {
      fail(`KEYS and ARGV are read only in the bindings below the header: ${line.trim()}`);
    } else {
      body.push(line);
    }
  }

  // Library functions go first, where no local of the script is in scope yet: one that used a
  // name it was not given would read an undeclared global, which Redis refuses at once.
  const code = [...[...included.values()].flat(), ...lines.slice(0, at), ...body].filter(
    (line) => !isComment(line) && !isBlank(line),
  );
  const source = code.join('\n');
  const sha1 = createHash('sha1').update(source).digest('hex');
  const exportName = `${name.replaceAll('-', '_').toUpperCase()}_SCRIPT`;
  return { name, exportName, doc, source, sha1 };
}

/** The code lines of a library file, after checking it is one function of its parameters. */
function libraryCode(path: string, text: string): string[] {
  const code = text.split('\n').filter((line) => !isComment(line) && !isBlank(line));
  if (!code[0]?.startsWith('local function ')) throw new Error(`${path}: must define a local function`);
  if (code.some((line) => READS_KEYS_OR_ARGV.test(line))) {
    throw new Error(`${path}: must not read KEYS or ARGV; take them as parameters`);
  }
  if (text.split('\n').some((line) => INCLUDE.test(line))) throw new Error(`${path}: cannot include`);
  return code;
}

/** The names of the scripts in the scripts folder, sorted. */
export function scriptNames(): string[] {
  return readdirSync(SCRIPTS_FOLDER)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => file.slice(0, -'.lua'.length))
    .sort();
}

/** Reads from the scripts folder on disk. */
export const readFromDisk: ReadScriptFile = (path) => readFileSync(new URL(path, SCRIPTS_FOLDER), 'utf8');

const asTemplateLiteral = (text: string): string =>
  `\`${text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\``;

const asTsDocLine = (line: string): string => (line === '' ? ' *' : ` * ${line.replaceAll('*/', '*\\/')}`);
const asTsDoc = (doc: readonly string[]): string => ['/**', ...doc.map(asTsDocLine), ' */'].join('\n');

/** The text of the generated module for the given scripts. */
export function renderScriptsModule(scripts: readonly CompiledScript[]): string {
  const parts = [
    [
      '// Generated by packages/core/tools/generate-scripts.ts from src/scripts/*.lua: do not edit.',
      '// Edit the .lua files, then run `pnpm --filter @lock/core generate` (the core build runs it too).',
    ].join('\n'),
    "import type { LuaScript } from '../port/runner.js';",
  ];
  for (const script of scripts) {
    parts.push(
      [
        asTsDoc(script.doc),
        `export const ${script.exportName}: LuaScript = Object.freeze({`,
        `  name: '${script.name}',`,
        `  source: ${asTemplateLiteral(script.source)},`,
        `  sha1: '${script.sha1}',`,
        '});',
      ].join('\n'),
    );
  }
  parts.push(
    [
      '/** Every script, for preloading and for the SHA-1 test. */',
      'export const ALL_SCRIPTS: readonly LuaScript[] = Object.freeze([',
      ...scripts.map((script) => `  ${script.exportName},`),
      ']);',
    ].join('\n'),
  );
  return `${parts.join('\n\n')}\n`;
}

/** Compiles every script in the scripts folder and renders the module, without writing it. */
export function generateScriptsModule(read: ReadScriptFile = readFromDisk): string {
  return renderScriptsModule(scriptNames().map((name) => compileScript(name, read)));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = generateScriptsModule();
  const current = (() => {
    try {
      return readFileSync(GENERATED_MODULE, 'utf8');
    } catch {
      return '';
    }
  })();
  if (text !== current) writeFileSync(GENERATED_MODULE, text);
  console.log(`${GENERATED_MODULE.pathname}: ${text === current ? 'up to date' : 'written'}`);
}
