/**
 * Type-checks every ```ts block of the documentation against the workspace packages, so that a
 * renamed export or option breaks `pnpm check:docs` instead of a reader's copy-paste. Each block is
 * its own module; `@lock/*` resolve to the packages' sources (no build needed) and the clients to
 * the versions the adapters are developed against. Names that snippets use without defining them
 * (`locker`, `redis`, `chargeCustomer`, ...) are declared in snippet-globals.d.ts. A block opts out
 * with ```ts no-check.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { documentationFiles, parseMarkdown, ROOT, readDoc } from './markdown.js';

interface Snippet {
  readonly fileName: string;
  readonly source: string;
  readonly doc: string;
  /** Markdown line of the snippet's first line. */
  readonly line: number;
}

/** `@lock/<name>` (and its subpath entries) for every workspace package that has a `src/index.ts`. */
function workspacePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {
    ioredis: [join(ROOT, 'packages/ioredis/node_modules/ioredis')],
    redis: [join(ROOT, 'packages/node-redis/node_modules/redis')],
    '@valkey/valkey-glide': [join(ROOT, 'packages/valkey-glide/node_modules/@valkey/valkey-glide')],
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
    snippets.push({
      fileName: join(ROOT, '.snippets', `${slug}-${index + 1}.ts`),
      source: isModule ? block.code : `${block.code}\nexport {};`,
      doc,
      line: block.line,
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
const host = ts.createCompilerHost(options);
const { getSourceFile, fileExists, readFile } = host;
host.getSourceFile = (fileName, language, onError, shouldCreate) => {
  const snippet = bySnippetFile.get(fileName);
  if (snippet !== undefined) return ts.createSourceFile(fileName, snippet.source, language, true);
  return getSourceFile.call(host, fileName, language, onError, shouldCreate);
};
host.fileExists = (fileName) => bySnippetFile.has(fileName) || fileExists.call(host, fileName);
host.readFile = (fileName) => bySnippetFile.get(fileName)?.source ?? readFile.call(host, fileName);

const globals = join(ROOT, 'scripts/snippet-globals.d.ts');
const program = ts.createProgram([globals, ...bySnippetFile.keys()], options, host);

const problems: string[] = [];
for (const fileName of [globals, ...bySnippetFile.keys()]) {
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
    problems.push(`${where}: TS${diagnostic.code}: ${message}`);
  }
}

if (problems.length > 0) {
  console.error(`check-snippets: ${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-snippets: ${snippets.length} TypeScript blocks type-check (${skipped} marked no-check)`);
