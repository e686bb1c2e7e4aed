/**
 * Rewrites the SHA-1 written beside each script in src/scripts.ts after a script's source changed.
 * Run: pnpm --filter @lock/core sync-sha1 (the SHA-1 test fails until you do).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ALL_SCRIPTS } from '../src/scripts.js';

const file = new URL('../src/scripts.ts', import.meta.url);
let text = readFileSync(file, 'utf8');
for (const script of ALL_SCRIPTS) {
  const actual = createHash('sha1').update(script.source).digest('hex');
  if (actual === script.sha1) continue;
  // The SHA-1 literal is the one right after this script's source (its closing backtick).
  const start = text.indexOf(`defineScript(\n  '${script.name}',`);
  const afterSource = text.indexOf('`,', text.indexOf('`', start) + 1);
  const shaAt = text.indexOf(`'${script.sha1}'`, afterSource);
  if (start < 0 || afterSource < 0 || shaAt < 0) throw new Error(`cannot find the SHA-1 of ${script.name}`);
  text = text.slice(0, shaAt) + `'${actual}'` + text.slice(shaAt + script.sha1.length + 2);
  console.log(`${script.name}: ${script.sha1} -> ${actual}`);
}
writeFileSync(file, text);
