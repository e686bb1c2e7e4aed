/**
 * The read-write lock: many readers or one writer, with writer preference so that a writer is
 * not starved by a stream of readers. Read and write holds are plain {@link Lock} handles (signal,
 * fencing token, extend, release, auto-renewal, `await using` all work); only their
 * {@link HoldProtocol} differs. The Redis side, its keys and the policy are described in
 * `scripts/read-write-lock.ts`.
 */

import { checkPrimitiveOptions, checkPrimitiveReplicas, type Deployment } from '../deployments/deployment.js';
import {
  type AcquireReply,
  type AcquireRequest,
  type ExtendResult,
  extendResult,
  type HoldProtocol,
  type HoldStatus,
  parseAcquireReply,
  type ReleaseResult,
  releaseResult,
  runScript,
  type Subscribe,
  subscribeVia,
} from '../deployments/protocol.js';
import { LockMisuseError } from '../errors.js';
import type { CallChainLocks } from '../handle/call-chain-locks.js';
import { withDeadline } from '../handle/deadline.js';
import { acquireHold, type MakeHold, tryAcquireHold, withHold } from '../handle/holding.js';
import type { LockHooks } from '../handle/hooks.js';
import { Lock } from '../handle/lock.js';
import { fencingCounterKey, readersKey, releaseChannel, writersWaitingKey } from '../keys.js';
import {
  type LockOptions,
  optionsObject,
  type ResolvedLockOptions,
  resolveLockOptions,
  stripUndefined,
} from '../options.js';
import type { ReleaseNotifier } from '../port/capabilities.js';
import type { ScriptRunner } from '../port/runner.js';
import {
  EXTEND_SCRIPT,
  RW_INSPECT_SCRIPT,
  RW_READ_ACQUIRE_SCRIPT,
  RW_READ_EXTEND_SCRIPT,
  RW_READ_RELEASE_SCRIPT,
  RW_WRITE_ACQUIRE_SCRIPT,
  RW_WRITE_RELEASE_SCRIPT,
} from '../scripts/index.js';
import { queuePlaceTtl } from './mutex.js';

/**
 * Options of a read-write lock's holds: every {@link LockOptions} but reentrancy, fairness and
 * replica acknowledgement. A read or write hold is taken once per handle; `reentrant: true`,
 * `fair: true` or any `replicas` throws a {@link LockOptionError}. (Locker-wide `reentrant`/`fair`
 * defaults do not apply here; a Locker-wide `replicas` makes `locker.readWriteLock` refuse.)
 */
export interface ReadWriteLockOptions extends Omit<LockOptions, 'reentrant' | 'fair' | 'replicas'> {
  /** Read-write holds are not reentrant: only `false` (or nothing) is accepted. */
  reentrant?: false;
  /** Read-write locks use writer preference, not FIFO: only `false` (or nothing) is accepted. */
  fair?: false;
  /** Read-write locks do not wait for replicas (only the mutex does): leave it unset. */
  replicas?: undefined;
}

/** Options of the acquiring methods of a {@link ReadWriteLock}. */
export interface ReadWriteAcquireOptions extends ReadWriteLockOptions {
  /** Aborting it ends the wait at once with a `LOCK_ACQUIRE_ABORTED` {@link LockAcquireError}. */
  signal?: AbortSignal;
}

/** One holder (or waiting writer) as {@link ReadWriteLock.inspect} reports it. */
export interface ReadWriteHolder {
  /** Its owner token (`lock.token`). */
  readonly token: string;
  /** Ms until its hold expires (for a waiting writer: until its mark lapses unless it retries). */
  readonly remaining: number;
}

/** What {@link ReadWriteLock.inspect} reports. */
export interface ReadWriteLockReport {
  /** The lock's name (without prefix). */
  readonly name: string;
  /** The writer's key; the other keys of the lock are this followed by a suffix. */
  readonly key: string;
  /** The writer holding the lock, with its fencing token (`null` when minted without fencing), or `null`. */
  readonly writer: (ReadWriteHolder & { readonly fencingToken: number | null }) | null;
  /** Every live read hold, soonest to expire first. */
  readonly readers: readonly ReadWriteHolder[];
  /** Writers waiting for the lock (their marks hold new readers back), soonest to lapse first. */
  readonly writersWaiting: readonly ReadWriteHolder[];
  /** The highest fencing token ever minted for this read-write lock, or `null` if none was. */
  readonly lastFencingToken: number | null;
}

/** What a read-write lock needs from its Locker. @internal */
export interface ReadWriteLockContext {
  readonly deployment: Deployment;
  readonly name: string;
  /** The writer's key, `readWriteLockKey(prefix, name)`. */
  readonly key: string;
  /** The Locker's lock defaults. */
  readonly defaults: LockOptions;
  readonly hooks: LockHooks;
  /** Nested `withRead`/`withWrite` detection; `undefined` with `asyncReentrancy: false`. */
  readonly callChain: CallChainLocks | undefined;
  /** This read-write lock's own defaults, over the Locker's. */
  readonly options: ReadWriteLockOptions | undefined;
}

type Mode = 'read' | 'write';

/**
 * A read-write lock: any number of read holds at once, or one write hold. Get one with
 * `locker.readWriteLock(name, options?)`; it is a light front (no Redis call) that hands out
 * {@link Lock} handles.
 *
 * **Policy: writer preference.** A writer that finds the lock busy leaves a short-lived "writer
 * waiting" mark in Redis; while a mark is live, new read holds are refused, the read holds
 * already in finish, and the writer gets in, so a stream of overlapping readers cannot starve
 * it. A mark lasts `2 × (longest retry sleep) + 1 s` unless the writer tries again, so a writer
 * that crashes stops holding readers back by itself; one that gets the lock or gives up removes
 * its mark at once. The other side of the trade: a continuous stream of writers can keep readers
 * waiting.
 *
 * **Fencing.** Every hold, read or write, mints the next token of one counter, so a writer's
 * token exceeds that of every hold (read or write) that ended before it began, and a reader's
 * exceeds that of every writer before it.
 *
 * **Reentrancy.** A handle holds once (`reentrant: true` is rejected). A `withRead` or
 * `withWrite` nested in another on the same lock, in the same async call chain and through the
 * same Locker, runs inside the outer hold (read in read, read or write in write), as `withLock`
 * does; a `withWrite` nested in a `withRead` throws {@link LockMisuseError}: upgrading would wait
 * for itself.
 *
 * @example
 * ```ts
 * const config = locker.readWriteLock('config');
 * const value = await config.withRead(async () => readConfig());
 * await config.withWrite(async (lock) => writeConfig(next, { fence: lock.fencingToken }));
 * ```
 */
export class ReadWriteLock {
  /** The lock's name, as given to the Locker (without prefix). */
  readonly name: string;
  /** The writer's Redis key, `${prefix}{${name}}:rw`; the other keys add a suffix to it. */
  readonly key: string;

  readonly #deployment: Deployment;
  readonly #hooks: LockHooks;
  readonly #callChain: CallChainLocks | undefined;
  readonly #defaults: LockOptions;
  readonly #keys: readonly string[];
  readonly #inspectTimeout: number;

  /**
   * @internal Use `locker.readWriteLock(name, options?)`.
   * @throws {LockOptionError} for an invalid option.
   */
  constructor(context: ReadWriteLockContext) {
    const options = optionsObject(context.options);
    checkPrimitiveOptions('read-write lock', options);
    const base = { ...context.defaults, reentrant: false, fair: false };
    const resolved = checkPrimitiveReplicas('read-write lock', resolveLockOptions(base, options));
    this.#inspectTimeout = resolved.commandTimeout;
    this.#defaults = { ...base, ...stripUndefined(options) };
    this.#deployment = context.deployment;
    this.#hooks = context.hooks;
    this.#callChain = context.callChain;
    this.name = context.name;
    this.key = context.key;
    this.#keys = readWriteKeys(context.key);
  }

  /**
   * A read-hold handle, not yet acquired: call `acquire()` on it.
   * @throws {LockOptionError} for an invalid option; nothing is sent to Redis.
   */
  createReadLock(options?: ReadWriteLockOptions): Lock {
    return this.#create('read', options);
  }

  /**
   * A write-hold handle, not yet acquired: call `acquire()` on it.
   * @throws {LockOptionError} for an invalid option; nothing is sent to Redis.
   */
  createWriteLock(options?: ReadWriteLockOptions): Lock {
    return this.#create('write', options);
  }

  /**
   * Takes a read hold, waiting and retrying as the options say, and resolves the held
   * {@link Lock}. Refused while a writer holds the lock or waits for it.
   * @throws {LockAcquireError} `LOCK_NOT_ACQUIRED` when it stays refused; `LOCK_ACQUIRE_ABORTED`
   *   when `options.signal` aborts.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async acquireRead(options?: ReadWriteAcquireOptions): Promise<Lock> {
    return acquireHold(this.#makeRead, options);
  }

  /**
   * Takes the write hold, waiting and retrying as the options say, and resolves the held
   * {@link Lock}. While it waits, its mark holds new readers back.
   * @throws {LockAcquireError} `LOCK_NOT_ACQUIRED` when it stays held elsewhere;
   *   `LOCK_ACQUIRE_ABORTED` when `options.signal` aborts.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async acquireWrite(options?: ReadWriteAcquireOptions): Promise<Lock> {
    return acquireHold(this.#makeWrite, options);
  }

  /**
   * One attempt at a read hold, never waiting: the held {@link Lock}, or `null`.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async tryAcquireRead(options?: ReadWriteAcquireOptions): Promise<Lock | null> {
    return tryAcquireHold(this.#makeRead, options);
  }

  /**
   * One attempt at the write hold, never waiting (and leaving no mark): the held {@link Lock}, or
   * `null`.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async tryAcquireWrite(options?: ReadWriteAcquireOptions): Promise<Lock | null> {
    return tryAcquireHold(this.#makeWrite, options);
  }

  /**
   * Runs `fn` under a read hold and releases it afterwards on every path, like
   * `Locker.withLock`. `fn`'s own error is rethrown as it is.
   * @throws {LockAcquireError} when the hold cannot be had; `fn` is not called.
   */
  async withRead<T>(fn: (lock: Lock) => Promise<T> | T, options?: ReadWriteAcquireOptions): Promise<T> {
    return withHold(this.#makeRead, fn, options, this.#runOptions('read'));
  }

  /**
   * Runs `fn` under the write hold and releases it afterwards on every path, like
   * `Locker.withLock`. `fn`'s own error is rethrown as it is.
   * @throws {LockAcquireError} when the hold cannot be had; `fn` is not called.
   * @throws {LockMisuseError} when nested in a `withRead` on this lock in the same call chain.
   */
  async withWrite<T>(fn: (lock: Lock) => Promise<T> | T, options?: ReadWriteAcquireOptions): Promise<T> {
    return withHold(this.#makeWrite, fn, options, this.#runOptions('write'));
  }

  /**
   * What Redis shows about this lock, in one round trip: the writer, every live reader with its
   * remaining time, the waiting writers, and the fencing counter. For operators and dashboards.
   * @throws {LockRedisError} when Redis fails.
   */
  async inspect(): Promise<ReadWriteLockReport> {
    const reading = this.#deployment.inspectReadWrite(this.#keys, '', true).then(parseReadWriteState);
    const state = await withDeadline(reading, this.#inspectTimeout, 'rw-inspect');
    return { name: this.name, key: this.key, ...state.report };
  }

  #create(mode: Mode, given: ReadWriteLockOptions | undefined): Lock {
    const options = optionsObject(given);
    checkPrimitiveOptions('read-write lock', options);
    const resolved = checkPrimitiveReplicas('read-write lock', resolveLockOptions(this.#defaults, options));
    const protocol = this.#deployment.readWriteHold(this.#keys, mode === 'write', resolved);
    return new Lock({
      name: this.name,
      // The key that holds this handle's hold: the readers' set, or the writer's hash.
      key: mode === 'read' ? readersKey(this.key) : this.key,
      options: resolved,
      hooks: this.#hooks,
      protocol,
    });
  }

  readonly #makeRead: MakeHold<ReadWriteLockOptions> = (options, oneAttempt) =>
    this.#create('read', oneAttempt ? { ...options, retryCount: 0 } : options);

  readonly #makeWrite: MakeHold<ReadWriteLockOptions> = (options, oneAttempt) =>
    this.#create('write', oneAttempt ? { ...options, retryCount: 0 } : options);

  #runOptions(mode: Mode) {
    return {
      usage: `with${mode === 'read' ? 'Read' : 'Write'}(fn, options?)`,
      lockName: this.name,
      callChain: this.#callChain,
      chainName: this.name,
      // Nested in a hold of this lock by the same call chain: run inside it rather than wait for
      // it, except a write inside a read, which would wait for itself.
      checkNested: (outer: Lock) => {
        if (mode === 'write' && outer.key !== this.key) {
          throw new LockMisuseError(
            `Cannot take the write hold of "${this.name}" inside a read hold of it in the same call chain: it would wait for itself. Take the write hold first.`,
          );
        }
      },
    };
  }
}

/** Every key of the read-write lock whose writer key is `key`, in the order its scripts take them. */
function readWriteKeys(key: string): readonly string[] {
  return [key, readersKey(key), writersWaitingKey(key), fencingCounterKey(key)];
}

/** The protocol of a read hold (`write: false`) or the write hold, on one server. @internal */
export function readWriteProtocol(
  runner: ScriptRunner,
  notifier: ReleaseNotifier | undefined,
  keys: readonly string[],
  write: boolean,
  options: ResolvedLockOptions,
): HoldProtocol {
  return write
    ? new WriteProtocol(runner, notifier, keys, options)
    : new ReadProtocol(runner, notifier, keys);
}

// Classes rather than closures: a protocol is made per lock handle, on the fast path.
abstract class ReadWriteProtocol implements HoldProtocol {
  protected readonly runner: ScriptRunner;
  protected readonly keys: readonly string[];
  protected readonly channel: string;
  readonly subscribe: Subscribe | undefined;

  constructor(runner: ScriptRunner, notifier: ReleaseNotifier | undefined, keys: readonly string[]) {
    this.runner = runner;
    this.keys = keys;
    this.channel = releaseChannel(keys[0] as string);
    // Readers and writers wait on the one release channel of the lock.
    this.subscribe = subscribeVia(notifier, () => this.channel);
  }

  abstract acquire(request: AcquireRequest): Promise<AcquireReply>;
  abstract release(token: string, holdCount: number): Promise<ReleaseResult>;
  abstract extend(token: string, ms: number, replace: boolean): Promise<ExtendResult>;
  abstract status(token: string): Promise<HoldStatus>;
}

class ReadProtocol extends ReadWriteProtocol {
  async acquire({ token, ttl, fencing }: AcquireRequest): Promise<AcquireReply> {
    const args = [token, ttl, fencing ? 1 : 0];
    return parseAcquireReply(await runScript(this.runner, RW_READ_ACQUIRE_SCRIPT, this.keys, args));
  }

  async release(token: string, _holdCount: number): Promise<ReleaseResult> {
    const reply = await runScript(this.runner, RW_READ_RELEASE_SCRIPT, this.keys, [token, this.channel]);
    return releaseResult(reply);
  }

  async extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    const args = [token, ms, replace ? 1 : 0];
    return extendResult(await runScript(this.runner, RW_READ_EXTEND_SCRIPT, this.keys, args));
  }

  async status(token: string): Promise<HoldStatus> {
    const { heldByAnyone, tokenReadRemaining } = await inspectReadWriteLock(this.runner, this.keys, token);
    return { heldByAnyone, remainingForToken: tokenReadRemaining };
  }
}

class WriteProtocol extends ReadWriteProtocol {
  readonly #writerKey: readonly string[];
  readonly #markTtl: number;

  constructor(
    runner: ScriptRunner,
    notifier: ReleaseNotifier | undefined,
    keys: readonly string[],
    options: ResolvedLockOptions,
  ) {
    super(runner, notifier, keys);
    this.#writerKey = keys.slice(0, 1);
    // The mark only has to outlast the writer's longest sleep between two attempts: the fair
    // lock's queue places face the same trade-off.
    this.#markTtl = queuePlaceTtl(options);
  }

  async acquire({ token, ttl, fencing, mayQueue }: AcquireRequest): Promise<AcquireReply> {
    const args = [token, ttl, fencing ? 1 : 0, mayQueue ? this.#markTtl : 0, this.channel];
    return parseAcquireReply(await runScript(this.runner, RW_WRITE_ACQUIRE_SCRIPT, this.keys, args));
  }

  async release(token: string, _holdCount: number): Promise<ReleaseResult> {
    const reply = await runScript(this.runner, RW_WRITE_RELEASE_SCRIPT, this.keys, [token, this.channel]);
    return releaseResult(reply);
  }

  async extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    // The writer's hash has the mutex's `owner` field and PTTL: the mutex's extend fits as is.
    const args = [token, ms, replace ? 1 : 0];
    return extendResult(await runScript(this.runner, EXTEND_SCRIPT, this.#writerKey, args));
  }

  async status(token: string): Promise<HoldStatus> {
    const { heldByAnyone, report } = await inspectReadWriteLock(this.runner, this.keys, token);
    return { heldByAnyone, remainingForToken: report.writer?.token === token ? report.writer.remaining : 0 };
  }
}

/** What the inspect script shows, parsed. */
interface ReadWriteState {
  readonly heldByAnyone: boolean;
  /** The remaining ms of the asked token's read hold; 0 if it has none. */
  readonly tokenReadRemaining: number;
  readonly report: Omit<ReadWriteLockReport, 'name' | 'key'>;
}

/** Reads a read-write lock's state in one round trip, for `token`. */
async function inspectReadWriteLock(
  runner: ScriptRunner,
  keys: readonly string[],
  token: string,
): Promise<ReadWriteState> {
  return parseReadWriteState(await runScript(runner, RW_INSPECT_SCRIPT, keys, [token, 0]));
}

/** Reads the inspect script's reply (holders are listed only when it was asked to list them). */
function parseReadWriteState(reply: unknown): ReadWriteState {
  const [owner, pttl, fence, readerCount, tokenRemaining, lastFence, readers, waiting, now] = Array.isArray(
    reply,
  )
    ? reply
    : [];
  const positiveOrNull = (value: unknown) => (Number(value) > 0 ? Number(value) : null);
  const holders = (flat: unknown): ReadWriteHolder[] => {
    const entries = Array.isArray(flat) ? flat : [];
    const result: ReadWriteHolder[] = [];
    for (let i = 0; i + 1 < entries.length; i += 2) {
      result.push({
        token: String(entries[i]),
        remaining: Math.max(0, Number(entries[i + 1]) - Number(now)),
      });
    }
    return result;
  };
  const writer =
    typeof owner === 'string'
      ? { token: owner, remaining: Math.max(0, Number(pttl)), fencingToken: positiveOrNull(fence) }
      : null;
  return {
    heldByAnyone: writer !== null || Number(readerCount) > 0,
    tokenReadRemaining: Math.max(0, Number(tokenRemaining)),
    report: {
      writer,
      readers: holders(readers),
      writersWaiting: holders(waiting),
      lastFencingToken: positiveOrNull(lastFence),
    },
  };
}
