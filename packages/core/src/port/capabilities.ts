/**
 * The optional capabilities a runner may offer beside `run`. Core detects each one with a type
 * guard and does without it when it is missing, so the port itself stays one method
 * ({@link ScriptRunner}).
 */
import type { ScriptRunner } from './runner.js';

/**
 * An optional runner capability: a short description of the server it talks to (e.g.
 * `127.0.0.1:6380`, never credentials), used to say which server failed in a Redlock error, and
 * to refuse a Redlock `Locker` whose runners reach one server twice: equal descriptions mean the
 * same server, so a runner that cannot tell its server must not describe itself like another.
 * Both adapters offer it.
 */
export interface DescribedRunner {
  describe(): string;
}

/** True when `runner` can describe its server. */
export function hasDescription(runner: ScriptRunner): runner is ScriptRunner & DescribedRunner {
  return typeof (runner as Partial<DescribedRunner>).describe === 'function';
}

/**
 * An optional runner capability: sends `WAIT count timeoutMs` on the connection that ran the
 * scripts, and resolves how many replicas acknowledged. Both adapters offer it for a plain
 * (non-cluster) client.
 */
export interface ReplicaWaiter {
  waitForReplicas(count: number, timeoutMs: number): Promise<number>;
}

/** True when `runner` can wait for replicas. */
export function hasReplicaWaiter(runner: ScriptRunner): runner is ScriptRunner & ReplicaWaiter {
  return typeof (runner as Partial<ReplicaWaiter>).waitForReplicas === 'function';
}

/** Stops a subscription made with {@link ReleaseNotifier.subscribe}. Never rejects. */
export type Unsubscribe = () => void;

/**
 * An optional runner capability: release notifications, so that a waiter wakes the moment a lock
 * is released instead of sleeping until its next retry. Core polls when the runner lacks it.
 */
export interface ReleaseNotifier {
  /**
   * Calls `listener` for every message on `channel`, with the message when the notifier has it
   * (a release that hands the lock to a waiter says so in its message; a notifier that passes no
   * messages on only costs that waiter one more attempt). Resolves once Redis has confirmed the
   * subscription, so that a release published after that point cannot be missed.
   *
   * Rejects when the subscription cannot be made (a notifier may bound the wait), and with
   * `signal`'s reason as soon as `signal` aborts: the caller went away, and a subscription Redis
   * confirms later is dropped.
   */
  subscribe(
    channel: string,
    listener: (message?: string) => void,
    signal?: AbortSignal,
  ): Promise<Unsubscribe>;
}

/** True when `runner` also delivers release notifications. */
export function hasReleaseNotifier(runner: ScriptRunner): runner is ScriptRunner & ReleaseNotifier {
  return typeof (runner as Partial<ReleaseNotifier>).subscribe === 'function';
}
