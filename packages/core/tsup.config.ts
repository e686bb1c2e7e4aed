import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

// Two builds: ESM keeps nanoid external (it is ESM-only); CJS bundles it so `require('@lock/core')`
// works on every Node 20, including releases before require(esm) was enabled by default. The
// build script empties dist/ first: two parallel builds must not clean each other's output.
export default defineConfig([
  { ...packageBuild, format: ['esm'], clean: false },
  { ...packageBuild, format: ['cjs'], clean: false, noExternal: ['nanoid'] },
]);
