import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

// Three entries: the user API, the runner-author kit (`@lock/core/adapter`) and the
// workspace-only `@lock/core/internal`; shared code goes into common chunks in both formats, so
// each module (and its state) exists once per format.
const entry = ['src/index.ts', 'src/adapter.ts', 'src/internal.ts'];

// Two builds: ESM keeps nanoid external (it is ESM-only); CJS bundles it so `require('@lock/core')`
// works on every Node 20, including releases before require(esm) was enabled by default. The
// build script empties dist/ first: two parallel builds must not clean each other's output.
export default defineConfig([
  { ...packageBuild, entry, format: ['esm'], clean: false },
  { ...packageBuild, entry, format: ['cjs'], clean: false, splitting: true, noExternal: ['nanoid'] },
]);
