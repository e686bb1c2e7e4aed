#!/usr/bin/env node
/**
 * Runs turbo with its telemetry off, so that no package script prints the telemetry notice or
 * sends usage data. A Node wrapper rather than `VAR=1 turbo` in package.json, which Windows
 * shells do not understand.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
const result = spawnSync(process.execPath, [turbo, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});
if (result.error !== undefined) throw result.error;
process.exit(result.status ?? 1);
