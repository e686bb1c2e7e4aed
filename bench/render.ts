/**
 * Re-renders summary.md and chart.svg (and re-evaluates the targets) from a saved results.json,
 * without measuring again: `pnpm --filter @lock/bench render [--docs] [results/results.json]`.
 * With `--docs`, the report section of docs/performance.md is rewritten too (as a full run does).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type RunResults, withTargets, writeOutputs } from './outputs.js';
import { publishToDocs } from './publish.js';

const args = process.argv.slice(2);
const docs = args.includes('--docs');
const file = resolve(args.find((arg) => arg !== '--docs') ?? `${import.meta.dirname}/results/results.json`);
const results = withTargets(JSON.parse(await readFile(file, 'utf8')) as RunResults);
console.log(await writeOutputs(results, dirname(file)));
if (docs) await publishToDocs(results);
