/**
 * Redlock: one lock over N independent Redis servers (N = 3 or 5 in practice), held when a
 * majority of them hold it. Each server runs the plain mutex scripts; this protocol runs every
 * operation on all servers in parallel and decides by quorum:
 *
 * - acquire: held when at least `⌊N/2⌋ + 1` servers took it AND time is left on it: `ttl − (time
 *   since this attempt started) − drift`, with drift = `ttl × 1% + 2 ms`, on the monotonic clock.
 *   Otherwise the servers that may have taken it are released in the background (the next attempt
 *   waits for that), so a failed attempt never leaves a partial hold beyond that round trip;
 * - extend / renewal: kept when a majority extended it in time; fewer, or too late, is lost;
 * - release: sent to all; status and inspect: what a majority shows.
 *
 * When servers failed (errors, not "held elsewhere") and that is why no majority was reached, the
 * operation throws a {@link LockRedisError} whose `failures` list which servers failed and why.
 *
 * There is no fencing token: counters on independent servers do not give one that strictly
 * increases across holds (two consecutive majorities share a server, but each hold's token would
 * come from its own majority, and a server that restarts without persistence starts again from 0).
 *
 * @internal
 */
import { clockDrift, monotonicNow } from './clock.js';
import { LockRedisError, type RedisServerFailure } from './errors.js';
import { fencingCounterKey, releaseChannel } from './keys.js';
import type { LockInspection } from './mutex.js';
import { hasReleaseNotifier, type ReleaseNotifier, type Unsubscribe } from './notifications.js';
import type { AcquireReply, AcquireRequest, HoldProtocol, HoldStatus } from './protocol.js';
import type { LuaScript, ScriptArg, ScriptRunner } from './runner.js';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, INSPECT_SCRIPT, RELEASE_SCRIPT } from './scripts/index.js';

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

/** The majority of `servers`: `⌊servers / 2⌋ + 1`. */
export function quorumOf(servers: number): number {
  return Math.floor(servers / 2) + 1;
}

/** The servers of one Redlock `Locker`, shared by all its locks. @internal */
export class RedlockServers {
  readonly runners: readonly ScriptRunner[];
  readonly quorum: number;
  /** Subscribes on every runner that offers notifications: any server's release wakes a waiter. */
  readonly notifier: ScriptRunner & Partial<ReleaseNotifier>;

  constructor(runners: readonly ScriptRunner[]) {
    this.runners = runners;
    this.quorum = quorumOf(runners.length);
    this.notifier = quorumNotifier(runners);
  }

  /** Runs `script` on every server in parallel; settles when all have answered or failed. */
  async runOnAll(
    script: LuaScript,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<ServerReplies> {
    const settled = await Promise.allSettled(this.runners.map((runner) => runner.run(script, keys, args)));
    const replies: Array<{ readonly index: number; readonly value: unknown }> = [];
    const failures: RedisServerFailure[] = [];
    settled.forEach((result, index) => {
      if (result.status === 'fulfilled') replies.push({ index, value: result.value });
      else failures.push({ index, server: this.#describe(index), error: result.reason });
    });
    return { replies, failures };
  }

  /** The error for "no majority because these servers failed". */
  quorumError(script: LuaScript, failures: readonly RedisServerFailure[]): LockRedisError {
    const cause = new AggregateError(
      failures.map((failure) => failure.error),
      `${failures.length} of ${this.runners.length} servers failed`,
    );
    return new LockRedisError(script.name, cause, { failures, servers: this.runners.length });
  }

  /** What a majority of servers show about one lock (see {@link majorityView}). */
  async inspect(keys: readonly [lock: string, fencingCounter: string]): Promise<LockInspection> {
    const { replies, failures } = await this.runOnAll(INSPECT_SCRIPT, keys, []);
    const view = majorityView(
      replies.map(({ value }) => {
        const [owner, pttl, count] = Array.isArray(value) ? value : [];
        return typeof owner === 'string'
          ? { owner, remaining: Math.max(0, Number(pttl)), holdCount: Number(count) }
          : undefined;
      }),
      failures.length,
      this.quorum,
    );
    if (view === 'unknown') throw this.quorumError(INSPECT_SCRIPT, failures);
    return {
      owner: view?.owner ?? null,
      remaining: view?.remaining ?? 0,
      holdCount: view?.holdCount ?? 0,
      fencingToken: null,
      lastFencingToken: null,
    };
  }

  #describe(index: number): string | undefined {
    const runner = this.runners[index];
    if (runner === undefined || !hasDescription(runner)) return undefined;
    try {
      return runner.describe();
    } catch {
      return undefined;
    }
  }
}

/** Replies of the servers that answered, and the servers that failed. */
export interface ServerReplies {
  readonly replies: ReadonlyArray<{ readonly index: number; readonly value: unknown }>;
  readonly failures: readonly RedisServerFailure[];
}

/** One server's holder of a lock. */
interface ServerHold {
  readonly owner: string;
  readonly remaining: number;
  readonly holdCount: number;
}

/**
 * The holder a majority of servers agree on: its owner, and the time until fewer than a majority
 * still hold it (the quorum-th longest remaining time). `undefined` when no owner holds a
 * majority; `'unknown'` when the failed servers could tip it either way.
 */
export function majorityView(
  holds: ReadonlyArray<ServerHold | undefined>,
  failed: number,
  quorum: number,
): ServerHold | undefined | 'unknown' {
  const byOwner = new Map<string, ServerHold[]>();
  for (const hold of holds) {
    if (hold !== undefined) byOwner.set(hold.owner, [...(byOwner.get(hold.owner) ?? []), hold]);
  }
  let largest = 0;
  for (const [owner, owned] of byOwner) {
    if (owned.length >= quorum) {
      const remaining = quorumthLargest(
        owned.map((hold) => hold.remaining),
        quorum,
      );
      return { owner, remaining, holdCount: Math.min(...owned.map((hold) => hold.holdCount)) };
    }
    largest = Math.max(largest, owned.length);
  }
  return largest + failed >= quorum ? 'unknown' : undefined;
}

/** The `quorum`-th largest value: a majority of servers have at least this much. */
function quorumthLargest(values: readonly number[], quorum: number): number {
  return [...values].sort((a, b) => b - a)[quorum - 1] ?? 0;
}

/** The protocol of one Redlock lock handle at `key`. */
export class RedlockProtocol implements HoldProtocol {
  readonly #servers: RedlockServers;
  readonly #keys: readonly [lock: string, fencingCounter: string];
  readonly #channel: string;
  // The background release of a failed attempt: the next attempt of this handle (same token)
  // waits for it, so that a late release can never delete the hold that attempt takes.
  #cleanup: Promise<void> | undefined;

  constructor(servers: RedlockServers, key: string) {
    this.#servers = servers;
    this.#keys = [key, fencingCounterKey(key)];
    this.#channel = releaseChannel(key);
  }

  async acquire({ token, ttl, holdCount }: AcquireRequest): Promise<AcquireReply> {
    await this.#cleanup;
    const servers = this.#servers;
    const startedAt = monotonicNow();
    // Never fencing: a counter per server gives no token that increases across majorities.
    const { replies, failures } = await servers.runOnAll(ACQUIRE_SCRIPT, this.#keys, [
      token,
      ttl,
      holdCount,
      0,
    ]);
    const taken = replies.filter(({ value }) => Array.isArray(value) && Number(value[0]) === 1).length;
    const validity = ttl - (monotonicNow() - startedAt) - clockDrift(ttl);
    if (taken >= servers.quorum && validity > 0) {
      return { acquired: true, fencingToken: undefined, queued: false };
    }
    // A first entry that missed: give back what it took (and what a failed server may have taken
    // before its reply was lost). A missed re-entry is left alone: the handle reports it lost.
    if (holdCount === 1) this.#releaseInBackground(token);
    if (taken < servers.quorum && taken + failures.length >= servers.quorum) {
      throw servers.quorumError(ACQUIRE_SCRIPT, failures);
    }
    return { acquired: false, fencingToken: undefined, queued: false };
  }

  async release(token: string, holdCount: number): Promise<number> {
    const servers = this.#servers;
    const { replies, failures } = await servers.runOnAll(RELEASE_SCRIPT, this.#keys, [
      token,
      holdCount,
      this.#channel,
    ]);
    const held = replies.filter(({ value }) => Number(value) >= 0).length;
    if (held >= servers.quorum) return holdCount;
    if (held + failures.length >= servers.quorum) throw servers.quorumError(RELEASE_SCRIPT, failures);
    return -1;
  }

  async extend(token: string, ms: number, replace: boolean): Promise<number> {
    const servers = this.#servers;
    const startedAt = monotonicNow();
    const { replies, failures } = await servers.runOnAll(EXTEND_SCRIPT, this.#keys, [
      token,
      ms,
      replace ? 1 : 0,
    ]);
    const extended = replies.map(({ value }) => Number(value)).filter((remaining) => remaining >= 0);
    if (extended.length >= servers.quorum) {
      const remaining = quorumthLargest(extended, servers.quorum);
      // Extended on a majority, but so late that the time it bought has already run out.
      const tooLate = monotonicNow() - startedAt >= remaining - clockDrift(remaining);
      return tooLate ? -1 : remaining;
    }
    if (extended.length + failures.length >= servers.quorum)
      throw servers.quorumError(EXTEND_SCRIPT, failures);
    // A majority shows no hold of this token: someone else's on any of them means taken.
    return replies.some(({ value }) => Number(value) === -2) ? -2 : -1;
  }

  async status(token: string): Promise<HoldStatus> {
    const view = await this.#servers.inspect(this.#keys);
    return {
      heldByAnyone: view.owner !== null,
      remainingForToken: view.owner === token ? view.remaining : 0,
    };
  }

  wakeChannel(_token: string): string {
    return this.#channel;
  }

  #releaseInBackground(token: string): void {
    const previous = this.#cleanup;
    this.#cleanup = (async () => {
      await previous;
      await this.#servers.runOnAll(RELEASE_SCRIPT, this.#keys, [token, 0, this.#channel]);
    })().catch(() => {
      // runOnAll never rejects; a server that stays unreachable lets the lock expire within its ttl.
    });
  }
}

/**
 * The `runner` a Redlock lock handle sees: it never runs scripts itself (its protocol does, on
 * every server), and it subscribes to release notifications on every server that offers them,
 * resolving once the first subscription is confirmed (a waiter also polls, so a down server
 * costs nothing but its wake-ups).
 */
function quorumNotifier(runners: readonly ScriptRunner[]): ScriptRunner & Partial<ReleaseNotifier> {
  const notifiers = runners.filter(hasReleaseNotifier);
  // Never called by a mutex handle. Anything else that would run one script on "the" runner of a
  // Redlock Locker (a primitive without quorum support) fails loudly instead of using one server.
  const run = () =>
    Promise.reject(new Error('this operation does not support a Locker over several servers (Redlock)'));
  if (notifiers.length === 0) return { run };
  return {
    run,
    subscribe: (channel, listener) =>
      new Promise<Unsubscribe>((resolve, reject) => {
        const unsubscribes: Unsubscribe[] = [];
        let stopped = false;
        let pending = notifiers.length;
        const errors: unknown[] = [];
        const unsubscribeAll: Unsubscribe = () => {
          stopped = true;
          for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
        };
        for (const notifier of notifiers) {
          notifier.subscribe(channel, listener).then(
            (unsubscribe) => {
              pending -= 1;
              if (stopped) {
                unsubscribe();
                return;
              }
              unsubscribes.push(unsubscribe);
              resolve(unsubscribeAll);
            },
            (error: unknown) => {
              pending -= 1;
              errors.push(error);
              if (pending === 0 && unsubscribes.length === 0) {
                reject(new AggregateError(errors, 'no server accepted the subscription'));
              }
            },
          );
        }
      }),
  };
}
