/**
 * Lock sets: one hold over several lock names, taken all or nothing by one script on one server
 * (or, under Redlock, by that script on a majority of the servers). Each member is a plain mutex
 * hash with the set handle's token as its owner, so a set excludes every other set and every
 * single lock that shares a name with it, and `Locker.inspect(name)` shows a member's holder.
 *
 * One script reaches one Redis Cluster slot, so the members' keys must share one: that is checked
 * here, on every deployment, before anything is sent (code written against one Redis then runs
 * unchanged on a Cluster). Names are deduplicated and sorted, so `['b', 'a', 'a']` is the set
 * `['a', 'b']` and the order a caller lists names in never matters.
 */

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
import type { RedlockHold } from '../deployments/redlock.js';
import { LockOptionError } from '../errors.js';
import { Lock, type LockContext } from '../handle/lock.js';
import { hashedPart, hashSlot } from '../hash-slot.js';
import { lockKey, releaseChannel } from '../keys.js';
import { checkLockName, type LockOptions } from '../options.js';
import type { ReleaseNotifier } from '../port/capabilities.js';
import type { ScriptRunner } from '../port/runner.js';
import {
  MULTI_ACQUIRE_SCRIPT,
  MULTI_EXTEND_SCRIPT,
  MULTI_INSPECT_SCRIPT,
  MULTI_RELEASE_SCRIPT,
} from '../scripts/index.js';

/** The most names one lock set may have: every member is a key of one script call. */
export const MAX_LOCK_SET_SIZE = 1_000;

/**
 * A hold over several lock names at once (see `Locker.acquire` with an array). One token, one
 * lease, one `signal`: renewal, `extend` and `release` act on every member in one script, and
 * losing any member loses the whole hold (`signal` aborts with a `LockLostError`: `taken` when a
 * member was deleted or taken while the hold was valid, `expired` or `unreachable` as for one
 * lock), and what was left of it is freed. Status calls (`isLockedByMe`, `remainingTime`) report
 * the whole set: held by this handle only while it holds every member, for the least time left
 * among them; `isLockedByAnyone` is true while any member is held. `name` is the names joined by
 * `, ` (for messages and errors), `key` the first member's key. `fencingToken` is always
 * `undefined`.
 */
export class MultiLock extends Lock {
  /** The set's names, deduplicated and sorted (the order of the members' keys). */
  readonly names: readonly string[];
  /** The Redis key of each member, in the order of {@link MultiLock.names}. */
  readonly keys: readonly string[];

  /** @internal Use `Locker.createLock`, `Locker.acquire` or `Locker.withLock` with an array. */
  constructor(
    context: LockContext & { readonly names: readonly string[]; readonly keys: readonly string[] },
  ) {
    super(context);
    this.names = context.names;
    this.keys = context.keys;
  }
}

/**
 * The names of a lock set, checked, deduplicated and sorted, with their keys; throws a
 * {@link LockOptionError} (nothing sent) for anything but a non-empty array of valid names whose
 * keys share one Redis Cluster slot.
 */
export function lockSetMembers(
  prefix: string,
  names: unknown,
): { readonly names: readonly string[]; readonly keys: readonly string[] } {
  if (!Array.isArray(names)) {
    throw new LockOptionError('names', 'a lock set is an array of lock names.');
  }
  if (names.length === 0) {
    throw new LockOptionError('names', 'a lock set needs at least one lock name; got an empty array.');
  }
  for (const name of names) checkLockName(name);
  const sorted = [...new Set(names as string[])].sort();
  if (sorted.length > MAX_LOCK_SET_SIZE) {
    throw new LockOptionError(
      'names',
      `a lock set has at most ${MAX_LOCK_SET_SIZE} names, got ${sorted.length}.`,
    );
  }
  const keys = sorted.map((name) => lockKey(prefix, name));
  checkOneSlot(sorted, keys);
  return { names: sorted, keys };
}

/**
 * Refuses members in different Redis Cluster slots: one script reaches one slot. The hash tag of
 * a member's key is its name up to the name's first `}`, so names that start with the same
 * `{tag}` always share a slot.
 */
function checkOneSlot(names: readonly string[], keys: readonly string[]): void {
  const first = keys[0] as string;
  const slot = hashSlot(first);
  const index = keys.findIndex((key) => hashSlot(key) !== slot);
  if (index === -1) return;
  throw new LockOptionError(
    'names',
    `the lock names ${JSON.stringify(names[0])} and ${JSON.stringify(names[index])} hash to different ` +
      `Redis Cluster slots (${slot} and ${hashSlot(keys[index] as string)}, from ` +
      `${JSON.stringify(hashedPart(first))} and ${JSON.stringify(hashedPart(keys[index] as string))}), ` +
      'and a lock set is taken in one script on one server. Start every name of the set with the same ' +
      'hash tag, e.g. "{order:7}:stock" and "{order:7}:payment". (Checked on every deployment, so ' +
      'that the same code runs on one Redis and on a Cluster.)',
  );
}

/**
 * Refuses the options a lock set cannot honour, on the Locker's defaults merged with the call's
 * (`fencing: false` in a call overrides a Locker-wide `fencing: true`).
 */
export function checkLockSetOptions(options: LockOptions): void {
  if (options.fair === true) {
    throw new LockOptionError(
      'fair',
      'a lock set cannot be fair: a fair lock keeps one queue per name, and a set would have to ' +
        'be first in every queue at once. Leave fair unset for lock sets.',
    );
  }
  if (options.fencing === true) {
    throw new LockOptionError(
      'fencing',
      'a lock set has no fencing token: one number cannot increase with the holds of every name of ' +
        'the set (each name counts its own). Set fencing: false for lock sets, or lock each name ' +
        'on its own for a token per name.',
    );
  }
}

/** What Redis shows about a set, from one token's point of view (the multi-inspect reply). */
export function lockSetStatus(reply: unknown, token: string): HoldStatus {
  const [owner, pttl] = Array.isArray(reply) ? reply : [];
  const held = typeof owner === 'string';
  return {
    heldByAnyone: held,
    remainingForToken: held && owner === token ? Math.max(0, Number(pttl)) : 0,
  };
}

/** What a Redlock hold of the set at `keys` runs on each server. */
export function lockSetRedlockHold(keys: readonly string[]): RedlockHold {
  return {
    acquire: MULTI_ACQUIRE_SCRIPT,
    release: MULTI_RELEASE_SCRIPT,
    extend: MULTI_EXTEND_SCRIPT,
    inspect: MULTI_INSPECT_SCRIPT,
    keys,
    inspectKeys: keys,
    channels: keys.map(releaseChannel),
  };
}

/** The protocol of a lock set on one server (or one Cluster slot). @internal */
export class MultiMutexProtocol implements HoldProtocol {
  readonly #runner: ScriptRunner;
  readonly #keys: readonly string[];
  readonly #channels: readonly string[];
  // The member the last attempt found held by someone else: the release worth waking up for.
  #blocker = 0;
  /**
   * A waiter listens on one channel: the release channel of the member that held the set back at
   * its first attempt, on which a set's release publishes. A single lock's release wakes only its
   * own registered waiters, so a set held back by one (or by a member that holds it back later)
   * finds it free at its next retry; the set never sets `keepAliveInterval`, so it keeps polling.
   */
  readonly subscribe: Subscribe | undefined;

  constructor(runner: ScriptRunner, notifier: ReleaseNotifier | undefined, keys: readonly string[]) {
    this.#runner = runner;
    this.#keys = keys;
    this.#channels = keys.map(releaseChannel);
    this.subscribe = subscribeVia(notifier, () => this.#channels[this.#blocker] as string);
  }

  async acquire({ token, ttl, holdCount }: AcquireRequest): Promise<AcquireReply> {
    const reply = await runScript(this.#runner, MULTI_ACQUIRE_SCRIPT, this.#keys, [token, ttl, holdCount]);
    const blocker = Array.isArray(reply) ? Number(reply[3]) - 1 : Number.NaN;
    if (blocker >= 0 && blocker < this.#keys.length) this.#blocker = blocker;
    return parseAcquireReply(reply);
  }

  async release(token: string, holdCount: number): Promise<ReleaseResult> {
    const args = [token, holdCount, ...this.#channels];
    return releaseResult(await runScript(this.#runner, MULTI_RELEASE_SCRIPT, this.#keys, args));
  }

  async extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    const args = [token, ms, replace ? 1 : 0];
    return extendResult(await runScript(this.#runner, MULTI_EXTEND_SCRIPT, this.#keys, args));
  }

  async status(token: string): Promise<HoldStatus> {
    return lockSetStatus(await runScript(this.#runner, MULTI_INSPECT_SCRIPT, this.#keys, []), token);
  }
}
