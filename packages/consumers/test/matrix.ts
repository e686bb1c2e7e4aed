/**
 * The consumer matrix: which projects a user may have, and the source and tsconfig of a small
 * consumer for each. Every cell is a client × module system × moduleResolution × decorator mode;
 * the cells of one module system and one (moduleResolution, decorators) pair share a tsconfig.
 */

export const CLIENTS = ['ioredis', 'node-redis'] as const;
export const MODULE_SYSTEMS = ['esm', 'cjs'] as const;
export const RESOLUTIONS = ['nodenext', 'bundler', 'node10'] as const;
export const DECORATOR_MODES = ['standard', 'experimentalDecorators'] as const;

export type Client = (typeof CLIENTS)[number];
export type ModuleSystem = (typeof MODULE_SYSTEMS)[number];
export type Resolution = (typeof RESOLUTIONS)[number];
export type DecoratorMode = (typeof DECORATOR_MODES)[number];

/** One TypeScript project: a module system's folder, compiled with one set of options. */
export interface Variant {
  readonly moduleSystem: ModuleSystem;
  readonly resolution: Resolution;
  readonly decorators: DecoratorMode;
  /** Its folder, relative to the install root: `esm/nodenext-standard`. */
  readonly dir: string;
}

/** One row of the matrix: a variant compiled and run with one client. */
export interface Cell extends Variant {
  readonly client: Client;
}

export const VARIANTS: readonly Variant[] = MODULE_SYSTEMS.flatMap((moduleSystem) =>
  RESOLUTIONS.flatMap((resolution) =>
    DECORATOR_MODES.map((decorators) => ({
      moduleSystem,
      resolution,
      decorators,
      dir: `${moduleSystem}/${resolution}-${decorators === 'standard' ? 'standard' : 'legacy'}`,
    })),
  ),
);

export const CELLS: readonly Cell[] = VARIANTS.flatMap((variant) =>
  CLIENTS.map((client) => ({ ...variant, client })),
);

/**
 * `module` for each module system and moduleResolution. `bundler` requires an ES `module`, so a
 * CommonJS project that resolves like a bundler is `module: preserve` with `import = require`
 * (the `require` condition of the exports, as a bundler resolves a `require` call).
 */
function moduleOption(moduleSystem: ModuleSystem, resolution: Resolution): string {
  if (resolution === 'nodenext') return 'nodenext';
  if (resolution === 'bundler') return moduleSystem === 'esm' ? 'esnext' : 'preserve';
  return moduleSystem === 'esm' ? 'esnext' : 'commonjs';
}

/** Whether the consumer imports with `import = require`: the one way to `require` under `preserve`. */
function usesImportRequire(variant: Variant): boolean {
  return moduleOption(variant.moduleSystem, variant.resolution) === 'preserve';
}

/** The variant's tsconfig.json, as typical projects in that mode write it. */
export function tsconfigFor(variant: Variant): object {
  const legacy = variant.decorators === 'experimentalDecorators';
  return {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      lib: ['ES2022'],
      module: moduleOption(variant.moduleSystem, variant.resolution),
      moduleResolution: variant.resolution,
      types: ['node'],
      esModuleInterop: true,
      // What NestJS and TypeORM projects set; the metadata helper is a no-op without reflect-metadata.
      ...(legacy ? { experimentalDecorators: true, emitDecoratorMetadata: true } : {}),
      skipLibCheck: true,
      outDir: 'out',
      rootDir: '.',
    },
    files: CLIENTS.map((client) => `${client}.ts`),
  };
}

/** The imports of `client` in `variant`'s syntax, binding `sleep`, `Locker`, `connect`. */
function imports(client: Client, variant: Variant): string {
  const adapter = client === 'ioredis' ? '@lock/ioredis' : '@lock/node-redis';
  const runnerFactory = client === 'ioredis' ? 'createIoredisRunner' : 'createNodeRedisRunner';
  const clientModule = client === 'ioredis' ? 'ioredis' : 'redis';
  const clientExport = client === 'ioredis' ? 'Redis' : 'createClient';
  const lines = usesImportRequire(variant)
    ? [
        "import timers = require('node:timers/promises');",
        "import lockCore = require('@lock/core');",
        `import adapter = require('${adapter}');`,
        `import clientModule = require('${clientModule}');`,
        'const sleep = timers.setTimeout;',
        'const { Locker } = lockCore;',
        `const { ${runnerFactory} } = adapter;`,
        `const { ${clientExport} } = clientModule;`,
      ]
    : [
        "import { setTimeout as sleep } from 'node:timers/promises';",
        "import { Locker } from '@lock/core';",
        `import { ${runnerFactory} } from '${adapter}';`,
        `import { ${clientExport} } from '${clientModule}';`,
      ];
  const connect =
    client === 'ioredis'
      ? [
          'async function connect(url: string) {',
          '  const client = new Redis(url);',
          '  const runner = createIoredisRunner(client);',
          '  return { runner, close: async () => { await runner.close(); await client.quit(); } };',
          '}',
        ]
      : [
          'async function connect(url: string) {',
          '  const client = await createClient({ url }).connect();',
          '  const runner = createNodeRedisRunner(client);',
          '  return { runner, close: async () => { await runner.close(); await client.close(); } };',
          '}',
        ];
  return [...lines, '', ...connect].join('\n');
}

/**
 * A consumer: two overlapping calls of a decorated method must not run at once, each seeing its
 * lock held under the method's name; a static method is decorated too (its legacy target is the
 * class); `onLocked: 'skip'` resolves undefined while another holder has the lock. It exits
 * non-zero with the failed check on stderr.
 */
export function consumerSource(client: Client, variant: Variant): string {
  return `// Generated by packages/consumers/test/matrix.ts (${client}, ${variant.dir}).
${imports(client, variant)}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(\`check failed: \${what}\`);
}

async function main(): Promise<void> {
  const { runner, close } = await connect(process.env.REDIS_URL ?? '');
  const locker = new Locker(runner, { prefix: process.env.LOCK_PREFIX ?? '', ttl: 5_000 });
  let running = 0;
  let mostRunning = 0;

  class Catalog {
    constructor(readonly label: string) {}

    @locker.locked(undefined, { waitTimeout: 5_000 })
    async rebuild(currency: string): Promise<string> {
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      const held = await locker.inspect('rebuild');
      // Keeps this call inside the lock while the other call tries to enter.
      await sleep(50);
      running -= 1;
      return \`\${this.label}:\${currency}:\${held.owner !== null}\`;
    }

    @locker.locked('catalog:compact', { onLocked: 'skip' })
    async compact(): Promise<string | undefined> {
      return 'compacted';
    }

    @locker.locked()
    static async reindex(): Promise<boolean> {
      return (await locker.inspect('reindex')).owner !== null;
    }
  }

  try {
    const results = await Promise.all([new Catalog('a').rebuild('EUR'), new Catalog('b').rebuild('USD')]);
    check(results.join() === 'a:EUR:true,b:USD:true', \`each call kept this and args, under the lock: \${results.join()}\`);
    check(mostRunning === 1, \`the two calls never ran at once (at most \${mostRunning})\`);
    check(await Catalog.reindex(), 'a static method runs under a lock named after it');
    const holder = await locker.acquire('catalog:compact');
    check((await new Catalog('c').compact()) === undefined, "onLocked: 'skip' skips while the lock is held");
    await holder.release();
    check((await new Catalog('c').compact()) === 'compacted', 'compact runs once the lock is free');
  } finally {
    await close();
  }
}

main().then(
  () => console.log('ok'),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
`;
}
