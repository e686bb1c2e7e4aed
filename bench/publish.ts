/**
 * Writes the report of a full run into docs/performance.md, between its `<!-- bench:start -->`
 * and `<!-- bench:end -->` markers, so that the published tables are always a run's own output
 * and never edited by hand. Everything outside the markers is left as it is; a page without both
 * markers (in that order, once each) is an error, not something to guess around.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CellIndex } from './aggregate.js';
import type { RunResults } from './outputs.js';
import { renderReport } from './report.js';

export const DOCS_PAGE = join(import.meta.dirname, '..', 'docs', 'performance.md');
export const START_MARKER = '<!-- bench:start -->';
export const END_MARKER = '<!-- bench:end -->';

/** `page` with the text between its markers replaced by `content`; throws without the markers. */
export function replaceBetweenMarkers(page: string, content: string, name = 'the page'): string {
  const start = page.indexOf(START_MARKER);
  const end = page.indexOf(END_MARKER);
  const problem =
    start === -1 || end === -1
      ? `has no ${start === -1 ? START_MARKER : END_MARKER} marker`
      : end < start
        ? `has ${END_MARKER} before ${START_MARKER}`
        : page.indexOf(START_MARKER, start + 1) !== -1 || page.indexOf(END_MARKER, end + 1) !== -1
          ? 'has more than one pair of bench markers'
          : undefined;
  if (problem !== undefined) {
    throw new Error(
      `${name} ${problem}: pnpm bench writes its report between ${START_MARKER} and ${END_MARKER}, ` +
        'each on a line of its own; put them back where the report belongs',
    );
  }
  return `${page.slice(0, start + START_MARKER.length)}\n${content.trim()}\n${page.slice(end)}`;
}

/** What goes between the markers: how the run is made, the chart, then the report itself. */
export function publishedReport(results: RunResults): string {
  const minutes = Math.max(1, Math.round(results.totalSeconds / 60));
  const version = (name: string) => results.environment.versions[name] ?? '?';
  const intro = [
    '<!-- Written by `pnpm bench` (bench/publish.ts) on every full run: do not edit by hand. -->',
    '`pnpm bench` measures @lock side by side with the raw Redis floor and the other Node lock',
    'libraries, in one run, on Redis servers it starts itself.',
    '',
    '![pnpm bench: @lock, the raw floor and other lock libraries, per scenario](../bench/results/chart.svg)',
    '',
    '**Run it.** `pnpm bench` builds the packages, provisions its own `redis-server`s like the tests',
    '(a free loopback port, never 6379; `REDIS_URL` is used as is and never flushed), and runs every',
    `library × scenario in a fresh Node process, ${results.rounds} times, in short interleaved rounds`,
    '(every subject once per round, in an order that rotates from round to round), so that a change of',
    `load on the machine hits every library alike. The run below took ${minutes} minutes on`,
    `${results.environment.machine.cores} cores; it is not part of \`pnpm test\` or CI. It prints one`,
    'markdown table per scenario, writes `bench/results/results.json` (every run, plus machine,',
    'versions and load), `summary.md` and `chart.svg`, and rewrites this section of',
    '`docs/performance.md`. `BENCH_ONLY=uncontended:lock-ioredis,many-held` runs a subset (written to',
    '`bench/results/partial/`; it never touches this page), `BENCH_ROUNDS=7` changes the number of',
    'rounds, `BENCH_CPU_PROF=1` writes a CPU profile of each job’s timed window (with its operation',
    'count) to `bench/results/profiles/`, which `pnpm --filter @lock/bench profile <file>` summarises',
    'by owner and function, per operation, and',
    '`pnpm --filter @lock/bench render` redraws the report and chart from `results.json`.',
    '',
    '**How to read it.** Each figure is the median of the runs with the lowest and the highest run in',
    'brackets. Throughput on this shared virtual machine moves by up to a third between runs of the',
    '*same* code (see the raw floor’s own range), so read differences inside the ranges as noise;',
    'client CPU µs per operation (user + system time of the client process over the timed window) is',
    'far steadier, since time spent waiting for the server is not in it. A job starved by other',
    'processes costs more CPU too (its JIT warms up later): then the lowest figure of its range, the',
    'least disturbed run, is the one to compare.',
    '',
    '**Who.** @lock over ioredis and over node-redis, with its defaults (fencing tokens and release',
    'notifications on), and the fair lock (`fair: true`) over ioredis. The raw floor on each client:',
    '`SET key token NX PX ttl`, then an EVALSHA compare-and-delete on the same connection, and PING',
    `for one round trip. redlock ${version('redlock')} (npm’s \`latest\`), redlock ${version('redlock5')}`,
    `(installed as \`redlock5\`), @sesamecare-oss/redlock ${version('@sesamecare-oss/redlock')},`,
    `redis-semaphore ${version('redis-semaphore')} (\`Mutex\`; \`Semaphore\` for the primitives) and`,
    `redlock-universal ${version('redlock-universal')} (its \`engines\` asks for Node ≥ 22; it installs and`,
    'runs on Node 20), all on ioredis with their own defaults, except for the retry policy where a',
    'table says so. Commands are counted on the wire by a counting proxy, in a separate untimed run',
    '(for held locks, from `INFO commandstats`); script calls per acquisition (EVALSHA) from',
    '`INFO commandstats` over the timed window itself.',
  ].join('\n');
  const report = renderReport({
    environment: results.environment,
    cells: new CellIndex(results.cells),
    unavailable: results.unavailable,
    targets: results.targets,
    rounds: results.rounds,
    loadDuringRun: results.loadDuringRun,
    headingLevel: 2,
  });
  return `${intro}\n\n## The run\n\n${report}`;
}

/** Fails now, rather than after the whole run, when the page has lost its markers. */
export async function checkDocsPage(page: string = DOCS_PAGE): Promise<void> {
  replaceBetweenMarkers(await readFile(page, 'utf8'), '', page);
}

/** Rewrites the report section of docs/performance.md from `results`. */
export async function publishToDocs(results: RunResults, page: string = DOCS_PAGE): Promise<void> {
  const text = await readFile(page, 'utf8');
  await writeFile(page, replaceBetweenMarkers(text, publishedReport(results), page));
}
