/**
 * The markdown report: one table per scenario (medians of the rounds, ± half their range), the
 * commands counted on the wire beside the operation they belong to, and the targets.
 */
import type { Cell, CellIndex, MetricSummary } from './aggregate.js';
import {
  COMMON_RETRY,
  CONTENDED,
  FAILED_ATTEMPT,
  MANY_HELD,
  PARALLEL,
  PRIMITIVES,
  QUORUM,
  UNCONTENDED,
} from './config.js';
import type { Environment } from './environment.js';
import { commandBreakdown, count, type Format, ms, percent, rate, withSpread } from './format.js';
import type { ScenarioId, SubjectId } from './jobs.js';
import { labelFor } from './labels.js';
import type { Unavailable } from './plan.js';
import { SUBJECTS } from './subjects/catalog.js';
import type { TargetOutcome } from './targets.js';

export interface ReportInput {
  readonly environment: Environment;
  readonly cells: CellIndex;
  readonly unavailable: readonly Unavailable[];
  readonly targets: readonly TargetOutcome[];
  readonly rounds: number;
  readonly loadDuringRun: { readonly min: number; readonly max: number };
}

type Columns = (cell: Cell) => string[];

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = headers.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}

/** A titled table with its explanation; nothing when the run measured none of its rows. */
function section(
  title: string,
  intro: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
) {
  return rows.length === 0 ? [] : [`### ${title}`, intro, table(headers, rows)];
}

export function renderReport(input: ReportInput): string {
  const { cells, environment } = input;
  const label = labelFor(environment.versions);
  const metric = (cell: Cell, name: string, format: Format) => withSpread(cell.metrics[name], format);
  /** Safety counters: the worst run, not the median. */
  const maxOfRuns = (cell: Cell, name: string) => {
    const values = cell.metrics[name]?.values;
    return values === undefined ? '–' : String(Math.max(...values));
  };
  const both = (cell: Cell, a: string, b: string, format: Format) =>
    `${metric(cell, a, format)} / ${metric(cell, b, format)}`;

  /** One row per subject that took part (or could not), in catalog order. */
  const rows = (scenario: ScenarioId, width: number, columns: Columns): string[][] =>
    SUBJECTS.flatMap((subject) => {
      const reason = input.unavailable.find(
        (u) => u.scenario === scenario && u.subject === subject.id,
      )?.reason;
      const blanks = (text: string) => [label(subject.id), text, ...Array<string>(width - 2).fill('')];
      // The floor is a reference, not a contender: no row where it has nothing to show.
      if (reason !== undefined) return subject.role === 'floor' ? [] : [blanks(`n/a: ${reason}`)];
      const cell = cells.get(scenario, subject.id);
      if (cell === undefined) return [];
      if (cell.runs === 0) return [blanks(`failed: ${(cell.errors[0] ?? '').split('\n')[0]}`)];
      return [[label(subject.id), ...columns(cell)]];
    });
  const vsFloor = (scenario: ScenarioId, subject: SubjectId, value: MetricSummary | undefined) => {
    const client = SUBJECTS.find((s) => s.id === subject)?.client;
    const floor = cells.median(
      scenario,
      client === 'node-redis' ? 'floor-node-redis' : 'floor-ioredis',
      'pairsPerSec',
    );
    return value === undefined || floor === undefined ? '–' : percent(value.median / floor);
  };
  const wire = (subject: SubjectId, operation: string) =>
    commandBreakdown(cells.get('commands', subject)?.commands?.[operation]);

  const uncontendedHeaders = [
    'Library',
    'pairs/s',
    'vs floor',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'commands/pair',
  ];
  const pingRows = SUBJECTS.filter((subject) => subject.role === 'floor').flatMap((subject) => {
    const cell = cells.get('uncontended', subject.id);
    if (cell?.metrics.pingPerSec === undefined) return [];
    return [
      [
        `PING, ${subject.client} (1 round trip)`,
        `${metric(cell, 'pingPerSec', rate)} PING/s`,
        '',
        metric(cell, 'pingP50', ms),
        metric(cell, 'pingP99', ms),
        '',
        '1',
      ],
    ];
  });
  const contendedHeaders = (withCommands: boolean) => [
    'Library',
    'acquisitions/s',
    'hand-offs/s',
    'hand-off wait p50 / p99 ms',
    'acquire wait p50 / p99 ms',
    'per worker min–max',
    "Jain's index",
    'gave up/s',
    'overlaps',
    ...(withCommands ? ['commands/acquisition'] : []),
  ];
  const contendedColumns =
    (withCommands: boolean): Columns =>
    (cell) => [
      metric(cell, 'acquisitionsPerSec', rate),
      metric(cell, 'handoffsPerSec', rate),
      both(cell, 'handoffP50', 'handoffP99', ms),
      both(cell, 'waitP50', 'waitP99', ms),
      `${metric(cell, 'fairnessMin', rate)}–${metric(cell, 'fairnessMax', rate)}`,
      metric(cell, 'jain', count),
      metric(cell, 'gaveUpPerSec', rate),
      maxOfRuns(cell, 'overlaps'),
      ...(withCommands ? [wire(cell.subject, 'contendedAcquisition')] : []),
    ];

  const sections = [
    ...section(
      'Uncontended',
      `Sequential acquire + release on distinct keys over one connection, ${UNCONTENDED.durationMs / 1000} s per run; ` +
        '“vs floor” compares with the raw floor on the same client; commands counted on the wire in a separate run.',
      uncontendedHeaders,
      [
        ...rows('uncontended', uncontendedHeaders.length, (cell) => [
          metric(cell, 'pairsPerSec', rate),
          vsFloor('uncontended', cell.subject, cell.metrics.pairsPerSec),
          metric(cell, 'p50', ms),
          metric(cell, 'p99', ms),
          metric(cell, 'p999', ms),
          wire(cell.subject, 'pair'),
        ]),
        ...pingRows,
      ],
    ),
    ...section(
      'Parallel',
      `${PARALLEL.concurrency} concurrent acquire + release loops on distinct keys over one connection, ` +
        `${PARALLEL.durationMs / 1000} s per run.`,

      ['Library', 'pairs/s', 'vs floor'],
      rows('parallel', 3, (cell) => [
        metric(cell, 'pairsPerSec', rate),
        vsFloor('parallel', cell.subject, cell.metrics.pairsPerSec),
      ]),
    ),
    ...section(
      'Contended, common retry policy',
      `${CONTENDED.workers} workers, each with its own connection, loop acquire (waiting) → hold ${CONTENDED.holdMs} ms → ` +
        `release on one key for ${CONTENDED.durationMs / 1000} s, with no pause after the release (a releaser may ` +
        `take the lock straight back). Every library retries every ${COMMON_RETRY.delayMs} ms ` +
        `(± ${COMMON_RETRY.jitterMs} ms where it has jitter); @lock also wakes on its release notification. ` +
        'A hand-off is an acquisition by another worker than the previous holder; its wait runs from the holder ' +
        'starting its release to the next holder holding the lock. Overlaps (two holders at once) must be 0.',

      contendedHeaders(true),
      rows('contended-common', contendedHeaders(true).length, contendedColumns(true)),
    ),
    ...section(
      'Contended, library defaults',
      `The same loop (${CONTENDED.shortMs / 1000} s) with each library’s own retry defaults: redlock 10 retries ` +
        'every 200 ± 100 ms, redis-semaphore polls every 10 ms for up to 10 s, redlock-universal 3 retries every ' +
        '100 ms, @lock 100 ± 50 ms plus release notifications (with `waitTimeout: 10000`, since by default it does ' +
        'not wait). A worker whose library gave up simply tries again (“gave up/s”).',
      contendedHeaders(false),
      rows('contended-defaults', contendedHeaders(false).length, contendedColumns(false)),
    ),
    ...section(
      'Hand-off latency, think time',
      `The former hand-off benchmark: the same ${CONTENDED.workers} workers and common retry policy, but each ` +
        `worker pauses ${CONTENDED.thinkMs} ms after its release, so that the releaser does not simply take the ` +
        `lock again; ${CONTENDED.shortMs / 1000} s per run. This isolates how fast a waiter learns that the lock is free.`,
      contendedHeaders(false),
      rows('contended-think', contendedHeaders(false).length, contendedColumns(false)),
    ),
    ...section(
      'Failed attempt',
      `One non-blocking attempt on a lock held by another connection, ${FAILED_ATTEMPT.durationMs / 1000} s of ` +
        'attempts per run (tryAcquire, retryCount 0, acquireAttemptsLimit 1, retryAttempts 0).',

      ['Library', 'time p50 ms', 'time p99 ms', 'attempts/s', 'commands/attempt'],
      rows('failed-attempt', 5, (cell) => [
        metric(cell, 'attemptP50', ms),
        metric(cell, 'attemptP99', ms),
        metric(cell, 'attemptsPerSec', rate),
        wire(cell.subject, 'failedAttempt'),
      ]),
    ),
    ...section(
      'Quorum (Redlock over 3 servers)',
      `Sequential acquire + release on distinct keys through Redlock over ${QUORUM.servers} independent servers, ` +
        `${QUORUM.durationMs / 1000} s per run.`,

      ['Library', 'pairs/s', 'p50 ms', 'p99 ms'],
      rows('quorum', 4, (cell) => [
        metric(cell, 'pairsPerSec', rate),
        metric(cell, 'p50', ms),
        metric(cell, 'p99', ms),
      ]),
    ),
    ...section(
      'Many held locks',
      `${MANY_HELD.locks.toLocaleString('en-US')} auto-renewing locks held by one process over one connection (acquired ` +
        `${MANY_HELD.acquireConcurrency} at a time), ` +
        `watched for ${MANY_HELD.intervals} renewal intervals of ${MANY_HELD.intervalMs} ms ` +
        `(ttl ${MANY_HELD.ttlMs} ms; redlock-universal renews at 80 % of the ttl, every ` +
        `${Math.round(MANY_HELD.ttlMs * 0.8)} ms, and cannot be told otherwise). Commands are the EVALSHA/EVAL/PING calls in ` +
        '`INFO commandstats`; heap is measured after GC; lag is event-loop delay beyond a 10 ms timer.',

      [
        'Library',
        'renews every ms',
        'commands/lock/interval',
        'heap bytes/lock',
        'lag p50 ms',
        'lag p99 ms',
        'lag max ms',
        'lost',
        'acquire all ms',
      ],
      rows('many-held', 9, (cell) => [
        metric(cell, 'renewalIntervalMs', rate),
        metric(cell, 'commandsPerLockPerInterval', count),
        metric(cell, 'heapBytesPerLock', rate),
        metric(cell, 'lagP50', ms),
        metric(cell, 'lagP99', ms),
        metric(cell, 'lagMax', ms),
        metric(cell, 'lost', rate),
        metric(cell, 'acquireAllMs', rate),
      ]),
    ),
    ...section(
      'Primitives, contended',
      `${PRIMITIVES.workers} workers, each with its own connection, ${PRIMITIVES.durationMs / 1000} s per part, ` +
        `holding ${PRIMITIVES.holdMs} ms, waiting with the common retry policy. Semaphore: one name, limit ` +
        `${PRIMITIVES.limit}, acquire → hold → release; “max holders” is the most seen at once (must be ≤ ` +
        `${PRIMITIVES.limit}). Read-write lock: one name, one operation in ${PRIMITIVES.writeEvery} a write, ` +
        'else a read; a violation is a writer alongside anyone (must be 0). – where the library has no such primitive.',
      [
        'Library',
        'semaphore acquisitions/s',
        'max holders',
        'semaphore wait p50 / p99 ms',
        'reads/s',
        'writes/s',
        'read wait p50 / p99 ms',
        'write wait p50 / p99 ms',
        'gave up/s semaphore / rw',
        'violations',
      ],
      rows('primitives', 10, (cell) => [
        metric(cell, 'semaphorePerSec', rate),
        maxOfRuns(cell, 'semaphoreMaxHolders'),
        both(cell, 'semaphoreWaitP50', 'semaphoreWaitP99', ms),
        metric(cell, 'readsPerSec', rate),
        metric(cell, 'writesPerSec', rate),
        both(cell, 'readWaitP50', 'readWaitP99', ms),
        both(cell, 'writeWaitP50', 'writeWaitP99', ms),
        `${metric(cell, 'semaphoreGaveUpPerSec', rate)} / ${metric(cell, 'readWriteGaveUpPerSec', rate)}`,
        maxOfRuns(cell, 'violations'),
      ]),
    ),
    '### Targets',
    input.targets
      .map((outcome) => {
        const verdict = outcome.met === undefined ? 'not measured' : outcome.met ? 'met' : 'missed';
        return `- **${verdict}** — ${outcome.target}: ${outcome.detail}`;
      })
      .join('\n'),
  ];
  return [header(input), ...sections].join('\n\n');
}

function header({ environment, rounds, loadDuringRun }: ReportInput): string {
  const { machine, versions } = environment;
  const others = environment.busiestOtherProcesses.map(
    (line) => `\`${line.split(' ').slice(0, 3).join(' ')}\``,
  );
  const when = environment.startedAt.slice(0, 16).replace('T', ' ');
  const dirty = environment.lock.uncommittedChanges ? ' (with uncommitted changes)' : '';
  const busy =
    others.length > 0
      ? `; other processes were running (busiest at the start: ${others.slice(0, 3).join(', ')})`
      : '';
  return [
    `Measured ${when} UTC on ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}; ` +
      `Node ${environment.node}, Redis ${environment.redis.version} (${environment.redis.source}), ` +
      `@lock at ${environment.lock.commit}${dirty}.`,
    `Each figure is the median of ${rounds} runs, each in a fresh process, ± half the range of the runs. ` +
      `Load average (1 min) during the run: ${loadDuringRun.min}–${loadDuringRun.max}${busy}.`,
    `Versions: ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
  ].join('\n');
}
