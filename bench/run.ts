/**
 * `pnpm bench`: provisions its own Redis servers, runs every subject × scenario in a fresh Node
 * process, round after round, and reports medians and ranges: markdown tables on stdout, the
 * full results as JSON and an SVG chart under bench/results/; a full run also rewrites the report
 * section of docs/performance.md (between its bench markers).
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_ONLY (e.g. `uncontended:lock-ioredis,many-held`;
 * such a partial run writes under results/partial/ instead and never touches the docs),
 * BENCH_CPU_PROF=1 (a CPU profile of each job's timed window under results/profiles/), REDIS_URL (use that
 * server; never flushed).
 * `pnpm --filter @lock/bench render` redraws summary.md and chart.svg from results.json.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { aggregate } from './aggregate.js';
import { buildChild } from './build-child.js';
import { ROUNDS } from './config.js';
import { describeEnvironment } from './environment.js';
import { type JobRecord, runJob } from './fork-job.js';
import { withTargets, writeOutputs } from './outputs.js';
import { makePlan } from './plan.js';
import { checkDocsPage, DOCS_PAGE, publishToDocs } from './publish.js';
import { startServers } from './servers.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');
const JOB_TIMEOUT_MS = 60_000;

const plan = makePlan();
const partial = (process.env.BENCH_ONLY ?? '') !== '';
const outDir = partial ? join(RESULTS_DIR, 'partial') : RESULTS_DIR;
const cpuProfileDir = process.env.BENCH_CPU_PROF === '1' ? join(RESULTS_DIR, 'profiles') : undefined;
const log = (line: string) => process.stderr.write(`${line}\n`);

if (!partial) await checkDocsPage();
const started = performance.now();
const servers = await startServers();
try {
  const environment = describeEnvironment(await servers.serverInfo(), servers.source);
  const bundle = await buildChild();
  if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });
  log(
    `bench: ${plan.jobs.length} jobs, ${ROUNDS} rounds, Redis from ${servers.source}, load ${environment.loadAtStart.join(' ')}`,
  );

  const records: JobRecord[] = [];
  for (const [index, job] of plan.jobs.entries()) {
    await servers.reset();
    const spec = {
      ...job,
      redis: servers.targets,
      prefix: `bench:${job.scenario}:${job.subject}:${job.round}:`,
    };
    const record = await runJob(spec, {
      bundle,
      counts: () => servers.proxy.counts(),
      cpuProfileDir,
      timeoutMs: JOB_TIMEOUT_MS,
    });
    records.push(record);
    const status = record.error
      ? `FAILED: ${record.error.split('\n')[0]}`
      : `${(record.wallMs / 1000).toFixed(1)} s`;
    log(`[${index + 1}/${plan.jobs.length}] round ${job.round} ${job.scenario} ${job.subject}: ${status}`);
  }

  const loads = records.flatMap((record) => record.load);
  await mkdir(outDir, { recursive: true });
  const results = withTargets({
    environment,
    rounds: ROUNDS,
    loadDuringRun: { min: Math.min(...loads), max: Math.max(...loads) },
    totalSeconds: Math.round((performance.now() - started) / 1000),
    unavailable: plan.unavailable,
    cells: aggregate(records),
    jobs: records,
  });
  console.log(`\n${await writeOutputs(results, outDir)}\n`);
  if (!partial) await publishToDocs(results);
  log(
    `bench: done in ${results.totalSeconds} s; results in ${outDir}` +
      (partial ? ' (a partial run: docs untouched)' : `; report written to ${DOCS_PAGE}`),
  );
} finally {
  await servers.stop();
}
