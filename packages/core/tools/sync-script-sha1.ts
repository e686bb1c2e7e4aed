/**
 * Rewrites the SHA-1 written beside each script in src/scripts/*.ts after a script's source
 * changed. Run: pnpm --filter @lock/core sync-sha1 (the SHA-1 test fails until you do).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ALL_SCRIPTS } from '../src/scripts/index.js';

const folder = new URL('../src/scripts/', import.meta.url);
const files = readdirSync(folder).filter((file) => file.endsWith('.ts'));
const texts = new Map(files.map((file) => [file, readFileSync(new URL(file, folder), 'utf8')]));

for (const script of ALL_SCRIPTS) {
  const actual = createHash('sha1').update(script.source).digest('hex');
  if (actual === script.sha1) continue;
  const marker = `defineScript(\n  '${script.name}',`;
  const file = files.find((candidate) => texts.get(candidate)?.includes(marker));
  if (file === undefined) throw new Error(`cannot find the definition of ${script.name}`);
  let text = texts.get(file) as string;
  // The SHA-1 literal is the first one after this script's name.
  const start = text.indexOf(marker);
  const shaAt = text.indexOf(`'${script.sha1}'`, start);
  if (shaAt < 0) throw new Error(`cannot find the SHA-1 of ${script.name}`);
  text = `${text.slice(0, shaAt)}'${actual}'${text.slice(shaAt + script.sha1.length + 2)}`;
  texts.set(file, text);
  console.log(`${file} ${script.name}: ${script.sha1} -> ${actual}`);
}
for (const [file, text] of texts) writeFileSync(new URL(file, folder), text);
