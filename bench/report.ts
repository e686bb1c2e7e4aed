/**
 * The markdown report: a summary table of the figures contention work is judged by, then one
 * table per scenario (medians of the rounds with their [min–max] range), client CPU µs per
 * operation next to every throughput, the commands counted on the wire beside the operation they
 * belong to, and the targets.
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
import { commandBreakdown, count, type Format, micros, ms, percent, rate, withRange } from './format.js';
import { SCENARIO_IDS, type ScenarioId, type SubjectId } from './jobs.js';
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
  /** Markdown heading level of the scenario sections (3 in summary.md, 2 in the docs page). */
  readonly headingLevel?: number;
}

type Columns = (cell: Cell) => string[];

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = headers.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}

/** A titled table with its explanation; nothing when the run measured none of its rows. */
export function renderReport(input: ReportInput): string {
  const { cells, environment } = input;
  const hashes = '#'.repeat(input.headingLevel ?? 3);
  const section = (
    title: string,
    intro: string,
    headers: readonly string[],
    rows: readonly (readonly string[])[],
  ) => (rows.length === 0 ? [] : [`${hashes} ${title}`, intro, table(headers, rows)]);
  const label = labelFor(environment.versions);
  const metric = (cell: Cell, name: string, format: Format) => withRange(cell.metrics[name], format);
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
    'CPU µs/pair',
    'heap bytes/pair',
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
        '',
        '',
        metric(cell, 'pingP50', ms),
        metric(cell, 'pingP99', ms),
        '',
        '1',
      ],
    ];
  });
  /** Medians only: a range of a minimum and of a maximum would not fit in one cell. */
  const medianOnly = (cell: Cell, name: string, format: Format) => {
    const value = cell.metrics[name]?.median;
    return value === undefined ? '–' : format(value);
  };
  const contendedHeaders = (withCommands: boolean) => [
    'Library',
    'acquisitions/s',
    'hand-offs/s',
    'CPU µs/acquisition',
    'EVALSHA/acquisition',
    "Jain's index",
    'least served / mean',
    'per worker min–max (medians)',
    'acquire wait p50 ms',
    'acquire wait p99 ms',
    'acquire wait p99.9 ms',
    'hand-off wait p50 ms',
    'hand-off wait p99 ms',
    'gave up/s',
    'overlaps',
    ...(withCommands ? ['commands/acquisition (wire)'] : []),
  ];
  const contendedColumns =
    (withCommands: boolean): Columns =>
    (cell) => [
      metric(cell, 'acquisitionsPerSec', rate),
      metric(cell, 'handoffsPerSec', rate),
      metric(cell, 'cpuUsPerAcquisition', micros),
      metric(cell, 'scriptCallsPerAcquisition', count),
      metric(cell, 'jain', count),
      metric(cell, 'minShare', count),
      `${medianOnly(cell, 'fairnessMin', rate)}–${medianOnly(cell, 'fairnessMax', rate)}`,
      metric(cell, 'waitP50', ms),
      metric(cell, 'waitP99', ms),
      metric(cell, 'waitP999', ms),
      metric(cell, 'handoffP50', ms),
      metric(cell, 'handoffP99', ms),
      metric(cell, 'gaveUpPerSec', rate),
      maxOfRuns(cell, 'overlaps'),
      ...(withCommands ? [wire(cell.subject, 'contendedAcquisition')] : []),
    ];

  const summaryHeaders = [
    'Library',
    'uncontended pairs/s',
    'CPU µs/pair',
    'parallel pairs/s',
    'CPU µs/pair',
    'contended acquisitions/s',
    'hand-offs/s',
    'EVALSHA/acquisition',
    "Jain's index",
    'least served / mean',
    'acquire wait p99 ms',
    'acquire wait p99.9 ms',
    'Redlock pairs/s',
    'CPU µs/pair',
    'semaphore wait p99 ms',
  ];
  const at = (scenario: ScenarioId, subject: SubjectId, name: string, format: Format) => {
    const cell = cells.get(scenario, subject);
    if (cell === undefined) return '–';
    const reason = input.unavailable.find((u) => u.scenario === scenario && u.subject === subject);
    return reason === undefined ? metric(cell, name, format) : 'n/a';
  };
  const summaryRows = SUBJECTS.filter((subject) =>
    SCENARIO_IDS.some((scenario) => cells.get(scenario, subject.id)?.runs),
  ).map((subject) => {
    const id = subject.id;
    const contended = (name: string, format: Format) =>
      subject.unavailable['contended-common'] === undefined
        ? at('contended-common', id, name, format)
        : 'n/a';
    return [
      label(id),
      at('uncontended', id, 'pairsPerSec', rate),
      at('uncontended', id, 'cpuUsPerPair', micros),
      at('parallel', id, 'pairsPerSec', rate),
      at('parallel', id, 'cpuUsPerPair', micros),
      contended('acquisitionsPerSec', rate),
      contended('handoffsPerSec', rate),
      contended('scriptCallsPerAcquisition', count),
      contended('jain', count),
      contended('minShare', count),
      contended('waitP99', ms),
      contended('waitP999', ms),
      subject.unavailable.quorum === undefined ? at('quorum', id, 'pairsPerSec', rate) : 'n/a',
      subject.unavailable.quorum === undefined ? at('quorum', id, 'cpuUsPerPair', micros) : 'n/a',
      subject.unavailable.primitives === undefined ? at('primitives', id, 'semaphoreWaitP99', ms) : 'n/a',
    ];
  });

  const sections = [
    ...section(
      'Summary',
      'The figures contention work is judged by, side by side; every one is explained in its ' +
        'scenario’s table below. CPU is the client process’s user + system time per operation ' +
        '(steadier than throughput on a shared machine); EVALSHA counts every script call ' +
        '(`INFO commandstats`) over the timed window; “least served / mean” is the acquisitions of ' +
        'the least served worker over the mean (1 = fair, 0 = starved). The contended columns are ' +
        `the common retry policy run (${CONTENDED.workers} workers on one key), Redlock is the quorum ` +
        `run over ${QUORUM.servers} servers, the semaphore has limit ${PRIMITIVES.limit}.`,
      summaryHeaders,
      summaryRows,
    ),
    ...section(
      'Uncontended',
      `Sequential acquire + release on distinct keys over one connection, ${UNCONTENDED.durationMs / 1000} s per run; ` +
        '“vs floor” compares with the raw floor on the same client; CPU is the client process’s user + system time ' +
        'per pair, heap bytes what the JavaScript heap allocated per pair; commands counted on the wire in a separate run.',
      uncontendedHeaders,
      [
        ...rows('uncontended', uncontendedHeaders.length, (cell) => [
          metric(cell, 'pairsPerSec', rate),
          vsFloor('uncontended', cell.subject, cell.metrics.pairsPerSec),
          metric(cell, 'cpuUsPerPair', micros),
          metric(cell, 'heapBytesPerPair', rate),
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

      ['Library', 'pairs/s', 'vs floor', 'CPU µs/pair', 'heap bytes/pair'],
      rows('parallel', 5, (cell) => [
        metric(cell, 'pairsPerSec', rate),
        vsFloor('parallel', cell.subject, cell.metrics.pairsPerSec),
        metric(cell, 'cpuUsPerPair', micros),
        metric(cell, 'heapBytesPerPair', rate),
      ]),
    ),
    ...section(
      'Contended, common retry policy',
      `${CONTENDED.workers} workers, each with its own connection, loop acquire (waiting) → hold ${CONTENDED.holdMs} ms → ` +
        `release on one key for ${CONTENDED.durationMs / 1000} s, with no pause after the release (a releaser may ` +
        `take the lock straight back). Every library retries every ${COMMON_RETRY.delayMs} ms ` +
        `(± ${COMMON_RETRY.jitterMs} ms where it has jitter); @lock also wakes on its release notification. ` +
        'A hand-off is an acquisition by another worker than the previous holder; its wait runs from the holder ' +
        'starting its release to the next holder holding the lock. EVALSHA/acquisition counts every script ' +
        'call the server ran in the timed window (`INFO commandstats`), “commands/acquisition (wire)” every ' +
        'command, counted by a proxy in a separate untimed run; CPU is the client process’s per acquisition. ' +
        'Overlaps (two holders at once) must be 0.',

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

      ['Library', 'time p50 ms', 'time p99 ms', 'attempts/s', 'CPU µs/attempt', 'commands/attempt'],
      rows('failed-attempt', 6, (cell) => [
        metric(cell, 'attemptP50', ms),
        metric(cell, 'attemptP99', ms),
        metric(cell, 'attemptsPerSec', rate),
        metric(cell, 'cpuUsPerAttempt', micros),
        wire(cell.subject, 'failedAttempt'),
      ]),
    ),
    ...section(
      'Quorum (Redlock over 3 servers)',
      `Sequential acquire + release on distinct keys through Redlock over ${QUORUM.servers} independent servers, ` +
        `${QUORUM.durationMs / 1000} s per run.`,

      ['Library', 'pairs/s', 'CPU µs/pair', 'heap bytes/pair', 'p50 ms', 'p99 ms'],
      rows('quorum', 6, (cell) => [
        metric(cell, 'pairsPerSec', rate),
        metric(cell, 'cpuUsPerPair', micros),
        metric(cell, 'heapBytesPerPair', rate),
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
        'else a read; a violation is a writer alongside anyone (must be 0). CPU is the client process’s per ' +
        'acquisition (per read or write for the read-write lock), EVALSHA every script call the server ran. ' +
        '– where the library has no such primitive.',
      [
        'Library',
        'semaphore acquisitions/s',
        'CPU µs/acquisition',
        'EVALSHA/acquisition',
        'max holders',
        'semaphore wait p50 ms',
        'semaphore wait p99 ms',
        'semaphore wait p99.9 ms',
        'reads/s',
        'writes/s',
        'read wait p50 / p99 ms',
        'write wait p50 / p99 ms',
        'read-write CPU µs/operation',
        'gave up/s semaphore / rw',
        'violations',
      ],
      rows('primitives', 15, (cell) => [
        metric(cell, 'semaphorePerSec', rate),
        metric(cell, 'semaphoreCpuUsPerAcquisition', micros),
        metric(cell, 'semaphoreScriptCallsPerAcquisition', count),
        maxOfRuns(cell, 'semaphoreMaxHolders'),
        metric(cell, 'semaphoreWaitP50', ms),
        metric(cell, 'semaphoreWaitP99', ms),
        metric(cell, 'semaphoreWaitP999', ms),
        metric(cell, 'readsPerSec', rate),
        metric(cell, 'writesPerSec', rate),
        both(cell, 'readWaitP50', 'readWaitP99', ms),
        both(cell, 'writeWaitP50', 'writeWaitP99', ms),
        metric(cell, 'readWriteCpuUsPerOperation', micros),
        `${metric(cell, 'semaphoreGaveUpPerSec', rate)} / ${metric(cell, 'readWriteGaveUpPerSec', rate)}`,
        maxOfRuns(cell, 'violations'),
      ]),
    ),
    `${hashes} Targets`,
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
    `Each figure is the median of ${rounds} runs, each in a fresh process, with [the lowest–the highest] of the runs ` +
      '(the rounds are interleaved: every subject runs once per round, in a rotating order). ' +
      `Load average (1 min) during the run: ${loadDuringRun.min}–${loadDuringRun.max}${busy}.`,
    ...(loadDuringRun.max > machine.cores
      ? [
          `**The machine was overloaded** (load average up to ${loadDuringRun.max} on ${machine.cores} cores): ` +
            'a job that ran while other processes took the cores is several times slower and costs several ' +
            'times the CPU per operation (its JIT warms up later), and where most rounds of one subject were ' +
            'hit, even the median shows it. Compare the lowest CPU µs/operation of each range (the least ' +
            'disturbed run) rather than the medians, and do not read the targets below as measured.',
        ]
      : []),
    `Versions: ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
  ].join('\n');
}
