/**
 * Runs one job in a fresh Node process and collects its result once the process has exited. The process may ask for the
 * counting proxy's totals while it runs. A job that fails, exits early or overruns its time is
 * reported as failed; it never stops the rest of the run.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { ChildMessage, JobResult, JobSpec, ParentMessage, WireCounts } from './jobs.js';

export interface JobOptions {
  readonly bundle: string;
  readonly counts: () => WireCounts;
  /**
   * Directory for a CPU profile of the job, if profiling: of its timed window where it has one
   * (child.ts), else of the whole process (`--cpu-prof`).
   */
  readonly cpuProfileDir?: string | undefined;
  readonly timeoutMs: number;
}

export interface JobRecord {
  readonly spec: JobSpec;
  readonly result?: JobResult;
  readonly error?: string;
  readonly wallMs: number;
  /** 1-minute load average before and after the job. */
  readonly load: readonly [number, number];
}

export async function runJob(spec: JobSpec, options: JobOptions): Promise<JobRecord> {
  const loadBefore = loadavg()[0] ?? 0;
  const started = performance.now();
  const record = (outcome: { result?: JobResult; error?: string }): JobRecord => ({
    spec,
    ...outcome,
    wallMs: Math.round(performance.now() - started),
    load: [round(loadBefore), round(loadavg()[0] ?? 0)],
  });
  try {
    return record({ result: await forkAndWait(spec, options) });
  } catch (error) {
    return record({ error: error instanceof Error ? error.message : String(error) });
  }
}

/** Scenarios without one timed window to profile: their whole process is profiled instead. */
const WHOLE_PROCESS: ReadonlySet<string> = new Set(['many-held', 'commands']);

function forkAndWait(spec: JobSpec, options: JobOptions): Promise<JobResult> {
  const dir = options.cpuProfileDir;
  const name = `${spec.scenario}.${spec.subject}.r${spec.round}.cpuprofile`;
  const wholeProcess = dir !== undefined && WHOLE_PROCESS.has(spec.scenario);
  const profiling = wholeProcess
    ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`]
    : [];
  const env =
    dir !== undefined && !wholeProcess
      ? { ...process.env, BENCH_PROFILE_FILE: join(dir, name) }
      : process.env;
  const child = fork(options.bundle, [JSON.stringify(spec)], {
    env,
    execArgv: ['--expose-gc', ...profiling],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<JobResult>((resolve, reject) => {
    let settled = false;
    let result: JobResult | undefined;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`timed out after ${options.timeoutMs} ms`)));
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'counts?') {
        const answer: ParentMessage = { type: 'counts', id: message.id, counts: options.counts() };
        child.send(answer);
      } else if (message.type === 'result') {
        result = message.result;
      } else {
        settle(() => reject(new Error(message.message)));
      }
    });
    child.on('error', (error) => settle(() => reject(error)));
    // Resolve on exit, so that the next job starts only once this one (and its profile) is done.
    child.on('exit', (code, signal) =>
      settle(() =>
        result === undefined
          ? reject(new Error(`the job process exited (${signal ?? `code ${code}`}) without a result`))
          : resolve(result),
      ),
    );
  });
}

const round = (value: number) => Math.round(value * 100) / 100;
