/**
 * Running a throwaway `redis-server` binary: the fastest way to get a private Redis for tests
 * when one is installed, with no Docker and no shared state.
 *
 * Internal to `@lock/test-suite`: reached through `provisionRedis()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findFreePort } from './ports.js';
import { waitForPong } from './readiness.js';
import type { RedisInstance } from './redis-server.js';
import { sendCommand } from './resp.js';

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
/** How many random ports to try before concluding the failure is not a port race. */
const PORT_ATTEMPTS = 5;
const OUTPUT_TAIL_CHARS = 4_000;

/** Environment variables that influence where the binary is looked up. */
export interface BinaryLookupEnv {
  readonly PATH?: string | undefined;
  readonly REDIS_SERVER_BIN?: string | undefined;
}

/**
 * Finds the `redis-server` to run: `REDIS_SERVER_BIN` if set (a path, or a name looked up on PATH),
 * else `redis-server` on PATH. Returns `undefined` when there is none. Throws when
 * `REDIS_SERVER_BIN` is set but unusable, because silently ignoring an explicit choice would make
 * the tests run against something the user did not ask for.
 */
export function findRedisServerBinary(env: BinaryLookupEnv): string | undefined {
  const path = env.PATH ?? '';
  const explicit = env.REDIS_SERVER_BIN;
  if (explicit) {
    const resolved = explicit.includes('/') ? explicit : findOnPath(explicit, path);
    if (resolved && isExecutableFile(resolved)) return resolved;
    throw new Error(`REDIS_SERVER_BIN=${explicit} does not point to an executable redis-server`);
  }
  return findOnPath('redis-server', path);
}

/** The first executable file called `name` in the directories of `path` (a PATH-style list). */
export function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Starts `binary` on a free loopback port with persistence off and a fresh data directory, and
 * resolves once it answers PING. Retries on another port when the chosen one was taken meanwhile.
 */
export async function startRedisServer(binary: string): Promise<RedisInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'lock-redis-'));
  try {
    const { port, server } = await launchOnFreePort(binary, dir);
    return new SpawnedRedis(binary, port, dir, server);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Extra `redis-server` arguments for a server about to start on `port`; called again with a new
 * port when a retry is needed. May pick more free ports of its own (e.g. a cluster bus port).
 */
export type ExtraServerArgs = (port: number) => Promise<readonly string[]>;

/**
 * Starts `binary` in `dir` on a free loopback port with persistence off, plus `extraArgs`, and
 * resolves once it answers PING. Retries with new ports when one was taken meanwhile. The process
 * dies with the test process (watchdog); the caller stops it and removes `dir`.
 */
export async function launchOnFreePort(
  binary: string,
  dir: string,
  extraArgs?: ExtraServerArgs,
): Promise<{ port: number; server: ServerProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return { port, server: await launch(binary, port, dir, (await extraArgs?.(port)) ?? []) };
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Our server could not bind its port because something else holds it. */
class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

class SpawnedRedis implements RedisInstance {
  readonly source = 'redis-server';
  readonly host = HOST;
  readonly url: string;
  private stopping: Promise<void> | undefined;
  private readonly removeExitHook: () => void;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly dir: string,
    private server: ServerProcess,
  ) {
    this.url = `redis://${HOST}:${port}`;
    this.removeExitHook = onProcessExit(() => {
      this.server.killNow();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  async restart(): Promise<void> {
    if (this.stopping) throw new Error(`Cannot restart the Redis at ${this.url}: it was stopped`);
    await this.server.stop();
    let next: ServerProcess;
    try {
      next = await launch(this.binary, this.port, this.dir);
    } catch (error) {
      if (!(error instanceof PortInUseError)) throw error;
      throw new Error(
        `Could not restart redis-server on port ${this.port}: another process took the port while it was down`,
        { cause: error },
      );
    }
    this.server = next;
    // stop() may have run while we were launching; it only saw the old process.
    if (this.stopping) await next.stop();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await this.server.stop();
    this.removeExitHook();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function serverArgs(port: number, dir: string, extraArgs: readonly string[]): string[] {
  return [
    ...['--port', String(port), '--bind', HOST],
    // Tests want a blank, disposable server: nothing written to disk, nothing read back.
    ...['--save', '', '--appendonly', 'no', '--dir', dir],
    ...['--daemonize', 'no', '--loglevel', 'warning'],
    ...extraArgs,
  ];
}

/** Spawns one redis-server process and waits until it is the one answering on `port`. */
async function launch(
  binary: string,
  port: number,
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(binary, serverArgs(port, dir, extraArgs), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = new ServerProcess(child, dir);
  const address = { host: HOST, port };
  try {
    await waitForPong(address, {
      timeoutMs: STARTUP_TIMEOUT_MS,
      giveUpIf: () => server.startupFailure(binary, port),
      description: `${binary} on port ${port}`,
    });
    await assertServedBy(server, port);
    return server;
  } catch (error) {
    await server.stop();
    if (error instanceof PortInUseError) throw error;
    throw new Error(`${errorMessage(error)}\n${server.describeOutput()}`, {
      cause: error,
    });
  }
}

/**
 * Makes sure the PONG came from our process: if another server grabbed the port first, our
 * redis-server is about to exit with a bind error and PING reached the intruder instead.
 */
async function assertServedBy(server: ServerProcess, port: number): Promise<void> {
  const info = await sendCommand({ host: HOST, port }, ['INFO', 'server']);
  const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  if (pid !== server.pid) throw new PortInUseError(`Port ${port} is served by another process (pid ${pid})`);
}

/** One redis-server process, its recent output, and the watchdog that kills it if we die. */
export class ServerProcess {
  readonly exited: Promise<void>;
  private output = '';
  private closed = false;
  private spawnError: Error | undefined;
  private readonly watchdog: ChildProcess | undefined;

  constructor(
    private readonly child: ChildProcess,
    dir: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.record(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.record(chunk));
    // 'close' (not 'exit') so the output tail is complete when we look at why it died.
    this.exited = new Promise<void>((resolve) => {
      child.once('close', () => {
        this.closed = true;
        resolve();
      });
      child.once('error', (error) => {
        this.spawnError = error;
        this.closed = true;
        resolve();
      });
    });
    this.watchdog = startWatchdog(child.pid, dir);
    letProcessExitWithoutStopping(child, this.watchdog);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Why the server can no longer come up, or `undefined` while it still might. */
  startupFailure(binary: string, port: number): Error | undefined {
    if (this.spawnError) return new Error(`Could not run ${binary}: ${this.spawnError.message}`);
    if (!this.closed) return undefined;
    if (this.output.includes('Address already in use'))
      return new PortInUseError(`Port ${port} is already in use`);
    const { exitCode, signalCode } = this.child;
    return new Error(`${binary} exited during startup (${signalCode ?? `exit code ${exitCode}`})`);
  }

  describeOutput(): string {
    const tail = this.output.trim();
    return tail ? `redis-server output (last lines):\n${tail}` : 'redis-server printed nothing.';
  }

  /** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. Safe to repeat. */
  async stop(): Promise<void> {
    // Disarm the watchdog first so it can never signal a recycled pid later.
    this.watchdog?.kill('SIGKILL');
    if (this.closed) return;
    this.child.kill('SIGTERM');
    const escalation = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(escalation);
  }

  /** Sends `signal` to the process (e.g. SIGSTOP/SIGCONT to freeze and thaw it). */
  signal(signal: NodeJS.Signals): void {
    if (!this.closed) this.child.kill(signal);
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. Safe to repeat. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  /** Synchronous last resort for `process.on('exit')`, where nothing can be awaited. */
  killNow(): void {
    this.watchdog?.kill('SIGKILL');
    if (!this.closed) this.child.kill('SIGKILL');
  }

  private record(chunk: Buffer): void {
    this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  }
}

/**
 * `process.on('exit')` does not run when the test process is killed by a signal, so a tiny shell
 * sits on a pipe from us: when we die the pipe closes, its `read` hits EOF and it kills Redis and
 * removes its data directory.
 */
const WATCHDOG_SCRIPT = 'while read -r _; do :; done; kill -KILL "$1" 2>/dev/null; rm -rf -- "$2"';

function startWatchdog(pid: number | undefined, dir: string): ChildProcess | undefined {
  if (pid === undefined || process.platform === 'win32') return undefined;
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'lock-redis-watchdog', String(pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Best effort: without /bin/sh we still have the exit hook.
  watchdog.on('error', () => {});
  return watchdog;
}

/**
 * A forgotten `stop()` must not keep the test process alive forever; the exit hook and watchdog
 * make sure the server goes away with it.
 */
function letProcessExitWithoutStopping(child: ChildProcess, watchdog: ChildProcess | undefined): void {
  for (const handle of [child, watchdog]) {
    if (!handle) continue;
    handle.unref();
    for (const stream of [handle.stdin, handle.stdout, handle.stderr]) {
      if (stream instanceof Socket) stream.unref();
    }
  }
}

const exitHooks = new Set<() => void>();
let exitListenerInstalled = false;

/** Runs `hook` synchronously when the process exits; returns a function that unregisters it. */
export function onProcessExit(hook: () => void): () => void {
  if (!exitListenerInstalled) {
    exitListenerInstalled = true;
    process.on('exit', () => {
      for (const run of exitHooks) {
        try {
          run();
        } catch {
          // One failed cleanup must not leave the other servers running.
        }
      }
    });
  }
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
