/** Number formats of the tables and the chart. */
import type { MetricSummary } from './aggregate.js';

export type Format = (value: number) => string;

/** 12,345 */
export const rate: Format = (value) => Math.round(value).toLocaleString('en-US');

/** Milliseconds with about three significant digits. */
export const ms: Format = (value) => {
  const abs = Math.abs(value);
  if (abs < 1) return value.toFixed(3);
  if (abs < 10) return value.toFixed(2);
  if (abs < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
};

/** Microseconds of CPU per operation: whole µs, one decimal under 10. */
export const micros: Format = (value) => (Math.abs(value) < 10 ? value.toFixed(1) : rate(value));

/** Small counts such as commands per operation: up to two decimals. */
export const count: Format = (value) => String(Math.round(value * 100) / 100);

export const percent: Format = (value) => `${Math.round(value * 100)}%`;

/**
 * The median, and the range of the runs when there were several: `12,345 [11,020–13,410]`
 * (`12,345 [=]` when every run gave the same figure once formatted).
 */
export function withRange(summary: MetricSummary | undefined, format: Format): string {
  if (summary === undefined) return '–';
  if (summary.values.length < 2) return format(summary.median);
  const low = format(Math.min(...summary.values));
  const high = format(Math.max(...summary.values));
  return `${format(summary.median)} ${low === high ? '[=]' : `[${low}–${high}]`}`;
}

/** `2: SET, EVALSHA` — commands per operation with their names. */
export function commandBreakdown(perOperation: Readonly<Record<string, number>> | undefined): string {
  if (perOperation === undefined) return '–';
  const entries = Object.entries(perOperation)
    .filter(([, value]) => value >= 0.005)
    .sort(([, a], [, b]) => b - a);
  const total = entries.reduce((sum, [, value]) => sum + value, 0);
  const parts = entries.map(([name, value]) =>
    Math.abs(value - 1) < 0.005 ? name : `${count(value)}× ${name}`,
  );
  return `${count(total)}: ${parts.join(', ')}`;
}
