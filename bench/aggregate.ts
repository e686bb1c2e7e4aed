/** Folds the job records of all rounds into one cell per scenario × subject: medians and ranges. */
import type { JobRecord } from './fork-job.js';
import type { JobResult, ScenarioId, SubjectId } from './jobs.js';
import { median, relativeSpread } from './stats.js';

export interface MetricSummary {
  readonly median: number;
  /** The lowest and the highest of the runs. */
  readonly min: number;
  readonly max: number;
  /** Half the range of the runs over their median (0.05 = ±5 %). */
  readonly spread: number;
  readonly values: readonly number[];
}

export interface Cell {
  readonly scenario: ScenarioId;
  readonly subject: SubjectId;
  /** Runs that produced a result. */
  readonly runs: number;
  readonly metrics: Readonly<Record<string, MetricSummary>>;
  readonly perWorker: readonly (readonly number[])[];
  readonly commands: JobResult['commands'];
  readonly errors: readonly string[];
}

export function aggregate(records: readonly JobRecord[]): Cell[] {
  const groups = new Map<string, JobRecord[]>();
  for (const record of records) {
    const key = `${record.spec.scenario}|${record.spec.subject}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as JobRecord;
    const results = group.flatMap((record) => (record.result ? [record.result] : []));
    const names = new Set(results.flatMap((result) => Object.keys(result.metrics)));
    const metrics: Record<string, MetricSummary> = {};
    for (const name of names) {
      const values = results.flatMap((result) => {
        const value = result.metrics[name];
        return value === undefined ? [] : [value];
      });
      metrics[name] = {
        median: median(values),
        min: Math.min(...values),
        max: Math.max(...values),
        spread: relativeSpread(values),
        values,
      };
    }
    return {
      scenario: first.spec.scenario,
      subject: first.spec.subject,
      runs: results.length,
      metrics,
      perWorker: results.flatMap((result) => (result.perWorker ? [result.perWorker] : [])),
      commands: results[0]?.commands,
      errors: group.flatMap((record) => (record.error ? [record.error] : [])),
    };
  });
}

/** Looks cells up by scenario and subject. */
export class CellIndex {
  readonly #cells: readonly Cell[];

  constructor(cells: readonly Cell[]) {
    this.#cells = cells;
  }

  get(scenario: ScenarioId, subject: SubjectId): Cell | undefined {
    return this.#cells.find((cell) => cell.scenario === scenario && cell.subject === subject);
  }

  /** The median of one metric, or undefined when it was not measured. */
  median(scenario: ScenarioId, subject: SubjectId, metric: string): number | undefined {
    return this.get(scenario, subject)?.metrics[metric]?.median;
  }
}
