/**
 * Which locks the current async call chain already holds, so that a nested `withLock` on the same
 * name re-enters instead of waiting for itself until it times out.
 *
 * Uses `AsyncLocalStorage` where the runtime has it (Node ≥ 20.16, Bun, Deno), found through
 * `process.getBuiltinModule` so that core has no static Node import; elsewhere nesting is not
 * detected and a nested call contends like any other.
 */
import type { Lock } from './lock.js';

/**
 * One hold of a lock by a call chain: open while the callback that took it (or re-entered it)
 * runs. Nested entries that are still running when it closes are waited for before the hold is
 * released, so none of them can outlive it.
 */
export interface CallChainHold {
  readonly lock: Lock;
  open: boolean;
  /** Nested entries still running, each settling (never rejecting) when its callback has. */
  readonly nested: Set<Promise<void>>;
}

/** The holds of the current call chain, by lock name. */
export type HeldLocks = ReadonlyMap<string, CallChainHold>;

interface AsyncLocalStorageLike<T> {
  run<R>(store: T, callback: () => R): R;
  getStore(): T | undefined;
}

type AsyncLocalStorageClass = new <T>() => AsyncLocalStorageLike<T>;

/** Tracks held locks per async call chain; a no-op where the runtime offers no async context. */
export class CallChainLocks {
  readonly #storage: AsyncLocalStorageLike<HeldLocks> | undefined;

  constructor() {
    const Storage = findAsyncLocalStorage();
    this.#storage = Storage === undefined ? undefined : new Storage<HeldLocks>();
  }

  /** True when nested calls can be detected in this runtime. */
  get supported(): boolean {
    return this.#storage !== undefined;
  }

  /**
   * The hold of the lock called `name` that a nested call may run inside: the current call chain
   * took it, its callback has not settled yet, and the lock is still held. A call made after that
   * callback settled (from a timer it left behind, say) gets `undefined` and must acquire itself.
   */
  held(name: string): CallChainHold | undefined {
    const hold = this.#storage?.getStore()?.get(name);
    return hold?.open === true && hold.lock.isHeld ? hold : undefined;
  }

  /**
   * Runs `callback` with `lock` recorded as held by its call chain; settles once the callback and
   * every nested entry it started have settled.
   */
  async runHolding<R>(lock: Lock, callback: () => R): Promise<Awaited<R>> {
    return this.#run({ lock, open: true, nested: new Set() }, callback);
  }

  /** Runs `callback` inside `outer` (a re-entry by the same call chain), which waits for it. */
  runNested<R>(outer: CallChainHold, callback: () => R): Promise<Awaited<R>> {
    const running = this.#run({ lock: outer.lock, open: true, nested: new Set() }, callback);
    const settled = running.then(
      () => {},
      () => {},
    );
    outer.nested.add(settled);
    void settled.then(() => outer.nested.delete(settled));
    return running;
  }

  async #run<R>(hold: CallChainHold, callback: () => R): Promise<Awaited<R>> {
    const storage = this.#storage;
    try {
      if (storage === undefined) return await callback();
      const held = new Map(storage.getStore());
      held.set(hold.lock.name, hold);
      return await storage.run(held, callback);
    } finally {
      hold.open = false;
      while (hold.nested.size > 0) await Promise.all([...hold.nested]);
    }
  }
}

function findAsyncLocalStorage(): AsyncLocalStorageClass | undefined {
  const runtime = globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  const asyncHooks = runtime.process?.getBuiltinModule?.('node:async_hooks') as
    | { AsyncLocalStorage?: AsyncLocalStorageClass }
    | undefined;
  return asyncHooks?.AsyncLocalStorage;
}
