/**
 * Turns the results of a run into what it leaves behind: the markdown report (also printed), the
 * full JSON and the SVG chart. render.ts calls it again on a saved results.json, so that the
 * presentation can change without measuring again.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cell, CellIndex } from './aggregate.js';
import { renderChart } from './chart.js';
import type { Environment } from './environment.js';
import type { JobRecord } from './fork-job.js';
import type { Unavailable } from './plan.js';
import { renderReport } from './report.js';
import { evaluateTargets, type TargetOutcome } from './targets.js';

export interface RunResults {
  readonly environment: Environment;
  readonly rounds: number;
  readonly loadDuringRun: { readonly min: number; readonly max: number };
  readonly totalSeconds: number;
  readonly unavailable: readonly Unavailable[];
  readonly targets: readonly TargetOutcome[];
  readonly cells: readonly Cell[];
  readonly jobs: readonly JobRecord[];
}

/** Evaluates the targets of `results` (again) and returns the complete results. */
export function withTargets(results: Omit<RunResults, 'targets'>): RunResults {
  return { ...results, targets: evaluateTargets(new CellIndex(results.cells), results.environment.versions) };
}

/** Writes results.json, summary.md and chart.svg to `dir`; resolves the markdown report. */
export async function writeOutputs(results: RunResults, dir: string): Promise<string> {
  const cells = new CellIndex(results.cells);
  const report = renderReport({
    environment: results.environment,
    cells,
    unavailable: results.unavailable,
    targets: results.targets,
    rounds: results.rounds,
    loadDuringRun: results.loadDuringRun,
  });
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  await writeFile(join(dir, 'summary.md'), `${report}\n`);
  await writeFile(join(dir, 'chart.svg'), renderChart(cells, results.environment.versions));
  return report;
}
