/** Small statistics: quantiles of a sample, Jain's fairness index, median and spread of runs. */

/** A growable sample of durations (ms) that hands out quantiles. */
export class Sample {
  #values = new Float64Array(1024);
  #length = 0;
  #sorted = true;

  get size(): number {
    return this.#length;
  }

  add(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
    this.#sorted = false;
  }

  /** The value below which a fraction `q` of the sample lies (nearest rank); NaN when empty. */
  quantile(q: number): number {
    if (this.#length === 0) return Number.NaN;
    const values = this.#values.subarray(0, this.#length);
    if (!this.#sorted) {
      values.sort();
      this.#sorted = true;
    }
    const rank = Math.min(this.#length - 1, Math.max(0, Math.ceil(q * this.#length) - 1));
    return values[rank] ?? Number.NaN;
  }

  mean(): number {
    if (this.#length === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < this.#length; i++) sum += this.#values[i] ?? 0;
    return sum / this.#length;
  }
}

/** Jain's fairness index: 1 when everyone got the same, 1/n when one got everything. */
export function jainIndex(counts: readonly number[]): number {
  const sum = counts.reduce((a, b) => a + b, 0);
  const squares = counts.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? Number.NaN : (sum * sum) / (counts.length * squares);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/** Half the range of the runs as a fraction of their median (0.05 = ±5 %). */
export function relativeSpread(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mid = median(values);
  if (mid === 0 || !Number.isFinite(mid)) return 0;
  return (Math.max(...values) - Math.min(...values)) / 2 / Math.abs(mid);
}

/** Keeps only finite numbers, so that JSON never carries NaN. */
export function finiteMetrics(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, value]) => Number.isFinite(value)));
}
