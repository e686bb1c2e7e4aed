/** Differences between two snapshots of the counting proxy. */
import type { WireCounts } from '../jobs.js';

/** Commands per operation, by command name, between two snapshots. */
export function perOperation(
  before: WireCounts,
  after: WireCounts,
  operations: number,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    const delta = count - (before[name] ?? 0);
    if (delta > 0) result[name] = delta / operations;
  }
  return result;
}

export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}
