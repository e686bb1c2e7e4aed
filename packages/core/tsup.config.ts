import { defineConfig } from 'tsup';

// Two builds: ESM keeps nanoid external (it is ESM-only); CJS bundles it so `require('@lock/core')`
// works on every Node 20, including releases before require(esm) was enabled by default.
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    clean: true,
    target: 'es2022',
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: true,
    target: 'es2022',
    noExternal: ['nanoid'],
  },
]);
