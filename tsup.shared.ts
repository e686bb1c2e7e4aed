import type { Options } from 'tsup';

/** The build every public package shares: ESM + CJS, each with its own type declarations. */
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
};
