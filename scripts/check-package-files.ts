/**
 * Checks what npm shows of every public package: its LICENSE (the root one, copied) is in the
 * tarball, package.json links back to the repository, and the README needs nothing from the
 * repository (npm renders it on its own, so relative links there are broken).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMarkdown, ROOT } from './markdown.js';

interface Manifest {
  readonly name: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly repository?: { readonly url?: string; readonly directory?: string };
  readonly homepage?: string;
  readonly bugs?: { readonly url?: string };
  readonly files?: readonly string[];
}

const REPOSITORY = 'git+https://github.com/lock-js/lock.git';
const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
const problems: string[] = [];

for (const entry of readdirSync(join(ROOT, 'packages'), { withFileTypes: true })) {
  const dir = `packages/${entry.name}`;
  const manifestPath = join(ROOT, dir, 'package.json');
  if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  if (manifest.private === true) continue;
  const problem = (what: string) => problems.push(`${dir} (${manifest.name}): ${what}`);

  if (manifest.license !== 'MIT') problem('"license" must be "MIT"');
  if (manifest.repository?.url !== REPOSITORY || manifest.repository.directory !== dir) {
    problem(`"repository" must be { "type": "git", "url": "${REPOSITORY}", "directory": "${dir}" }`);
  }
  if (manifest.homepage === undefined) problem('"homepage" is missing');
  if (manifest.bugs?.url === undefined) problem('"bugs" is missing');
  for (const file of ['dist', 'README.md', 'LICENSE']) {
    if (!manifest.files?.includes(file)) problem(`"files" must list ${file}`);
  }
  const licensePath = join(ROOT, dir, 'LICENSE');
  if (!existsSync(licensePath) || readFileSync(licensePath, 'utf8') !== license) {
    problem('LICENSE must be a copy of the root LICENSE (cp LICENSE <package>/)');
  }
  const readmePath = join(ROOT, dir, 'README.md');
  if (!existsSync(readmePath)) {
    problem('README.md is missing');
    continue;
  }
  for (const { text, line } of parseMarkdown(readFileSync(readmePath, 'utf8')).prose) {
    for (const match of text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)/g)) {
      const target = match[1] ?? '';
      if (!/^(https?:|mailto:|#)/.test(target)) {
        problem(`README.md:${line}: ${target}: use an absolute URL, npm cannot resolve relative links`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`check-package-files: ${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  'check-package-files: every public package has its LICENSE, metadata and a self-contained README',
);
