/**
 * Helpers the suite's modules share, exported for runner authors who write tests of their own
 * next to the suite.
 */
import { LockAcquireError, type Locker, type ScriptRunner } from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import type { AdapterRunner, ConnectedClient } from './adapter-under-test.js';

/** A runner that records every script it runs, to prove what was (or was not) sent. */
export interface RecordingRunner extends ScriptRunner {
  /** The name of every script run so far, in order. */
  readonly calls: string[];
  /** Called after each script settles, with its name. */
  onSettled?: (scriptName: string) => void;
}

/** Wraps `inner` so that every script it runs is recorded by name. */
export function recordingRunner(inner: ScriptRunner): RecordingRunner {
  const recorder: RecordingRunner = {
    calls: [],
    async run(script, keys, args) {
      recorder.calls.push(script.name);
      try {
        return await inner.run(script, keys, args);
      } finally {
        recorder.onSettled?.(script.name);
      }
    },
  };
  return recorder;
}

/**
 * A {@link recordingRunner} that keeps the inner runner's release notifications, for tests that
 * count the attempts of waiters woken by a release (`recordingRunner` alone makes waiters poll).
 */
export function recordingNotifyingRunner(inner: AdapterRunner): RecordingRunner & ReleaseNotifier {
  return Object.assign(recordingRunner(inner), { subscribe: inner.subscribe.bind(inner) });
}

/** A {@link recordingNotifyingRunner} that also counts its confirmed subscriptions. */
export function countingRunner(
  inner: AdapterRunner,
): RecordingRunner & ReleaseNotifier & { confirmed: number } {
  const recorder = recordingNotifyingRunner(inner);
  const runner = Object.assign(recorder, { confirmed: 0 });
  const subscribe = recorder.subscribe;
  runner.subscribe = async (channel, listener, signal) => {
    const unsubscribe = await subscribe(channel, listener, signal);
    runner.confirmed += 1;
    return unsubscribe;
  };
  return runner;
}

/**
 * Makes `locker`'s mutex wake channel subscribed (it then stays so for a second after its last
 * waiter): one waiter waits 100 ms for `heldName`, which someone else must hold, and gives up.
 * Waiters that register while the channel is subscribed may be handed the lock by a release;
 * the first waiter of an idle Locker is only woken, and tries itself.
 */
export async function warmWakeChannel(locker: Locker, heldName: string): Promise<void> {
  const gaveUp = locker.acquire(heldName, { waitTimeout: 100, retryDelay: 1_000, retryCount: 5 });
  await gaveUp.then(
    () => {
      throw new Error(`warmWakeChannel: "${heldName}" was free`);
    },
    (error: unknown) => {
      if (!LockAcquireError.isInstance(error)) throw error;
    },
  );
}

/** Resolves after `ms`: only where elapsed time itself is what a test is about. */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every `pollMs` until it holds, failing after `timeout` ms; for states no event
 * reports.
 */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeout: number,
  pollMs = 25,
): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await elapse(pollMs);
  }
}

/**
 * Resolves with the reason once `signal` aborts, also if it already has: a lock can be lost while
 * a test is still setting up its fault.
 */
export function whenAborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** Parses `INFO commandstats` into calls per command. */
export function parseCommandStats(info: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls[match[1] as string] = Number(match[2]);
  }
  return calls;
}

/** Adds up per-node command statistics. */
export function sumCommandStats(perNode: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const stats of perNode) {
    for (const [name, calls] of Object.entries(stats)) total[name] = (total[name] ?? 0) + calls;
  }
  return total;
}

let nameCounter = 0;
/** A lock name no other test uses. */
export function uniqueName(label: string): string {
  nameCounter += 1;
  return `${label}-${process.pid}-${nameCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The server's clock in ms, as the primitives' scripts read it (`TIME`). */
export async function serverTimeMs(command: ConnectedClient['command']): Promise<number> {
  const [seconds, micros] = (await command(['TIME'])) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
