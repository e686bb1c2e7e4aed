/**
 * Type-checks every ```ts block of the documentation against the workspace packages, so that a
 * renamed export or option breaks `pnpm check:docs` instead of a reader's copy-paste. Each block is
 * its own module; `@lock/*` resolve to the packages' sources (no build needed) and the clients to
 * the versions the adapters are developed against. Names that snippets use without defining them
 * (`locker`, `redis`, `chargeCustomer`, ...) are declared in snippet-globals.d.ts. Flags after the
 * language:
 * - `no-check`: the block is not checked (another library's code, a template);
 * - `file=<path>`: the block is the file `<path>` of one project per document, so that another
 *   block of that document can import it (`import ... from '../src/index.js'`);
 * - `experimental-decorators`: compiled with `"experimentalDecorators": true` instead of
 *   standard decorators.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { documentationFiles, parseMarkdown, ROOT, readDoc } from './markdown.js';

interface Snippet {
  readonly fileName: string;
  readonly source: string;
  readonly doc: string;
  /** Markdown line of the snippet's first line. */
  readonly line: number;
  readonly experimentalDecorators: boolean;
}

/** `@lock/<name>` (and its subpath entries) for every workspace package that has a `src/index.ts`. */
function workspacePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {
    ioredis: [join(ROOT, 'packages/ioredis/node_modules/ioredis')],
    redis: [join(ROOT, 'packages/node-redis/node_modules/redis')],
    '@valkey/valkey-glide': [join(ROOT, 'packages/valkey-glide/node_modules/@valkey/valkey-glide')],
    iovalkey: [join(ROOT, 'packages/ioredis/node_modules/iovalkey')],
  };
  for (const entry of readdirSync(join(ROOT, 'packages'), { withFileTypes: true })) {
    const dir = join(ROOT, 'packages', entry.name);
    const manifest = join(dir, 'package.json');
    if (!entry.isDirectory() || !existsSync(manifest) || !existsSync(join(dir, 'src/index.ts'))) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
    paths[name] = [join(dir, 'src/index.ts')];
    paths[`${name}/*`] = [join(dir, 'src/*.ts')];
  }
  return paths;
}

const snippets: Snippet[] = [];
let skipped = 0;
for (const doc of documentationFiles()) {
  const { blocks } = parseMarkdown(readDoc(doc));
  blocks.forEach((block, index) => {
    const [language, ...flags] = block.info.split(/\s+/);
    if (language !== 'ts' && language !== 'typescript') return;
    if (flags.includes('no-check')) {
      skipped += 1;
      return;
    }
    const isModule = /^\s*(import|export)\s/m.test(block.code);
    const slug = doc.replace(/[^a-z0-9]+/gi, '-');
    const file = flags.find((flag) => flag.startsWith('file='))?.slice('file='.length);
    if (file !== undefined && (normalize(file).startsWith('..') || !file.endsWith('.ts'))) {
      throw new Error(
        `${doc}:${block.line - 1}: file=${file} must be a relative .ts path inside the project`,
      );
    }
    snippets.push({
      fileName: join(ROOT, '.snippets', ...(file === undefined ? [`${slug}-${index + 1}.ts`] : [slug, file])),
      source: isModule ? block.code : `${block.code}\nexport {};`,
      doc,
      line: block.line,
      experimentalDecorators: flags.includes('experimental-decorators'),
    });
  });
}

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules/@types')],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  baseUrl: ROOT,
  paths: workspacePaths(),
};

const bySnippetFile = new Map(snippets.map((snippet) => [snippet.fileName, snippet]));
const snippetDirectories = new Set(
  snippets.flatMap((snippet) => {
    const directories: string[] = [];
    for (
      let directory = dirname(snippet.fileName);
      directory.startsWith(ROOT);
      directory = dirname(directory)
    ) {
      directories.push(directory);
    }
    return directories;
  }),
);
const globals = join(ROOT, 'scripts/snippet-globals.d.ts');
const problems: string[] = [];

/** Type-checks `group` (with the globals) as one program under `compilerOptions`. */
function check(group: readonly Snippet[], compilerOptions: ts.CompilerOptions): void {
  if (group.length === 0) return;
  const host = ts.createCompilerHost(compilerOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, language, onError, shouldCreate) => {
    const snippet = bySnippetFile.get(fileName);
    if (snippet !== undefined) return ts.createSourceFile(fileName, snippet.source, language, true);
    return getSourceFile.call(host, fileName, language, onError, shouldCreate);
  };
  host.fileExists = (fileName) => bySnippetFile.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => bySnippetFile.get(fileName)?.source ?? readFile.call(host, fileName);
  // Module resolution skips a directory that does not exist: the snippets' directories do not.
  host.directoryExists = (directory) =>
    snippetDirectories.has(directory) || ts.sys.directoryExists(directory);

  const files = [globals, ...group.map((snippet) => snippet.fileName)];
  const program = ts.createProgram(files, compilerOptions, host);
  for (const fileName of files) {
    const sourceFile = program.getSourceFile(fileName);
    if (sourceFile === undefined) continue;
    const diagnostics = [
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile),
    ];
    for (const diagnostic of diagnostics) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
      const position = sourceFile.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const snippet = bySnippetFile.get(fileName);
      const where =
        snippet === undefined
          ? `scripts/snippet-globals.d.ts:${position.line + 1}`
          : `${snippet.doc}:${snippet.line + position.line}`;
      const problem = `${where}: TS${diagnostic.code}: ${message}`;
      // The globals are checked by both programs; report their problems once.
      if (!problems.includes(problem)) problems.push(problem);
    }
  }
}

check(
  snippets.filter((snippet) => !snippet.experimentalDecorators),
  options,
);
check(
  snippets.filter((snippet) => snippet.experimentalDecorators),
  { ...options, experimentalDecorators: true },
);

if (problems.length > 0) {
  console.error(`check-snippets: ${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-snippets: ${snippets.length} TypeScript blocks type-check (${skipped} marked no-check)`);
