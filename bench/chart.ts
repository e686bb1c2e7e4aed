/**
 * The SVG chart docs/performance.md embeds: one panel per scenario, one bar per library (median of the
 * rounds), scaled within the panel. Hand-written SVG, small and diff-friendly.
 */
import type { CellIndex } from './aggregate.js';
import { count, type Format, micros, ms, rate } from './format.js';
import type { ScenarioId } from './jobs.js';
import { labelFor } from './labels.js';
import { type Role, SUBJECTS } from './subjects/catalog.js';

interface Panel {
  readonly title: string;
  readonly scenario: ScenarioId;
  readonly metric: string;
  readonly better: 'higher' | 'lower';
  readonly format: Format;
  readonly unit: string;
}

const PANELS: readonly Panel[] = [
  {
    title: 'Uncontended acquire + release',
    scenario: 'uncontended',
    metric: 'pairsPerSec',
    better: 'higher',
    format: rate,
    unit: 'pairs/s',
  },
  {
    title: 'Uncontended: client CPU per pair',
    scenario: 'uncontended',
    metric: 'cpuUsPerPair',
    better: 'lower',
    format: micros,
    unit: 'µs per acquire + release',
  },
  {
    title: 'Parallel (64 loops, one connection)',
    scenario: 'parallel',
    metric: 'pairsPerSec',
    better: 'higher',
    format: rate,
    unit: 'pairs/s',
  },
  {
    title: 'Contended, common retry policy',
    scenario: 'contended-common',
    metric: 'handoffsPerSec',
    better: 'higher',
    format: rate,
    unit: 'hand-offs/s',
  },
  {
    title: 'Contended: script calls per acquisition',
    scenario: 'contended-common',
    metric: 'scriptCallsPerAcquisition',
    better: 'lower',
    format: count,
    unit: 'EVALSHA per acquisition, 16 workers, one key',
  },
  {
    title: "Contended: Jain's fairness index",
    scenario: 'contended-common',
    metric: 'jain',
    better: 'higher',
    format: count,
    unit: 'over the workers’ acquisition counts (1 = fair)',
  },
  {
    title: 'Contended, library defaults',
    scenario: 'contended-defaults',
    metric: 'handoffsPerSec',
    better: 'higher',
    format: rate,
    unit: 'hand-offs/s',
  },
  {
    title: 'Hand-off wait with think time',
    scenario: 'contended-think',
    metric: 'handoffP50',
    better: 'lower',
    format: ms,
    unit: 'ms p50',
  },
  {
    title: 'Failed attempt on a held lock',
    scenario: 'failed-attempt',
    metric: 'attemptP50',
    better: 'lower',
    format: ms,
    unit: 'ms p50',
  },
  {
    title: 'Redlock over 3 servers',
    scenario: 'quorum',
    metric: 'pairsPerSec',
    better: 'higher',
    format: rate,
    unit: 'pairs/s',
  },
  {
    title: 'Semaphore (limit 4), 16 contending workers',
    scenario: 'primitives',
    metric: 'semaphorePerSec',
    better: 'higher',
    format: rate,
    unit: 'acquisitions/s',
  },
  {
    title: '10,000 held locks: event-loop lag',
    scenario: 'many-held',
    metric: 'lagP99',
    better: 'lower',
    format: ms,
    unit: 'ms p99',
  },
  {
    title: '10,000 held locks: renewal commands',
    scenario: 'many-held',
    metric: 'commandsPerLockPerInterval',
    better: 'lower',
    format: count,
    unit: 'commands per lock per interval',
  },
  {
    title: '10,000 held locks: heap per lock',
    scenario: 'many-held',
    metric: 'heapBytesPerLock',
    better: 'lower',
    format: rate,
    unit: 'bytes',
  },
];

const COLORS: Readonly<Record<Role, string>> = { lock: '#2563eb', floor: '#9ca3af', peer: '#f59e0b' };
const WIDTH = 960;
const COLUMNS = 2;
const PANEL_WIDTH = WIDTH / COLUMNS;
const LABEL_WIDTH = 190;
const BAR_MAX = PANEL_WIDTH - LABEL_WIDTH - 90;
const ROW = 17;
const PANEL_TOP = 34;
const LEGEND = 34;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(cells: CellIndex, versions: Readonly<Record<string, string>>): string {
  const label = labelFor(versions);
  const panelRows = PANELS.map((panel) =>
    SUBJECTS.map((subject) => ({
      subject,
      value: cells.median(panel.scenario, subject.id, panel.metric),
    })).filter(
      (row) =>
        row.value !== undefined ||
        (row.subject.role !== 'floor' && row.subject.unavailable[panel.scenario] !== undefined),
    ),
  );
  // Each line of panels is as tall as its longest panel.
  const lineTops: number[] = [];
  let top = LEGEND;
  for (let line = 0; line * COLUMNS < PANELS.length; line++) {
    lineTops.push(top);
    const longest = Math.max(
      ...panelRows.slice(line * COLUMNS, (line + 1) * COLUMNS).map((rows) => rows.length),
    );
    top += PANEL_TOP + longest * ROW + 16;
  }
  const height = top;
  const parts: string[] = [];

  PANELS.forEach((panel, index) => {
    const x0 = (index % COLUMNS) * PANEL_WIDTH + 10;
    const y0 = lineTops[Math.floor(index / COLUMNS)] ?? 0;
    const rows = panelRows[index] ?? [];
    const values = rows.flatMap((row) => (row.value === undefined ? [] : [row.value]));
    const max = Math.max(...values, Number.MIN_VALUE);
    parts.push(
      `<text x="${x0}" y="${y0 + 16}" class="t">${escapeXml(panel.title)}</text>`,
      `<text x="${x0}" y="${y0 + 29}" class="s">${escapeXml(`${panel.unit}, ${panel.better} is better`)}</text>`,
    );
    rows.forEach((row, i) => {
      const y = y0 + PANEL_TOP + i * ROW;
      parts.push(
        `<text x="${x0 + LABEL_WIDTH - 6}" y="${y + 11}" class="l">${escapeXml(label(row.subject.id))}</text>`,
      );
      if (row.value === undefined) {
        parts.push(`<text x="${x0 + LABEL_WIDTH}" y="${y + 11}" class="n">n/a</text>`);
        return;
      }
      const width = Math.max(1, (row.value / max) * BAR_MAX);
      parts.push(
        `<rect x="${x0 + LABEL_WIDTH}" y="${y + 2}" width="${width.toFixed(1)}" height="${ROW - 5}" fill="${COLORS[row.subject.role]}"/>`,
        `<text x="${(x0 + LABEL_WIDTH + width + 4).toFixed(1)}" y="${y + 11}" class="v">${escapeXml(panel.format(row.value))}</text>`,
      );
    });
  });

  const legend = (['lock', 'floor', 'peer'] as const).map((role, i) => {
    const x = 10 + i * 150;
    const name = { lock: '@lock', floor: 'raw floor', peer: 'other libraries' }[role];
    return `<rect x="${x}" y="10" width="12" height="12" fill="${COLORS[role]}"/><text x="${x + 17}" y="20" class="v">${name}</text>`;
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    '<style>.t{font-size:13px;font-weight:600;fill:#111}.s{font-size:10px;fill:#666}.l{font-size:11px;fill:#222;text-anchor:end}.v{font-size:11px;fill:#222}.n{font-size:11px;fill:#999;font-style:italic}</style>',
    '<title>pnpm bench: @lock, the raw Redis floor and other Node lock libraries, per scenario</title>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...legend,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
