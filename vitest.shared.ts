import { defineConfig } from 'vitest/config';

/** The vitest settings every package shares. Each package's vitest.config.ts re-exports this. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests talk to real Redis servers on a 2-core machine that may be running other suites at the
    // same time; what each test asserts about time is in the test itself, not in this ceiling.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The JSON report lets .ci/run print one total across packages.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
