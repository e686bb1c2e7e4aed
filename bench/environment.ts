/**
 * What the results depend on besides the code: the machine, its load (and the busiest other
 * processes, since other work may share the machine), and the versions of everything measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { SUBJECTS } from './subjects/catalog.js';

export interface Environment {
  readonly startedAt: string;
  readonly machine: {
    readonly cpuModel: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly os: string;
  };
  readonly node: string;
  readonly redis: { readonly version: string; readonly source: string };
  readonly lock: { readonly commit: string; readonly uncommittedChanges: boolean };
  /** Installed version of every package measured, by package name. */
  readonly versions: Readonly<Record<string, string>>;
  /** 1, 5 and 15-minute load averages when the run started. */
  readonly loadAtStart: readonly number[];
  /** The busiest processes that were not ours when the run started (`%CPU command`). */
  readonly busiestOtherProcesses: readonly string[];
}

const BENCH_DIR = import.meta.dirname;

export function packageVersion(name: string): string {
  const file = name.startsWith('@lock/')
    ? join(BENCH_DIR, '..', 'packages', name.slice('@lock/'.length), 'package.json')
    : join(BENCH_DIR, 'node_modules', name, 'package.json');
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
  return version.replace(/^v/, '');
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function busiestProcesses(): string[] {
  try {
    const lines = execFileSync('ps', ['-eo', 'pid=,ppid=,pcpu=,args=', '--sort=-pcpu'], {
      encoding: 'utf8',
    }).split('\n');
    const ours = String(process.pid);
    const parent = String(process.ppid);
    return lines
      .map((line) => line.trim().split(/\s+/))
      .filter(([pid, ppid, cpu]) => pid !== ours && pid !== parent && ppid !== ours && Number(cpu) >= 5)
      .slice(0, 6)
      .map(
        ([, , cpu, command = '', ...args]) =>
          `${cpu}% ${[basename(command), ...args].join(' ').slice(0, 100)}`,
      );
  } catch {
    return [];
  }
}

export function describeEnvironment(serverInfo: string, source: string): Environment {
  const packages = new Set([
    'ioredis',
    'redis',
    '@lock/core',
    ...SUBJECTS.map((subject) => subject.packageName),
  ]);
  return {
    startedAt: new Date().toISOString(),
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()} ${arch()}`,
    },
    node: process.version,
    redis: { version: /^redis_version:(\S+)/m.exec(serverInfo)?.[1] ?? 'unknown', source },
    lock: {
      commit: git(['rev-parse', '--short', 'HEAD']),
      uncommittedChanges: git(['status', '--porcelain']) !== '',
    },
    versions: Object.fromEntries([...packages].map((name) => [name, packageVersion(name)])),
    loadAtStart: loadavg().map((load) => Math.round(load * 100) / 100),
    busiestOtherProcesses: busiestProcesses(),
  };
}
