import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AcquireReply,
  type AcquireRequest,
  type ExtendResult,
  type HoldProtocol,
  type HoldStatus,
  NOT_HELD,
  RELEASED,
  type ReleaseResult,
} from '../src/deployments/protocol.js';
import { LockAcquireError, type LockLostError, LockReleasedError } from '../src/errors.js';
import type { LockHooks } from '../src/handle/hooks.js';
import { Lock } from '../src/handle/lock.js';
import { type LockOptions, resolveLockOptions } from '../src/options.js';

/**
 * One in-memory hold, on the fake clock: the state machine of `Lock` is driven through it
 * without Redis. What Redis really does is for the real-Redis suites.
 */
class FakeProtocol implements HoldProtocol {
  owner: string | undefined;
  holdCount = 0;
  expiresAt = 0;
  readonly calls: string[] = [];
  /** When set, the next acquire waits for this before answering. */
  gate: Promise<void> | undefined;
  readonly subscribe = undefined;

  async acquire({ token, ttl, holdCount }: AcquireRequest): Promise<AcquireReply> {
    this.calls.push(`acquire ${holdCount}`);
    const gate = this.gate;
    this.gate = undefined;
    if (gate !== undefined) await gate;
    this.#expire();
    if (this.owner !== undefined && this.owner !== token) {
      return { acquired: false, fencingToken: undefined, queued: false };
    }
    this.owner = token;
    this.holdCount = holdCount;
    this.expiresAt = Date.now() + ttl;
    return { acquired: true, fencingToken: undefined, queued: false };
  }

  async release(token: string, holdCount: number): Promise<ReleaseResult> {
    this.calls.push(`release ${holdCount}`);
    this.#expire();
    if (this.owner !== token) return NOT_HELD;
    if (holdCount === 0) {
      this.owner = undefined;
      this.holdCount = 0;
      return RELEASED;
    }
    this.holdCount = holdCount;
    return { kind: 'still-held', holdCount };
  }

  async extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    this.calls.push(`extend ${ms}${replace ? ' replace' : ''}`);
    this.#expire();
    if (this.owner === undefined) return { kind: 'gone' };
    if (this.owner !== token) return { kind: 'taken' };
    this.expiresAt = replace ? Date.now() + ms : this.expiresAt + ms;
    return { kind: 'extended', remaining: this.expiresAt - Date.now() };
  }

  async status(token: string): Promise<HoldStatus> {
    this.#expire();
    return {
      heldByAnyone: this.owner !== undefined,
      remainingForToken: this.owner === token ? this.expiresAt - Date.now() : 0,
    };
  }

  /** Another client takes the hold. */
  steal(): void {
    this.owner = 'someone-else';
    this.expiresAt = Date.now() + 60_000;
  }

  #expire(): void {
    if (this.owner !== undefined && Date.now() >= this.expiresAt) this.owner = undefined;
  }
}

function newLock(options: LockOptions = {}, hooks: LockHooks = {}): { lock: Lock; protocol: FakeProtocol } {
  const protocol = new FakeProtocol();
  const resolved = resolveLockOptions({ ttl: 1_000, autoRenewal: false, ...options }, undefined);
  const lock = new Lock({ name: 'job', key: 'p:{job}', options: resolved, hooks, protocol });
  return { lock, protocol };
}

describe('Lock state machine (fake protocol, fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('unlocked → acquiring → held → released, aborting the signal once', async () => {
    const events: string[] = [];
    const { lock, protocol } = newLock(
      {},
      {
        onAcquired: () => events.push('acquired'),
        onReleased: () => events.push('released'),
        onLost: () => events.push('lost'),
      },
    );
    expect(lock.state).toBe('unlocked');
    const acquiring = lock.acquire();
    expect(lock.state).toBe('acquiring');
    expect(await acquiring).toBe(true);
    expect(lock).toMatchObject({ state: 'held', isHeld: true, holdCount: 1 });
    expect(lock.signal.aborted).toBe(false);

    expect(await lock.release()).toBe(true);
    expect(lock).toMatchObject({ state: 'released', isHeld: false, holdCount: 0 });
    expect(lock.signal.aborted).toBe(true);
    expect(lock.signal.reason).toSatisfy(LockReleasedError.isInstance);
    expect(protocol.calls).toEqual(['acquire 1', 'release 0']);
    expect(events).toEqual(['acquired', 'released']);
    await expect(lock.acquire()).rejects.toMatchObject({ name: 'LockMisuseError' });
  });

  it('extend adds time, or sets it with replace, and reports the remaining time', async () => {
    const remaining: number[] = [];
    const { lock, protocol } = newLock({}, { onExtended: (event) => remaining.push(event.remaining) });
    await lock.acquire();
    await vi.advanceTimersByTimeAsync(400);
    expect(await lock.extend(500)).toBe(true);
    expect(await lock.extend(2_000, { replace: true })).toBe(true);
    expect(remaining).toEqual([1_100, 2_000]);
    expect(protocol.calls.slice(1)).toEqual(['extend 500', 'extend 2000 replace']);
    // The local deadline moved too: still held past the original ttl.
    await vi.advanceTimersByTimeAsync(1_500);
    expect(lock.state).toBe('held');
  });

  it('is lost as expired when its ttl runs out without renewal', async () => {
    const lost: LockLostError[] = [];
    const { lock } = newLock({}, { onLost: (event) => lost.push(event.error) });
    await lock.acquire();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lock.state).toBe('lost');
    expect((lock.signal.reason as LockLostError).reason).toBe('expired');
    expect(lost.map((error) => error.reason)).toEqual(['expired']);
    expect(await lock.extend(100)).toBe(false);
  });

  it('is lost as taken when an extend finds another owner', async () => {
    const { lock, protocol } = newLock();
    await lock.acquire();
    protocol.steal();
    expect(await lock.extend(100)).toBe(false);
    expect(lock.state).toBe('lost');
    expect((lock.signal.reason as LockLostError).reason).toBe('taken');
    // A lost handle may still be released (a no-op on someone else's hold).
    expect(await lock.release()).toBe(false);
  });

  it('is lost as taken when the hold vanished before its own deadline', async () => {
    const early = newLock();
    await early.lock.acquire();
    early.protocol.owner = undefined;
    expect(await early.lock.extend(100)).toBe(false);
    expect((early.lock.signal.reason as LockLostError).reason).toBe('taken');
  });

  it('is lost as taken when a release finds the hold is not this handle’s', async () => {
    const { lock, protocol } = newLock();
    await lock.acquire();
    protocol.steal();
    expect(await lock.release()).toBe(false);
    expect(lock.state).toBe('lost');
    expect((lock.signal.reason as LockLostError).reason).toBe('taken');
  });

  it('release during acquire rejects the acquire with LOCK_ACQUIRE_ABORTED and gives back what it took', async () => {
    const { lock, protocol } = newLock();
    let open: () => void = () => {};
    protocol.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const acquiring = lock.acquire();
    const rejected = acquiring.catch((error: unknown) => error);
    expect(lock.state).toBe('acquiring');
    const releasing = lock.release();
    open();
    const error = await rejected;
    expect(LockAcquireError.isInstance(error) && error.code).toBe('LOCK_ACQUIRE_ABORTED');
    expect(await releasing).toBe(false);
    expect(lock.state).toBe('unlocked');
    expect(protocol.owner).toBeUndefined();
    expect(protocol.calls).toEqual(['acquire 1', 'release 0']);
  });

  it('counts re-entries of a reentrant handle and frees the hold at the last release', async () => {
    const { lock, protocol } = newLock({ reentrant: true });
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire()).toBe(true);
    expect(lock.holdCount).toBe(2);
    expect(protocol.holdCount).toBe(2);

    expect(await lock.release()).toBe(true);
    expect(lock).toMatchObject({ state: 'held', holdCount: 1 });
    expect(protocol.owner).toBe(lock.token);

    expect(await lock.release()).toBe(true);
    expect(lock).toMatchObject({ state: 'released', holdCount: 0 });
    expect(protocol.calls).toEqual(['acquire 1', 'acquire 2', 'release 1', 'release 0']);
  });

  it('concurrent releases of a twice-entered handle each leave one entry', async () => {
    const { lock } = newLock({ reentrant: true });
    await lock.acquire();
    await lock.acquire();
    expect(await Promise.all([lock.release(), lock.release()])).toEqual([true, true]);
    expect(lock.state).toBe('released');
  });

  it('a non-reentrant handle refuses a second acquire', async () => {
    const { lock } = newLock();
    await lock.acquire();
    await expect(lock.acquire()).rejects.toMatchObject({ name: 'LockMisuseError' });
  });

  it('await using releases every entry', async () => {
    const { lock, protocol } = newLock({ reentrant: true });
    await lock.acquire();
    await lock.acquire();
    await lock[Symbol.asyncDispose]();
    expect(lock.state).toBe('released');
    expect(protocol.calls.at(-1)).toBe('release 0');
  });
});
