/**
 * Waiting for a Redis to accept commands. Polling PING is the only signal that works the same for
 * a spawned binary, a container and a restarted server.
 */
import { type RedisAddress, sendCommand } from './resp.js';

/** Options for {@link waitForPong}. */
export interface WaitForPongOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Delay between attempts. Defaults to 50 ms. */
  readonly intervalMs?: number;
  /**
   * Checked before every attempt; returning an Error stops waiting with that error. Lets a caller
   * bail out as soon as the server process dies instead of waiting for the whole timeout.
   */
  readonly giveUpIf?: () => Error | undefined;
  /** Describes the server in the timeout error, e.g. `redis-server on port 40123`. */
  readonly description?: string;
}

/** Resolves once `PING` on `address` answers `PONG`; rejects on timeout or when `giveUpIf` says so. */
export async function waitForPong(address: RedisAddress, options: WaitForPongOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 50;
  let lastError: unknown;
  for (;;) {
    const reason = options.giveUpIf?.();
    if (reason) throw reason;
    try {
      if ((await sendCommand(address, ['PING'], { timeoutMs: 1000 })) === 'PONG') return;
    } catch (error) {
      // Refused connections and -LOADING replies are expected while the server starts.
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.description ?? `Redis at ${address.host}:${address.port}`;
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what} did not answer PING within ${options.timeoutMs} ms${detail}`);
    }
    await sleep(intervalMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options for {@link pollUntil}. */
export interface PollUntilOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Delay between checks. Defaults to 50 ms. */
  readonly intervalMs?: number;
  /** What is being waited for, for the timeout error, e.g. `the cluster to form`. */
  readonly description: string;
}

/**
 * Runs `check` until it resolves `true`; any other answer (a string saying what is still missing,
 * or a rejection) means "not yet". On timeout, rejects with the last thing that was missing, so a
 * stuck wait says why.
 */
export async function pollUntil(
  check: () => Promise<true | string>,
  options: PollUntilOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let missing = 'not checked yet';
  for (;;) {
    try {
      const result = await check();
      if (result === true) return;
      missing = result;
    } catch (error) {
      missing = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.description}: ${missing}`,
      );
    }
    await sleep(options.intervalMs ?? 50);
  }
}
