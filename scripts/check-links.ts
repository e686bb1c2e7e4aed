/**
 * Checks that every link in the documentation that points into this repository resolves: the file
 * exists and, for `#anchor`s, the heading does. Links to the repository's own GitHub address (the
 * absolute links npm needs in package READMEs) are checked against the local files too. Other
 * URLs are not fetched: the check runs without network.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { documentationFiles, headingAnchors, parseMarkdown, ROOT, readDoc } from './markdown.js';

/** Where the repository lives on GitHub; links under it map onto the local tree. */
const REPOSITORY_URL = 'https://github.com/lock-js/lock';
const REPOSITORY_PATH = /^https:\/\/github\.com\/lock-js\/lock\/(?:blob|tree)\/main\/(.*)$/;

const problems: string[] = [];
const anchorCache = new Map<string, Set<string>>();

function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (anchors === undefined) {
    anchors = headingAnchors(readDoc(file));
    anchorCache.set(file, anchors);
  }
  return anchors;
}

/** Resolves `target` as written in `file`: a repository-relative path and anchor, or nothing to check. */
function localTarget(file: string, target: string): { path: string; anchor: string } | undefined {
  const [rawPath = '', anchor = ''] = target.split('#', 2);
  if (target.startsWith(REPOSITORY_URL)) {
    if (target === REPOSITORY_URL || target === `${REPOSITORY_URL}#${anchor}`)
      return { path: 'README.md', anchor };
    const inTree = REPOSITORY_PATH.exec(rawPath);
    // Issues, pull requests and releases live on GitHub only.
    if (inTree?.[1] === undefined) return undefined;
    return { path: normalize(decodeURIComponent(inTree[1])), anchor };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const path = rawPath === '' ? file : relative(ROOT, join(ROOT, dirname(file), decodeURIComponent(rawPath)));
  return { path, anchor };
}

for (const file of documentationFiles({ generatedApi: true })) {
  for (const { text, line } of parseMarkdown(readDoc(file)).prose) {
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|<img[^>]*\ssrc="([^"]+)"/g)) {
      const target = match[1] ?? match[2];
      if (target === undefined) continue;
      const resolved = localTarget(file, target);
      if (resolved === undefined) continue;
      const where = `${file}:${line}`;
      const absolute = join(ROOT, resolved.path);
      if (resolved.path.startsWith('..') || !existsSync(absolute)) {
        problems.push(`${where}: ${target}: no such file ${resolved.path}`);
        continue;
      }
      if (resolved.anchor === '') continue;
      const sourceLine = /^L(\d+)$/.exec(resolved.anchor);
      if (sourceLine !== null && !resolved.path.endsWith('.md')) {
        // A "defined in" link of the API reference: the line must exist in the source.
        const lines = readFileSync(absolute, 'utf8').split('\n').length;
        if (Number(sourceLine[1]) > lines)
          problems.push(`${where}: ${target}: ${resolved.path} has ${lines} lines`);
        continue;
      }
      if (!resolved.path.endsWith('.md') || statSync(absolute).isDirectory()) {
        problems.push(`${where}: ${target}: an anchor into a file that is not markdown`);
      } else if (!anchorsOf(resolved.path).has(resolved.anchor)) {
        problems.push(`${where}: ${target}: no heading #${resolved.anchor} in ${resolved.path}`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`check-links: ${problems.length} broken link(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  `check-links: every relative link and anchor in ${documentationFiles({ generatedApi: true }).length} files resolves`,
);
