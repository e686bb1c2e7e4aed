/**
 * Bundles the job entry (child.ts and the subjects and scenarios it imports) into ES modules with
 * esbuild, so that each forked job starts as plain `node` in a fraction of the time a
 * TypeScript loader would take. Packages stay external: the bundle lives under
 * bench/node_modules/.cache so that they resolve from bench/node_modules as usual.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const BENCH_DIR = import.meta.dirname;

export async function buildChild(): Promise<string> {
  const outdir = join(BENCH_DIR, 'node_modules', '.cache', 'lock-bench');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { child: join(BENCH_DIR, 'child.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    // One chunk per subject, so that a job loads only the library it measures.
    splitting: true,
    bundle: true,
    // Packages stay as they are published: bundling them shortens start-up but changes how fast
    // they run (bundled node-redis renewed 10,000 locks too slowly to keep them).
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return join(outdir, 'child.mjs');
}
