/**
 * Re-renders summary.md and chart.svg (and re-evaluates the targets) from a saved results.json,
 * without measuring again: `pnpm --filter @lock/bench render [results/results.json]`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type RunResults, withTargets, writeOutputs } from './outputs.js';

const file = resolve(process.argv[2] ?? `${import.meta.dirname}/results/results.json`);
const results = JSON.parse(await readFile(file, 'utf8')) as RunResults;
console.log(await writeOutputs(withTargets(results), dirname(file)));
