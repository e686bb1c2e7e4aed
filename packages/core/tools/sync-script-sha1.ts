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
  text = text.replace(`'${script.sha1}'`, `'${actual}'`);
  console.log(`${script.name}: ${script.sha1} -> ${actual}`);
}
writeFileSync(file, text);
