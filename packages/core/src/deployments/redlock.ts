/**
 * Redlock: one lock over N independent Redis servers (N = 3 or 5 in practice), held when a
 * majority of them hold it. Each server runs the plain mutex scripts (a lock set: the set's
 * all-or-nothing scripts, so a majority must hold the whole set); this protocol sends every
 * operation to all servers in parallel and decides by quorum the moment the answer can no longer
 * change, without waiting for the servers it does not need. Each call gives every server at most
 * `commandTimeout` (a server still silent then has failed), so a dead or stalled server costs only
 * its vote:
 *
 * - acquire: held as soon as `⌊N/2⌋ + 1` servers took it AND time is left on it: `ttl − (time
 *   since this attempt started) − drift`, with drift = `ttl × 1% + 2 ms`, on the monotonic clock;
 *   a majority that would come after that is not a hold. A failed attempt is given back
 *   in the background on every server that took it, also on those whose reply comes after the
 *   decision, and without a release notification: it frees nothing anyone could take, and would
 *   wake this very waiter. A late success of an attempt that succeeded is simply part of the hold;
 * - extend / renewal: kept when a majority extended it in time. A server that lost the key (it
 *   restarted empty, or was flushed) is re-taken with the same token if nobody else holds it
 *   there, so that a rolling restart keeps the hold while a majority is up. A re-taken server does
 *   not count towards that extend's majority: a majority that lost the key is a lost lock;
 * - release: kept (count left) or not held, by majority; status and inspect: what a majority shows.
 *
 * When servers failed or timed out (not "held elsewhere") and that is why no majority can be
 * reached, the operation throws a {@link LockRedisError} whose `failures` list the servers that
 * had failed or timed out by then.
 *
 * One handle's commands to one server are sent one after the other (a lane per server): the
 * clean-up of a failed attempt is sent after that attempt's reply (a reply that fell back from
 * EVALSHA to EVAL must not overtake it), and before the handle's next attempt there, which uses the
 * same token. A command still waiting for its turn when its operation is decided or its deadline
 * passes is never sent, except a release.
 *
 * There is no fencing token: counters on independent servers do not give one that strictly
 * increases across holds (two consecutive majorities share a server, but each hold's token would
 * come from its own majority, and a server that restarts without persistence starts again from 0).
 *
 * @internal
 */
import { clockDrift, monotonicNow } from '../clock.js';
import { LockOptionError, LockRedisError, RedisCallTimeout, type RedisServerFailure } from '../errors.js';
import { armDeadline, Deadline, disarmDeadline } from '../handle/deadline.js';
import { fencingCounterKey, releaseChannel } from '../keys.js';
import type { ResolvedLockOptions } from '../options.js';
import {
  hasDescription,
  hasReleaseNotifier,
  type ReleaseNotifier,
  type Unsubscribe,
} from '../port/capabilities.js';
import type { LuaScript, ScriptArg, ScriptRunner } from '../port/runner.js';
import { lockSetRedlockHold } from '../primitives/multi-mutex.js';
import type { LockInspection } from '../primitives/mutex.js';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, INSPECT_SCRIPT, RELEASE_SCRIPT } from '../scripts/index.js';
import {
  checkReplicaSupport,
  DEPLOYMENT_SUPPORT,
  type Deployment,
  type MutexKeys,
  primitiveRefusal,
} from './deployment.js';
import {
  type AcquireReply,
  type AcquireRequest,
  type ExtendResult,
  extendResult,
  type HoldProtocol,
  type HoldStatus,
  type ReleaseResult,
  releaseResult,
  type Subscribe,
  subscribeToEach,
} from './protocol.js';

/**
 * What one Redlock hold runs on each server: the mutex's scripts over one lock, or a lock set's
 * over its members. The scripts of either take the same arguments and give replies of the same
 * shape, so the quorum is decided the same way for both.
 */
export interface RedlockHold {
  readonly acquire: LuaScript;
  readonly release: LuaScript;
  readonly extend: LuaScript;
  /** Reads `{owner, pttl, count, …}`, as `inspect` does. */
  readonly inspect: LuaScript;
  /** The keys of acquire, release and extend. */
  readonly keys: readonly string[];
  /** The keys of inspect. */
  readonly inspectKeys: readonly string[];
  /** A full release publishes on these, passed after the token and the count. */
  readonly channels: readonly string[];
}

/** What a Redlock hold of the mutex at `key` runs. */
export function mutexRedlockHold(key: string): RedlockHold {
  const keys = [key, fencingCounterKey(key)];
  return {
    acquire: ACQUIRE_SCRIPT,
    release: RELEASE_SCRIPT,
    extend: EXTEND_SCRIPT,
    inspect: INSPECT_SCRIPT,
    keys,
    inspectKeys: keys,
    channels: [releaseChannel(key)],
  };
}

/** The majority of `servers`: `⌊servers / 2⌋ + 1`. */
export function quorumOf(servers: number): number {
  return Math.floor(servers / 2) + 1;
}

/**
 * How much earlier than its caller's deadline a server's deadline falls, so that the quorum's own
 * verdict (with the failures it names) lands before the caller's plain timeout would.
 */
function serverDeadline(budget: number): number {
  return Math.max(1, budget - Math.min(10, Math.floor(budget / 20)));
}

/** What the servers have answered so far in one quorum call. */
export interface Tally {
  readonly replies: ReadonlyArray<{ readonly index: number; readonly value: unknown }>;
  /** Servers that failed or missed their deadline, in the order they did. */
  readonly failures: readonly RedisServerFailure[];
  /** Servers that have not answered yet. */
  readonly pending: number;
}

/** One server's answer to one command, once it came; `SKIPPED` when it was never sent. */
type ServerResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };
const SKIPPED = Symbol('skipped');
type Outcome = ServerResult | typeof SKIPPED;

interface LaneCommand {
  /** Sends the command, or returns `undefined` to send nothing. Called when its turn comes. */
  send(): Promise<unknown> | undefined;
  /** True once the command no longer needs sending; asked before its turn and at its turn. */
  dropped(): boolean;
  /** Called (synchronously) with its answer, or `SKIPPED`. */
  done(outcome: Outcome): void;
}

/** One handle's commands to one server, sent one after the other (see the module comment). */
class ServerLane {
  #busy = false;
  #queue: LaneCommand[] = [];
  // The command sent and not answered yet: one at a time, so one pair of reactions per lane
  // serves all its commands.
  #inFlight: LaneCommand | undefined;
  #onValue: ((value: unknown) => void) | undefined;
  #onError: ((error: unknown) => void) | undefined;

  submit(command: LaneCommand): void {
    this.#queue.push(command);
    this.#pump();
  }

  /**
   * Settles the queued commands that no longer need sending: a server that never answers must
   * not make a long-lived handle pile up renewals behind it.
   */
  prune(): void {
    if (this.#queue.length === 0) return;
    const kept: LaneCommand[] = [];
    for (const command of this.#queue) {
      if (command.dropped()) command.done(SKIPPED);
      else kept.push(command);
    }
    this.#queue = kept;
  }

  #pump(): void {
    while (!this.#busy) {
      const command = this.#queue.shift();
      if (command === undefined) return;
      const sent = command.dropped() ? undefined : trySend(command);
      if (sent === undefined) {
        command.done(SKIPPED);
        continue;
      }
      this.#busy = true;
      this.#inFlight = command;
      this.#onValue ??= (value) => this.#finish({ ok: true, value });
      this.#onError ??= (error) => this.#finish({ ok: false, error });
      sent.then(this.#onValue, this.#onError);
    }
  }

  #finish(outcome: ServerResult): void {
    const command = this.#inFlight;
    this.#inFlight = undefined;
    this.#busy = false;
    command?.done(outcome);
    this.#pump();
  }
}

function trySend(command: LaneCommand): Promise<unknown> | undefined {
  try {
    return command.send();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A verdict of "no majority, because of the servers that failed": a {@link LockRedisError}. */
const NO_QUORUM = Symbol('no quorum');
type Verdict<T> = T | typeof NO_QUORUM;

/** How one quorum call runs; see {@link RedlockServers.call}. */
interface CallOptions<T> {
  /** Ms each server gets to answer. */
  readonly timeout: number;
  /** The handle's lanes, for commands that change its hold; none for read-only ones. */
  readonly lanes?: readonly ServerLane[];
  /** Send even when its turn comes after the decision or the deadline (releases). */
  readonly alwaysSend?: boolean;
  /**
   * The verdict so far, once the answer can no longer change; `undefined` to wait for more
   * servers. Must decide once nothing is pending.
   */
  readonly decide: (tally: Tally) => Verdict<T> | undefined;
  /**
   * When the answer stops being worth waiting for (the time it would buy has run out), if that
   * comes before `timeout`: `late.verdict` then decides.
   */
  readonly late?: { readonly after: number; readonly verdict: (tally: Tally) => Verdict<T> } | undefined;
}

/** A started quorum call: its verdict, and each server's real answer (late ones included). */
interface QuorumCall<T> {
  readonly verdict: Promise<T>;
  /**
   * Per server: its answer (or `SKIPPED`), `undefined` until it came. Known, on a lane, by the time
   * the next command on that lane is sent.
   */
  readonly answers: ReadonlyArray<ServerAnswer>;
}

/** One server's answer to a quorum call: `undefined` until it came, `SKIPPED` if never sent. */
interface ServerAnswer {
  readonly answer: Outcome | undefined;
}

/**
 * A Locker over N independent servers: the mutex only, without fencing tokens, fairness or
 * replica acknowledgement (see {@link DEPLOYMENT_SUPPORT}).
 */
export class RedlockDeployment implements Deployment {
  readonly support = DEPLOYMENT_SUPPORT.redlock;
  readonly forcedOptions = Object.freeze({ fencing: false });
  // Each handle's protocol keeps the hold count it last saw on the servers.
  readonly sharesMutexProtocols = false;
  readonly servers: RedlockServers;

  /** @throws {LockOptionError} when two runners describe the same server. */
  constructor(runners: readonly ScriptRunner[]) {
    checkDistinctServers(runners);
    this.servers = new RedlockServers(runners);
  }

  mutex(key: string, options: ResolvedLockOptions): HoldProtocol {
    checkReplicaSupport(this.support, options);
    return new RedlockProtocol(this.servers, key, options.commandTimeout);
  }

  inspectMutex(keys: MutexKeys, timeout: number): Promise<LockInspection> {
    return this.servers.inspect(keys, timeout);
  }

  mutexSet(keys: readonly string[], options: ResolvedLockOptions): HoldProtocol {
    checkReplicaSupport(this.support, options);
    return new RedlockProtocol(this.servers, lockSetRedlockHold(keys), options.commandTimeout);
  }

  // Primitives other than the mutex count their holders in one place, which N servers are not.
  semaphorePermit(): never {
    throw primitiveRefusal('semaphore');
  }

  inspectSemaphore(): never {
    throw primitiveRefusal('semaphore');
  }

  readWriteHold(): never {
    throw primitiveRefusal('read-write lock');
  }

  inspectReadWrite(): never {
    throw primitiveRefusal('read-write lock');
  }
}

/** The servers of one Redlock `Locker`, shared by all its locks. @internal */
export class RedlockServers {
  readonly runners: readonly ScriptRunner[];
  readonly quorum: number;
  /**
   * Subscribes on every runner that offers notifications: any server's release wakes a waiter.
   * Without `subscribe` when none offers them.
   */
  readonly notifier: Partial<ReleaseNotifier>;

  constructor(runners: readonly ScriptRunner[]) {
    this.runners = runners;
    this.quorum = quorumOf(runners.length);
    this.notifier = quorumNotifier(runners);
  }

  /**
   * Sends `script` to every server in parallel, each bounded by `timeout` ms (a server that misses
   * it is a failure whose error is a {@link RedisCallTimeout}), and settles with the verdict as
   * soon as `decide` gives one: the servers still pending then go on in the background. A failed
   * quorum rejects with a {@link LockRedisError} listing the servers that had failed by then: all
   * those that timed out (one deadline for the call, so they time out together, and the verdict
   * comes at once), or, when failure replies decided it, those read in that turn of the event loop.
   */
  call<T>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly ScriptArg[],
    options: CallOptions<T>,
  ): QuorumCall<T> {
    const run = new QuorumRun(this, script, options);
    const { lanes } = options;
    const answers = this.runners.map((runner, index) => {
      const command = new ServerCommand(run, runner, index, keys, args);
      const lane = lanes?.[index];
      if (lane !== undefined) lane.submit(command);
      else {
        (trySend(command) as Promise<unknown>).then(
          (value: unknown) => command.done({ ok: true, value }),
          (error: unknown) => command.done({ ok: false, error }),
        );
      }
      return command;
    });
    run.start(answers);
    return { verdict: run.verdict, answers };
  }

  /** The error for "no majority because these servers failed", listing them in index order. */
  quorumError(script: LuaScript, failures: readonly RedisServerFailure[]): LockRedisError {
    const sorted = [...failures].sort((a, b) => a.index - b.index);
    const cause = new AggregateError(
      sorted.map((failure) => failure.error),
      `${sorted.length} of ${this.runners.length} servers failed`,
    );
    return new LockRedisError(script.name, cause, { failures: sorted, servers: this.runners.length });
  }

  /**
   * What a majority of servers show about one lock (see {@link majorityView}), decided as soon as
   * the servers still pending cannot change it; each server gets `timeout` ms.
   */
  inspect(
    keys: readonly string[],
    timeout: number = Number.POSITIVE_INFINITY,
    script: LuaScript = INSPECT_SCRIPT,
  ): Promise<LockInspection> {
    const { verdict } = this.call<LockInspection>(script, keys, [], {
      timeout: serverDeadline(timeout),
      decide: ({ replies, failures, pending }) => {
        const holds = replies.map(({ value }) => serverHold(value));
        const view = majorityView(holds, failures.length, this.quorum, pending);
        if (view === 'pending') return undefined;
        if (view === 'unknown') return NO_QUORUM;
        return {
          owner: view?.owner ?? null,
          remaining: view?.remaining ?? 0,
          holdCount: view?.holdCount ?? 0,
          fencingToken: null,
          lastFencingToken: null,
        };
      },
    });
    return verdict;
  }

  /** How runner `index` describes its server, for error messages. */
  describe(index: number): string | undefined {
    const runner = this.runners[index];
    if (runner === undefined || !hasDescription(runner)) return undefined;
    try {
      return runner.describe();
    } catch {
      return undefined;
    }
  }
}

/**
 * The state of one quorum call (see {@link RedlockServers.call}); it is also the {@link Tally}
 * handed to `decide`, and its own deadline: one object per call, and nothing of it left armed
 * once the verdict is out. The servers' late replies then only reach their {@link ServerCommand},
 * for the clean-up that reads them.
 */
class QuorumRun<T> extends Deadline implements Tally, CommandsCall {
  readonly replies: Array<{ readonly index: number; readonly value: unknown }> = [];
  readonly failures: RedisServerFailure[] = [];
  pending: number;
  // Decided: no more verdicts, and commands still queued on a lane need not be sent. Settled:
  // the verdict is out; until then a failed quorum still collects its failures.
  decided = false;
  settled = false;
  readonly verdict: Promise<T>;
  readonly script: LuaScript;
  readonly #servers: RedlockServers;
  readonly #options: CallOptions<T>;
  readonly #deadlineAt: number;
  #commands: readonly ServerCommand[] = [];
  #lateTimer: ReturnType<typeof setTimeout> | undefined;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  constructor(servers: RedlockServers, script: LuaScript, options: CallOptions<T>) {
    super();
    this.#servers = servers;
    this.script = script;
    this.#options = options;
    this.pending = servers.runners.length;
    this.#deadlineAt = monotonicNow() + options.timeout;
    this.verdict = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Arms the deadlines once the commands are out (their replies may already have decided it). */
  start(commands: readonly ServerCommand[]): void {
    this.#commands = commands;
    if (this.settled || this.pending === 0) return;
    const { timeout, late } = this.#options;
    // One deadline for all servers of the call: those still pending when it passes have all
    // timed out, together.
    if (timeout !== Number.POSITIVE_INFINITY) armDeadline(this, Math.max(0, Math.ceil(timeout)), false);
    if (!this.decided && late !== undefined && late.after < timeout) {
      this.#lateTimer = setTimeout(tooLateNow, Math.max(0, late.after), this);
      this.#lateTimer.unref?.();
    }
  }

  /** True once a command of this call that has not been sent yet need not be. */
  dropped(): boolean {
    return this.#options.alwaysSend !== true && (this.decided || monotonicNow() >= this.#deadlineAt);
  }

  /** One server's reply, or its failure. */
  record(command: ServerCommand, result: ServerResult): void {
    if (this.settled || command.recorded) return;
    command.recorded = true;
    this.pending -= 1;
    if (result.ok) this.replies.push({ index: command.index, value: result.value });
    else {
      this.failures.push({
        index: command.index,
        server: this.#servers.describe(command.index),
        error: result.error,
      });
    }
    if (this.pending === 0) disarmDeadline(this);
  }

  /** A server's reply came in: decide, if that decides it. */
  answered(): void {
    if (!this.decided) this.conclude(this.#options.decide(this), false);
  }

  /** The call's deadline passed: every server still pending has timed out. */
  expire(): void {
    const cause = new RedisCallTimeout(Math.max(0, Math.ceil(this.#options.timeout)));
    for (const command of this.#commands) {
      if (!command.recorded) this.record(command, { ok: false, error: cause });
    }
    if (!this.decided) this.conclude(this.#options.decide(this), true);
  }

  /** The time the call would buy ran out. */
  tooLate(): void {
    this.#lateTimer = undefined;
    const { late } = this.#options;
    if (late !== undefined) this.conclude(late.verdict(this), true);
  }

  conclude(value: Verdict<T> | undefined, failuresComplete: boolean): void {
    if (value === undefined || this.decided) return;
    this.decided = true;
    clearTimeout(this.#lateTimer);
    for (const lane of this.#options.lanes ?? []) lane.prune();
    // A failure reply decided it: the other failures read in the same turn of the event loop
    // are named too. Timeouts are all recorded at once, and then nothing is waited for.
    if (value === NO_QUORUM && !failuresComplete) setImmediate(deliver, this, value);
    else this.deliver(value);
  }

  deliver(value: Verdict<T>): void {
    this.settled = true;
    // Nothing reads the servers still pending any more: their replies go to their commands only.
    disarmDeadline(this);
    if (value === NO_QUORUM) this.#reject(this.#servers.quorumError(this.script, this.failures));
    else this.#resolve(value);
  }
}

// Timer callbacks shared by all calls (the call comes as an argument): no closure per call.
function tooLateNow<T>(run: QuorumRun<T>): void {
  run.tooLate();
}
function deliver<T>(run: QuorumRun<T>, value: Verdict<T>): void {
  run.deliver(value);
}

/** What a {@link ServerCommand} needs of its call. */
interface CommandsCall {
  readonly script: LuaScript;
  dropped(): boolean;
  record(command: ServerCommand, result: ServerResult): void;
  answered(): void;
}

/** One server's command of a quorum call, and its real answer (late ones included). */
class ServerCommand implements LaneCommand, ServerAnswer {
  answer: Outcome | undefined = undefined;
  /** Counted in its call's tally (a reply, a failure or a timeout). */
  recorded = false;
  readonly index: number;
  readonly #run: CommandsCall;
  readonly #runner: ScriptRunner;
  readonly #keys: readonly string[];
  readonly #args: readonly ScriptArg[];

  constructor(
    run: CommandsCall,
    runner: ScriptRunner,
    index: number,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ) {
    this.#run = run;
    this.#runner = runner;
    this.index = index;
    this.#keys = keys;
    this.#args = args;
  }

  send(): Promise<unknown> {
    return this.#runner.run(this.#run.script, this.#keys, this.#args);
  }

  dropped(): boolean {
    return this.#run.dropped();
  }

  done(outcome: Outcome): void {
    this.answer = outcome;
    // Never sent: dropped once decided, or once the deadline passed (which times it out).
    if (outcome === SKIPPED) return;
    this.#run.record(this, outcome);
    this.#run.answered();
  }
}

/** One server's holder of a lock. */
interface ServerHold {
  readonly owner: string;
  readonly remaining: number;
  readonly holdCount: number;
}

/** An INSPECT reply as a {@link ServerHold}, `undefined` when the lock is free there. */
function serverHold(reply: unknown): ServerHold | undefined {
  const [owner, pttl, count] = Array.isArray(reply) ? reply : [];
  return typeof owner === 'string'
    ? { owner, remaining: Math.max(0, Number(pttl)), holdCount: Number(count) }
    : undefined;
}

/**
 * The holder a majority of servers agree on: its owner, and the time until fewer than a majority
 * still hold it (the quorum-th longest remaining time among the replies). `undefined` when no
 * owner holds a majority; `'unknown'` when the failed servers could tip it either way; `'pending'`
 * while the `pending` servers (not answered yet) could still change which of those it is.
 */
export function majorityView(
  holds: ReadonlyArray<ServerHold | undefined>,
  failed: number,
  quorum: number,
  pending = 0,
): ServerHold | undefined | 'unknown' | 'pending' {
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
  // A pending server adds to one owner or to the failures: neither can grow past these bounds.
  if (largest + failed + pending < quorum) return undefined;
  if (largest + pending < quorum && largest + failed >= quorum) return 'unknown';
  return pending === 0 ? (largest + failed >= quorum ? 'unknown' : undefined) : 'pending';
}

/** The `quorum`-th largest value: a majority of servers have at least this much. */
function quorumthLargest(values: readonly number[], quorum: number): number {
  return [...values].sort((a, b) => b - a)[quorum - 1] ?? 0;
}

/**
 * Where a call that has `successes` but not yet a quorum stands: `NO_QUORUM` once the failures
 * (which only grow) have cost the quorum, `no` once it is out of reach whatever the pending
 * servers answer and the failures could not have cost it, `undefined` while the pending servers
 * could still change it.
 */
function shortOfQuorum<T>(
  successes: number,
  { failures, pending }: Tally,
  quorum: number,
  no: T,
): Verdict<T> | undefined {
  if (successes + pending >= quorum) return undefined;
  if (successes + failures.length >= quorum) return NO_QUORUM;
  if (successes + failures.length + pending < quorum) return no;
  return undefined;
}

/** The verdict when the time a call would buy ran out before it reached a quorum. */
function tooLate<T>(successes: number, { failures }: Tally, quorum: number, no: T): Verdict<T> {
  return successes + failures.length >= quorum ? NO_QUORUM : no;
}

function isTaken(reply: unknown): boolean {
  return Array.isArray(reply) && Number(reply[0]) === 1;
}

/** A release or extend reply that found this token's hold. */
function isHeld(reply: unknown): boolean {
  return Number(reply) >= 0;
}

function countReplies(replies: Tally['replies'], matches: (reply: unknown) => boolean): number {
  let count = 0;
  for (const { value } of replies) if (matches(value)) count += 1;
  return count;
}

/** The extend script's "did not exist, re-taken" reply. */
const RETAKEN = -3;

const ACQUIRED: AcquireReply = Object.freeze({ acquired: true, fencingToken: undefined, queued: false });
const NOT_ACQUIRED: AcquireReply = Object.freeze({ acquired: false, fencingToken: undefined, queued: false });

/** The protocol of one Redlock lock handle: of the mutex at `key`, or of a {@link RedlockHold}. */
export class RedlockProtocol implements HoldProtocol {
  readonly #servers: RedlockServers;
  readonly #hold: RedlockHold;
  readonly #commandTimeout: number;
  readonly #lanes: readonly ServerLane[];
  // The hold count this handle has on the servers: what a re-taken server is given.
  #holdCount = 1;
  readonly subscribe: Subscribe | undefined;

  /** `commandTimeout`: the most any one server is given to answer one call. */
  constructor(
    servers: RedlockServers,
    key: string | RedlockHold,
    commandTimeout: number = Number.POSITIVE_INFINITY,
  ) {
    this.#servers = servers;
    this.#hold = typeof key === 'string' ? mutexRedlockHold(key) : key;
    this.#commandTimeout = commandTimeout;
    this.#lanes = servers.runners.map(() => new ServerLane());
    const { notifier } = servers;
    // No server can tell which member holds a set back: its waiter listens on every member.
    this.subscribe = subscribeToEach(
      notifier.subscribe === undefined ? undefined : (notifier as ReleaseNotifier),
      this.#hold.channels,
    );
  }

  async acquire({ token, ttl, holdCount }: AcquireRequest): Promise<AcquireReply> {
    const servers = this.#servers;
    const hold = this.#hold;
    const startedAt = monotonicNow();
    const validFor = ttl - clockDrift(ttl);
    const timeout = serverDeadline(this.#commandTimeout);
    const lateAfter = serverDeadline(validFor);
    // Never fencing: a counter per server gives no token that increases across majorities.
    const { verdict, answers } = servers.call(hold.acquire, hold.keys, [token, ttl, holdCount, 0], {
      timeout,
      lanes: this.#lanes,
      decide: (tally) => {
        const taken = countReplies(tally.replies, isTaken);
        if (taken >= servers.quorum) {
          return monotonicNow() - startedAt < validFor ? ACQUIRED : NOT_ACQUIRED;
        }
        return shortOfQuorum(taken, tally, servers.quorum, NOT_ACQUIRED);
      },
      // A majority reached after the validity would have run out is not a hold.
      late:
        lateAfter < timeout
          ? {
              after: lateAfter,
              verdict: (tally) =>
                tooLate(countReplies(tally.replies, isTaken), tally, servers.quorum, NOT_ACQUIRED),
            }
          : undefined,
    });
    let reply: AcquireReply;
    try {
      reply = await verdict;
    } catch (error) {
      if (holdCount === 1) this.#giveBack(token, answers, isTaken);
      throw error;
    }
    if (reply.acquired) this.#holdCount = holdCount;
    // A first entry that missed: give back what it took, also where the reply comes later (or
    // never: a failed server may have taken it before its reply was lost). A missed re-entry is
    // left alone: the handle reports it lost.
    else if (holdCount === 1) this.#giveBack(token, answers, isTaken);
    return reply;
  }

  async release(token: string, holdCount: number): Promise<ReleaseResult> {
    const servers = this.#servers;
    const { release, keys, channels } = this.#hold;
    const { verdict } = servers.call(release, keys, [token, holdCount, ...channels], {
      timeout: serverDeadline(this.#commandTimeout),
      lanes: this.#lanes,
      // Decided by a majority, but every server that still holds it must be told.
      alwaysSend: true,
      decide: (tally) => {
        const held = countReplies(tally.replies, isHeld);
        return held >= servers.quorum ? holdCount : shortOfQuorum(held, tally, servers.quorum, -1);
      },
    });
    const result = await verdict;
    if (result >= 0) this.#holdCount = result;
    return releaseResult(result);
  }

  async extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    const servers = this.#servers;
    const startedAt = monotonicNow();
    const extended = ({ replies }: Tally) =>
      replies.map(({ value }) => Number(value)).filter((remaining) => remaining >= 0);
    // A majority shows no hold of this token: someone else's on any of them means taken.
    const notHeld = ({ replies }: Tally) => (replies.some(({ value }) => Number(value) === -2) ? -2 : -1);
    const args = [token, ms, replace ? 1 : 0, 1, this.#holdCount];
    const { verdict, answers } = servers.call(this.#hold.extend, this.#hold.keys, args, {
      timeout: serverDeadline(this.#commandTimeout),
      lanes: this.#lanes,
      decide: (tally) => {
        const remainings = extended(tally);
        if (remainings.length >= servers.quorum) {
          const remaining = quorumthLargest(remainings, servers.quorum);
          // Extended on a majority, but so late that the time it bought has already run out.
          return monotonicNow() - startedAt >= remaining - clockDrift(remaining) ? -1 : remaining;
        }
        return shortOfQuorum(remainings.length, tally, servers.quorum, notHeld(tally));
      },
      // A replace buys `ms` from now: a majority reached after that (less drift) is too late.
      late: replace
        ? {
            after: serverDeadline(ms - clockDrift(ms)),
            verdict: (tally) => tooLate(extended(tally).length, tally, servers.quorum, notHeld(tally)),
          }
        : undefined,
    });
    const remaining = await verdict;
    // Lost: what this extend (re-)took here and there is given back. A failed extend is not a
    // verdict (the hold may still be valid): the handle keeps trying until its deadline.
    if (remaining < 0) {
      this.#giveBack(token, answers, (value) => Number(value) >= 0 || Number(value) === RETAKEN);
    }
    return extendResult(remaining);
  }

  async status(token: string): Promise<HoldStatus> {
    const { inspect, inspectKeys } = this.#hold;
    const view = await this.#servers.inspect(inspectKeys, this.#commandTimeout, inspect);
    return {
      heldByAnyone: view.owner !== null,
      remainingForToken: view.owner === token ? view.remaining : 0,
    };
  }

  /**
   * Releases, without a notification, on each server where the call whose `answers` these are
   * may have left this token: its reply says so (`holds`), it failed (unknown), or it has not
   * answered yet (then once it does). Queued behind that call on the server's lane, and ahead of
   * the handle's next command there. Never rejects.
   */
  #giveBack(token: string, answers: ReadonlyArray<ServerAnswer>, holds: (reply: unknown) => boolean): void {
    const runners = this.#servers.runners;
    const { release, keys } = this.#hold;
    const args = [token, 0, ''];
    answers.forEach((call, index) => {
      const needed = () => {
        const result = call.answer;
        return result !== SKIPPED && (result === undefined || !result.ok || holds(result.value));
      };
      this.#lanes[index]?.submit({
        // Its turn comes after that call's answer, so the answer is known by then.
        send: () => (needed() ? runners[index]?.run(release, keys, args) : undefined),
        dropped: () => call.answer !== undefined && !needed(),
        done: () => {
          // A server that stays unreachable lets the lock expire within its ttl.
        },
      });
    });
  }
}

/**
 * Subscribes to release notifications on every server that offers them, resolving once the first
 * subscription is confirmed (a waiter also polls, so a down server costs nothing but its
 * wake-ups). Without `subscribe` when no server offers them.
 */
function quorumNotifier(runners: readonly ScriptRunner[]): Partial<ReleaseNotifier> {
  const notifiers = runners.filter(hasReleaseNotifier);
  if (notifiers.length === 0) return {};
  return {
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

/**
 * Two runners (e.g. two clients) on one server would let that server count twice towards the
 * majority. Runners that describe their server (both adapters do: `host:port`) are compared by
 * that description; the others cannot be checked. Best effort: one server reached under two
 * addresses (a hostname and its IP, or through a proxy) is not recognised.
 */
function checkDistinctServers(runners: readonly ScriptRunner[]): void {
  const seen = new Map<string, number>();
  runners.forEach((runner, index) => {
    const description = describeServer(runner);
    if (description === undefined) return;
    const first = seen.get(description);
    if (first !== undefined) {
      throw new LockOptionError(
        'runner',
        `runners ${first} and ${index} both describe the server ${description}: Redlock needs ` +
          'independent servers, and one server must not count twice towards the majority.',
      );
    }
    seen.set(description, index);
  });
}

function describeServer(runner: ScriptRunner): string | undefined {
  if (!hasDescription(runner)) return undefined;
  try {
    const description = runner.describe();
    return typeof description === 'string' && description !== '' ? description : undefined;
  } catch {
    return undefined; // a description is for messages; failing to give one is no reason to refuse
  }
}
