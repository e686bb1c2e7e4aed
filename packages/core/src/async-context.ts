/**
 * Which locks the current async call chain already holds, so that a nested `withLock` on the same
 * name re-enters instead of waiting for itself until it times out.
 *
 * Uses `AsyncLocalStorage` where the runtime has it (Node ≥ 20.16, Bun, Deno), found through
 * `process.getBuiltinModule` so that core has no static Node import; elsewhere nesting is not
 * detected and a nested call contends like any other.
 */
import type { Lock } from './lock.js';

/** The locks held by the current call chain, by lock name. */
export type HeldLocks = ReadonlyMap<string, Lock>;

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

  /** The lock called `name` that the current call chain holds, if any. */
  held(name: string): Lock | undefined {
    const lock = this.#storage?.getStore()?.get(name);
    return lock?.isHeld ? lock : undefined;
  }

  /** Runs `callback` with `lock` recorded as held by its call chain. */
  runHolding<R>(lock: Lock, callback: () => R): R {
    if (this.#storage === undefined) return callback();
    const held = new Map(this.#storage.getStore());
    held.set(lock.name, lock);
    return this.#storage.run(held, callback);
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
