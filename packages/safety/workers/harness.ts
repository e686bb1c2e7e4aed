/**
 * The parent side of the worker protocol: forks a TypeScript worker under tsx and waits for its
 * messages by event (never by sleeping), failing fast with the worker's stderr when it dies.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { WorkerFailed } from './protocol.js';

/**
 * The tsx loader, resolved from this package (tsx is a devDependency of the workspace root), as a
 * file URL so that `--import` finds it whatever the child's working directory.
 */
export const TSX_LOADER: string = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Absolute path of a worker script in this directory. */
export function workerPath(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

/** How a worker process ended. */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A forked worker, with typed messages both ways. */
export interface Worker<In, Out extends { type: string }> {
  readonly child: ChildProcess;
  readonly pid: number;
  send(message: In): void;
  /** The next not yet consumed message of `type` (earlier ones are kept in order). */
  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>>;
  /** Every message of `type` received so far, consumed or not. */
  received<T extends Out['type']>(type: T): Extract<Out, { type: T }>[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** What the worker wrote to stderr so far. */
  stderr(): string;
}

/** Extras for a worker process. */
export interface SpawnOptions {
  /** Further Node options, after the tsx loader (e.g. another `--import` preload). */
  readonly execArgv?: readonly string[];
  /** Environment variables added to the parent's. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Forks `file` (a `.ts` worker in this directory) with `config` as JSON in argv[2]. */
export function spawnWorker<In, Out extends { type: string }>(
  file: string,
  config: unknown,
  options: SpawnOptions = {},
): Worker<In, Out> {
  const child = fork(workerPath(file), [JSON.stringify(config)], {
    execArgv: ['--import', TSX_LOADER, ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) throw new Error(`could not fork ${file}`);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });

  const all: Out[] = [];
  const unconsumed: Out[] = [];
  const waiters = new Set<{
    type: string;
    resolve: (message: Out) => void;
    reject: (error: Error) => void;
  }>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const waiter of waiters) waiter.reject(failure);
    waiters.clear();
  };

  child.on('message', (raw) => {
    const message = raw as Out | WorkerFailed;
    if (message.type === 'failed') {
      failAll(new Error(`worker ${file} (pid ${child.pid}) failed:\n${(message as WorkerFailed).error}`));
      return;
    }
    all.push(message as Out);
    for (const waiter of waiters) {
      if (waiter.type === message.type) {
        waiters.delete(waiter);
        waiter.resolve(message as Out);
        return;
      }
    }
    unconsumed.push(message as Out);
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.on('exit', (code, signal) => {
      // Let the last stderr chunk arrive before a waiter reports it.
      setImmediate(() => {
        failAll(
          new Error(`worker ${file} (pid ${child.pid}) exited (${signal ?? code}); stderr:\n${stderr}`),
        );
        resolve({ code, signal });
      });
    });
  });

  return {
    child,
    pid: child.pid,
    send: (message) => {
      child.send(message as object);
    },
    next<T extends Out['type']>(type: T, timeoutMs: number) {
      type Wanted = Extract<Out, { type: T }>;
      const index = unconsumed.findIndex((message) => message.type === type);
      if (index >= 0) return Promise.resolve(unconsumed.splice(index, 1)[0] as Wanted);
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<Wanted>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no '${type}' from worker ${file} within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        const waiter = {
          type,
          resolve: (message: Out) => {
            clearTimeout(timer);
            resolve(message as Wanted);
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        waiters.add(waiter);
      });
    },
    received: <T extends Out['type']>(type: T) =>
      all.filter((message): message is Extract<Out, { type: T }> => message.type === type),
    exited,
    stderr: () => stderr,
  };
}

/** Kills a worker that is still running (after a failed test), and waits for it to go. */
export async function stopWorker(worker: Worker<unknown, { type: string }>): Promise<WorkerExit> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  return worker.exited;
}
