/**
 * The read-write lock: many readers or one writer, with writer preference so that a writer is
 * not starved by a stream of readers. Read and write holds are plain {@link Lock} handles (signal,
 * fencing token, extend, release, auto-renewal, `await using` all work); only their
 * {@link HoldProtocol} differs. The Redis side, its keys and the policy are described in
 * `scripts/read-write-lock.ts`.
 */

import {
  type AcquireReply,
  type AcquireRequest,
  type HoldProtocol,
  type HoldStatus,
  parseAcquireReply,
  runScript,
} from '../deployments/protocol.js';
import { LockAcquireError, LockMisuseError, LockOptionError } from '../errors.js';
import type { CallChainLocks } from '../handle/call-chain-locks.js';
import { withDeadline } from '../handle/deadline.js';
import { acquireOrThrow, runWhileHeld, withoutSignal } from '../handle/holding.js';
import type { LockHooks } from '../handle/hooks.js';
import { Lock } from '../handle/lock.js';
import { fencingCounterKey, readersKey, releaseChannel, writersWaitingKey } from '../keys.js';
import {
  checkNeitherReentrantNorFair,
  type LockOptions,
  optionsObject,
  type ResolvedLockOptions,
  refuseReplicas,
  resolveLockOptions,
  stripUndefined,
} from '../options.js';
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
  readonly runner: ScriptRunner;
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

const NEITHER_REENTRANT_NOR_FAIR = 'a read-write lock is neither reentrant nor fair (it prefers writers)';

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

  readonly #runner: ScriptRunner;
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
    checkNeitherReentrantNorFair(options, NEITHER_REENTRANT_NOR_FAIR);
    const base = { ...context.defaults, reentrant: false, fair: false };
    const resolved = refuseReplicas(resolveLockOptions(base, options), 'read-write locks');
    this.#inspectTimeout = resolved.commandTimeout;
    this.#defaults = { ...base, ...stripUndefined(options) };
    this.#runner = context.runner;
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
    return acquireOrThrow(this.#create('read', withoutSignal(options)), options?.signal);
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
    return acquireOrThrow(this.#create('write', withoutSignal(options)), options?.signal);
  }

  /**
   * One attempt at a read hold, never waiting: the held {@link Lock}, or `null`.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async tryAcquireRead(options?: ReadWriteAcquireOptions): Promise<Lock | null> {
    return this.#tryAcquire('read', options);
  }

  /**
   * One attempt at the write hold, never waiting (and leaving no mark): the held {@link Lock}, or
   * `null`.
   * @throws {LockRedisError} when Redis fails.
   * @throws {LockOptionError} for an invalid option.
   */
  async tryAcquireWrite(options?: ReadWriteAcquireOptions): Promise<Lock | null> {
    return this.#tryAcquire('write', options);
  }

  /**
   * Runs `fn` under a read hold and releases it afterwards on every path, like
   * `Locker.withLock`. `fn`'s own error is rethrown as it is.
   * @throws {LockAcquireError} when the hold cannot be had; `fn` is not called.
   */
  async withRead<T>(fn: (lock: Lock) => Promise<T> | T, options?: ReadWriteAcquireOptions): Promise<T> {
    return this.#runHeld('read', fn, options);
  }

  /**
   * Runs `fn` under the write hold and releases it afterwards on every path, like
   * `Locker.withLock`. `fn`'s own error is rethrown as it is.
   * @throws {LockAcquireError} when the hold cannot be had; `fn` is not called.
   * @throws {LockMisuseError} when nested in a `withRead` on this lock in the same call chain.
   */
  async withWrite<T>(fn: (lock: Lock) => Promise<T> | T, options?: ReadWriteAcquireOptions): Promise<T> {
    return this.#runHeld('write', fn, options);
  }

  /**
   * What Redis shows about this lock, in one round trip: the writer, every live reader with its
   * remaining time, the waiting writers, and the fencing counter. For operators and dashboards.
   * @throws {LockRedisError} when Redis fails.
   */
  async inspect(): Promise<ReadWriteLockReport> {
    const reading = inspectReadWriteLock(this.#runner, this.#keys, '', true);
    const state = await withDeadline(reading, this.#inspectTimeout, 'rw-inspect');
    return { name: this.name, key: this.key, ...state.report };
  }

  #create(mode: Mode, given: ReadWriteLockOptions | undefined): Lock {
    const options = optionsObject(given);
    checkNeitherReentrantNorFair(options, NEITHER_REENTRANT_NOR_FAIR);
    const resolved = refuseReplicas(resolveLockOptions(this.#defaults, options), 'read-write locks');
    const protocol =
      mode === 'read'
        ? new ReadProtocol(this.#runner, this.#keys)
        : new WriteProtocol(this.#runner, this.#keys, resolved);
    return new Lock({
      runner: this.#runner,
      name: this.name,
      // The key that holds this handle's hold: the readers' set, or the writer's hash.
      key: mode === 'read' ? readersKey(this.key) : this.key,
      options: resolved,
      hooks: this.#hooks,
      protocol,
    });
  }

  async #tryAcquire(mode: Mode, options: ReadWriteAcquireOptions | undefined): Promise<Lock | null> {
    const lock = this.#create(mode, { ...withoutSignal(options), retryCount: 0 });
    return (await lock.acquire({ signal: options?.signal })) ? lock : null;
  }

  async #runHeld<T>(
    mode: Mode,
    fn: (lock: Lock) => Promise<T> | T,
    options: ReadWriteAcquireOptions | undefined,
  ): Promise<T> {
    if (typeof fn !== 'function') {
      throw new LockOptionError(
        'fn',
        `with${mode === 'read' ? 'Read' : 'Write'}(fn, options?) needs a function to run.`,
      );
    }
    const lock = this.#create(mode, withoutSignal(options));
    const callChain = this.#callChain;
    const outer = callChain?.held(this.name);
    if (callChain !== undefined && outer !== undefined) {
      // Nested in a hold of this lock by the same call chain: run inside it rather than wait for it.
      if (mode === 'write' && outer.lock.key !== this.key) {
        throw new LockMisuseError(
          `Cannot take the write hold of "${this.name}" inside a read hold of it in the same call chain: it would wait for itself. Take the write hold first.`,
        );
      }
      return callChain.runNested(outer, () => fn(outer.lock));
    }
    const outcome = await runWhileHeld(
      lock,
      fn,
      options?.signal,
      callChain === undefined ? undefined : (run) => callChain.runHolding(lock, run),
    );
    if (!outcome.acquired) {
      throw new LockAcquireError('LOCK_NOT_ACQUIRED', { lockName: this.name, ...outcome });
    }
    return outcome.value;
  }
}

/** Every key of the read-write lock whose writer key is `key`, in the order its scripts take them. */
function readWriteKeys(key: string): readonly string[] {
  return [key, readersKey(key), writersWaitingKey(key), fencingCounterKey(key)];
}

// Classes rather than closures: a protocol is made per lock handle, on the fast path.
abstract class ReadWriteProtocol implements HoldProtocol {
  protected readonly runner: ScriptRunner;
  protected readonly keys: readonly string[];
  protected readonly channel: string;

  constructor(runner: ScriptRunner, keys: readonly string[]) {
    this.runner = runner;
    this.keys = keys;
    this.channel = releaseChannel(keys[0] as string);
  }

  abstract acquire(request: AcquireRequest): Promise<AcquireReply>;
  abstract release(token: string, holdCount: number): Promise<number>;
  abstract extend(token: string, ms: number, replace: boolean): Promise<number>;
  abstract status(token: string): Promise<HoldStatus>;

  /** Readers and writers wait on the one release channel of the lock. */
  wakeChannel(_token: string): string {
    return this.channel;
  }
}

class ReadProtocol extends ReadWriteProtocol {
  async acquire({ token, ttl, fencing }: AcquireRequest): Promise<AcquireReply> {
    const args = [token, ttl, fencing ? 1 : 0];
    return parseAcquireReply(await runScript(this.runner, RW_READ_ACQUIRE_SCRIPT, this.keys, args));
  }

  async release(token: string, _holdCount: number): Promise<number> {
    return Number(await runScript(this.runner, RW_READ_RELEASE_SCRIPT, this.keys, [token, this.channel]));
  }

  async extend(token: string, ms: number, replace: boolean): Promise<number> {
    const args = [token, ms, replace ? 1 : 0];
    return Number(await runScript(this.runner, RW_READ_EXTEND_SCRIPT, this.keys, args));
  }

  async status(token: string): Promise<HoldStatus> {
    const { heldByAnyone, tokenReadRemaining } = await inspectReadWriteLock(this.runner, this.keys, token);
    return { heldByAnyone, remainingForToken: tokenReadRemaining };
  }
}

class WriteProtocol extends ReadWriteProtocol {
  readonly #writerKey: readonly string[];
  readonly #markTtl: number;

  constructor(runner: ScriptRunner, keys: readonly string[], options: ResolvedLockOptions) {
    super(runner, keys);
    this.#writerKey = keys.slice(0, 1);
    // The mark only has to outlast the writer's longest sleep between two attempts: the fair
    // lock's queue places face the same trade-off.
    this.#markTtl = queuePlaceTtl(options);
  }

  async acquire({ token, ttl, fencing, mayQueue }: AcquireRequest): Promise<AcquireReply> {
    const args = [token, ttl, fencing ? 1 : 0, mayQueue ? this.#markTtl : 0, this.channel];
    return parseAcquireReply(await runScript(this.runner, RW_WRITE_ACQUIRE_SCRIPT, this.keys, args));
  }

  async release(token: string, _holdCount: number): Promise<number> {
    return Number(await runScript(this.runner, RW_WRITE_RELEASE_SCRIPT, this.keys, [token, this.channel]));
  }

  async extend(token: string, ms: number, replace: boolean): Promise<number> {
    // The writer's hash has the mutex's `owner` field and PTTL: the mutex's extend fits as is.
    const args = [token, ms, replace ? 1 : 0];
    return Number(await runScript(this.runner, EXTEND_SCRIPT, this.#writerKey, args));
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

/** Reads a read-write lock's state in one round trip; lists holders only when `list` is set. */
async function inspectReadWriteLock(
  runner: ScriptRunner,
  keys: readonly string[],
  token: string,
  list = false,
): Promise<ReadWriteState> {
  const reply = await runScript(runner, RW_INSPECT_SCRIPT, keys, [token, list ? 1 : 0]);
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
