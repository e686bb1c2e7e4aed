import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { provisionRedis, type RedisInstance } from '@lock/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELLS, type Cell, consumerSource, MODULE_SYSTEMS, tsconfigFor, VARIANTS } from './matrix.js';

// The published packages as a user gets them: packed, installed into a fresh project by npm, and
// compiled by tsc in every module system, moduleResolution and decorator mode, then run against
// Redis. This catches what the workspace cannot: a missing file in the tarball, an `exports` map
// one resolution mode misreads, a type that only one decorator mode accepts.

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const PUBLIC_PACKAGES = ['core', 'ioredis', 'node-redis'];

/** The version this workspace installed of `name`: the consumer gets the one the lockfile tested. */
function installedVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

/**
 * The environment for npm: the user's `npm_config_*` (a registry mirror, a cache) kept, the
 * variables pnpm sets for its own scripts dropped (npm would read them as its own settings).
 */
function npmEnv(): NodeJS.ProcessEnv {
  const pnpmOwn = new Set(['npm_config_user_agent', 'npm_config_verify_deps_before_run']);
  const env: NodeJS.ProcessEnv = { npm_config_update_notifier: 'false' };
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_') && (!lower.startsWith('npm_config_') || pnpmOwn.has(lower))) continue;
    env[key] = value;
  }
  return env;
}

/** Installs the tarballs and the clients; from npm's cache when it has them all. */
async function install(root: string, tarballs: readonly string[]): Promise<void> {
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'lock-consumers', private: true }));
  const specs = [
    ...tarballs,
    `ioredis@${installedVersion('ioredis')}`,
    `redis@${installedVersion('redis')}`,
    `@types/node@${installedVersion('@types/node')}`,
  ];
  const args = ['install', ...specs, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];
  const options = { cwd: root, env: npmEnv(), maxBuffer: 16 * 1024 * 1024 };
  try {
    await run('npm', [...args, '--offline'], options);
  } catch {
    await run('npm', [...args, '--prefer-offline'], options);
  }
}

/** tsc's errors (`--pretty false` lines) by the variant folder they name. */
function errorsByVariant(output: string, root: string): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    if (!line.includes('error TS')) continue;
    const path = line.startsWith(root) ? line.slice(root.length + 1) : line;
    const variant = VARIANTS.find((candidate) => path.startsWith(`${candidate.dir}/`));
    const key = variant?.dir ?? '(unattributed)';
    errors.set(key, [...(errors.get(key) ?? []), path]);
  }
  return errors;
}

interface Outcome {
  compileErrors: string[];
  exitCode: number | null;
  output: string;
  ms: number;
}

/** Runs at most `limit` of `tasks` at once. */
async function inBatches<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function cellName(cell: Cell): string {
  return `${cell.client} ${cell.moduleSystem} ${cell.resolution} ${cell.decorators}`;
}

function printTable(outcomes: ReadonlyMap<Cell, Outcome>, timings: Record<string, number>): void {
  const header = ['client', 'modules', 'moduleResolution', 'decorators', 'compile', 'run', 'ms'];
  const rows = CELLS.map((cell) => {
    const outcome = outcomes.get(cell);
    const compiled = outcome !== undefined && outcome.compileErrors.length === 0;
    const ran = compiled && outcome.exitCode === 0;
    return [
      cell.client,
      cell.moduleSystem,
      cell.resolution,
      cell.decorators,
      outcome === undefined ? '-' : compiled ? 'pass' : 'FAIL',
      !compiled ? '-' : ran ? 'pass' : 'FAIL',
      compiled ? String(outcome.ms) : '-',
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const format = (row: readonly string[]) =>
    `| ${row.map((text, column) => text.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const phases = Object.entries(timings)
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
  console.log(
    [
      '',
      format(header),
      format(widths.map((width) => '-'.repeat(width))),
      ...rows.map(format),
      '',
      `Consumer matrix: ${CELLS.length} cells; ${phases}.`,
    ].join('\n'),
  );
}

describe('the packed packages in fresh consumer projects', () => {
  let redis: RedisInstance | undefined;
  let root: string | undefined;
  const outcomes = new Map<Cell, Outcome>();
  const timings: Record<string, number> = {};

  async function timed<T>(phase: string, step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await step();
    } finally {
      timings[phase] = Math.round(performance.now() - started);
    }
  }

  beforeAll(async () => {
    const started = performance.now();
    const [instance, dir] = await Promise.all([provisionRedis(), mkdtemp(join(tmpdir(), 'lock-consumers-'))]);
    redis = instance;
    root = dir;
    const tarballDir = join(dir, 'tarballs');
    await timed('pack', () =>
      Promise.all(
        PUBLIC_PACKAGES.map((name) =>
          run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: join(packagesDir, name) }),
        ),
      ),
    );
    const tarballs = (await readdir(tarballDir)).map((file) => join(tarballDir, file));
    expect(tarballs).toHaveLength(PUBLIC_PACKAGES.length);

    // One install serves both module systems: each folder's package.json sets its `type`.
    await timed('install', () => install(dir, tarballs));
    for (const moduleSystem of MODULE_SYSTEMS) {
      await mkdir(join(dir, moduleSystem));
      const type = moduleSystem === 'esm' ? 'module' : 'commonjs';
      await writeFile(join(dir, moduleSystem, 'package.json'), JSON.stringify({ type }));
    }
    for (const variant of VARIANTS) {
      const variantDir = join(dir, variant.dir);
      await mkdir(variantDir);
      await writeFile(join(variantDir, 'tsconfig.json'), JSON.stringify(tsconfigFor(variant), null, 2));
      for (const cell of CELLS.filter((candidate) => candidate.dir === variant.dir)) {
        await writeFile(join(variantDir, `${cell.client}.ts`), consumerSource(cell.client, variant));
      }
    }

    // One tsc process builds every variant; it exits non-zero when any has errors.
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
    const projects = VARIANTS.map((variant) => join(variant.dir, 'tsconfig.json'));
    const compiled = await timed('tsc', () =>
      run(process.execPath, [tsc, '--build', ...projects, '--pretty', 'false'], { cwd: dir }).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string }) => error.stdout ?? String(error),
      ),
    );
    const errors = errorsByVariant(compiled, dir);
    expect(errors.get('(unattributed)') ?? []).toEqual([]);

    const runs = CELLS.map((cell) => async () => {
      const compileErrors = errors.get(cell.dir) ?? [];
      const outcome: Outcome = { compileErrors, exitCode: null, output: '', ms: 0 };
      outcomes.set(cell, outcome);
      if (compileErrors.length > 0) return;
      const cellStarted = performance.now();
      const script = join(dir, cell.dir, 'out', `${cell.client}.js`);
      const env = {
        ...process.env,
        REDIS_URL: instance.url,
        LOCK_PREFIX: `consumers:${cellName(cell).replaceAll(' ', ':')}:`,
      };
      try {
        const { stdout, stderr } = await run(process.execPath, [script], { env, timeout: 30_000 });
        outcome.exitCode = 0;
        outcome.output = stdout + stderr;
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string; message: string };
        outcome.exitCode = typeof failed.code === 'number' ? failed.code : -1;
        outcome.output = `${failed.stdout ?? ''}${failed.stderr ?? failed.message}`;
      }
      outcome.ms = Math.round(performance.now() - cellStarted);
    });
    await timed('run', () => inBatches(runs, 4));
    timings.total = Math.round(performance.now() - started);
  }, 180_000);

  afterAll(async () => {
    printTable(outcomes, timings);
    await redis?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it.each(CELLS.map((cell) => [cellName(cell), cell] as const))('%s: compiles and runs', (_name, cell) => {
    const outcome = outcomes.get(cell);
    expect(outcome?.compileErrors).toEqual([]);
    expect({ exitCode: outcome?.exitCode, output: outcome?.output.trim() }).toEqual({
      exitCode: 0,
      output: 'ok',
    });
  });
});
