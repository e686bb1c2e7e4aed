import { defineConfig } from 'vitest/config';

/** The vitest settings every package shares. Each package's vitest.config.ts re-exports this. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The JSON report lets .ci/run print one total across packages.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
