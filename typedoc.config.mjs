// @ts-check
/**
 * `pnpm docs`: the API reference of every public package, from its TSDoc, as markdown in
 * docs/api/ (generated, not committed). The entry points are found rather than listed, so that a
 * new public package or entry (`@lock/core/adapter`) is documented without editing this file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const entryPoints = [];
for (const entry of readdirSync('packages', { withFileTypes: true })) {
  const dir = join('packages', entry.name);
  if (!entry.isDirectory() || !existsSync(join(dir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.private === true) continue;
  for (const file of ['index.ts', 'adapter.ts']) {
    if (existsSync(join(dir, 'src', file))) entryPoints.push(join(dir, 'src', file));
  }
}

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
const config = {
  entryPoints,
  tsconfig: 'tsconfig.docs.json',
  plugin: ['typedoc-plugin-markdown'],
  out: 'docs/api',
  name: '@lock API reference',
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  gitRevision: 'main',
  sourceLinkTemplate: 'https://github.com/lock-js/lock/blob/{gitRevision}/{path}#L{line}',
  treatWarningsAsErrors: true,
};
export default config;
