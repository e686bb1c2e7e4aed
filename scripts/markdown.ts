/**
 * What the documentation checks share: which markdown files are the documentation, and how to walk
 * one of them outside its code fences.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository root (this file lives in `scripts/`). */
export const ROOT = join(import.meta.dirname, '..');

/** Every markdown file the checks cover, as paths relative to the root. `docs/api/` is generated. */
/**
 * The hand-written markdown: README, CONTRIBUTING, docs/*.md and each package README; with
 * `generatedApi`, also the API reference `pnpm docs:api` writes under docs/api/ (when present).
 */
export function documentationFiles({ generatedApi = false } = {}): string[] {
  const files = ['README.md', 'CONTRIBUTING.md'];
  const api = join(ROOT, 'docs', 'api');
  if (generatedApi && existsSync(api)) {
    for (const file of readdirSync(api, { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.md')) files.push(`docs/api/${file}`);
    }
  }
  const docs = join(ROOT, 'docs');
  if (existsSync(docs)) {
    for (const entry of readdirSync(docs, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.md')) files.push(`docs/${entry.name}`);
    }
  }
  for (const entry of readdirSync(join(ROOT, 'packages'), { withFileTypes: true })) {
    const readme = join(ROOT, 'packages', entry.name, 'README.md');
    if (entry.isDirectory() && existsSync(readme)) files.push(relative(ROOT, readme));
  }
  return files.filter((file) => existsSync(join(ROOT, file))).sort();
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

/** A fenced code block: its info string, its text, and the 1-based line of its first text line. */
export interface CodeBlock {
  readonly info: string;
  readonly code: string;
  readonly line: number;
}

/** Splits markdown into its fenced code blocks and the prose lines outside them. */
export function parseMarkdown(text: string): {
  blocks: CodeBlock[];
  prose: { text: string; line: number }[];
} {
  const blocks: CodeBlock[] = [];
  const prose: { text: string; line: number }[] = [];
  const lines = text.split('\n');
  let open: { fence: string; info: string; start: number; body: string[] } | undefined;
  lines.forEach((raw, index) => {
    const fence = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(raw);
    if (open === undefined) {
      if (fence?.[1] !== undefined) {
        open = { fence: fence[1], info: (fence[2] ?? '').trim(), start: index + 2, body: [] };
      } else {
        prose.push({ text: raw, line: index + 1 });
      }
      return;
    }
    if (fence?.[1]?.startsWith(open.fence) && (fence[2] ?? '').trim() === '') {
      blocks.push({ info: open.info, code: open.body.join('\n'), line: open.start });
      open = undefined;
    } else {
      open.body.push(raw);
    }
  });
  return { blocks, prose };
}

/**
 * The anchor GitHub gives a heading: lower case, markdown and punctuation dropped, spaces as
 * hyphens (github-slugger's rule); repeats get `-1`, `-2`, ...
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: line } of parseMarkdown(text).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading?.[1] === undefined) continue;
    const plain = heading[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*]/g, '')
      .replace(/<[^>]+>/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}
