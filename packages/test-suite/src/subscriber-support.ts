/** What the subscriber suite's tests share: reading INFO, timing, closing clients, child processes. */
import { spawn } from 'node:child_process';
import { LockError } from '@lock/core';
import type { ConnectedClient } from './adapter-under-test.js';

/** Reads one numeric field of `INFO <section>`. */
export async function infoField(client: ConnectedClient, section: string, field: string): Promise<number> {
  const info = String(await client.command(['INFO', section]));
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  if (match === null) throw new Error(`INFO ${section} has no ${field}`);
  return Number(match[1]);
}

/** How `promise` settled, and after how many ms; `timedOut` when it had not after `limit` ms. */
export interface Timed<T> {
  readonly ms: number;
  readonly value?: T;
  readonly error?: unknown;
  readonly rejected: boolean;
  readonly timedOut: boolean;
}

/**
 * Times `promise`, giving up on it after `limit` ms: a call that never settles (what these tests
 * look for) then fails its assertions instead of hanging the test and its clean-up.
 */
export function timed<T>(promise: Promise<T>, limit = 10_000): Promise<Timed<T>> {
  const started = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ ms: performance.now() - started, rejected: false, timedOut: true }),
      limit,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ ms: performance.now() - started, value, rejected: false, timedOut: false });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ ms: performance.now() - started, error, rejected: true, timedOut: false });
      },
    );
  });
}

/** Closes a client of the test, without letting a close that hangs hang the suite. */
export async function closeClient(client: ConnectedClient): Promise<void> {
  await timed(client.close(), 5_000);
}

/** What a child process did: its exit code, how long it lived, and its JSON report. */
export interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly livedMs: number;
  readonly report: { outcome: string; settledMs: number } | undefined;
  readonly stderr: string;
}

/** Runs `node ...args` to its end; kills it (and says so) if it is still alive after `killAfter` ms. */
export function runChild(args: readonly string[], killAfter: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfter);
    child.once('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      const line = stdout.trim().split('\n').at(-1);
      let report: ChildRun['report'];
      try {
        report = line ? (JSON.parse(line) as ChildRun['report']) : undefined;
      } catch {
        report = undefined;
      }
      resolve({ code, signal, livedMs: performance.now() - started, report, stderr });
    });
  });
}

/** The error's code, for reports and assertions. */
export function codeOf(error: unknown): string {
  return LockError.isInstance(error) ? error.code : String(error);
}
